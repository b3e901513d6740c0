"""Imported when the JIT's tiers load (`fusevm.jit.policy.load_with_tiers`): the SIGINT
watcher threads of the running `sigint_interrupts` blocks start then, before any native
code can hold the main thread."""

from __future__ import annotations

from fusevm.interp.signals import start_watchers

start_watchers()
