"""The runner registry: every runner the harness knows, built-in and contributed."""

from __future__ import annotations

from dataclasses import dataclass, field

from fusevm.bench.peers import peer_runners
from fusevm.bench.runners import (
    JitRunner,
    PythonRunner,
    Runner,
    VmJitRunner,
    fusion_runners,
    interp_runners,
)
from fusevm.bench.workloads import jit_module


@dataclass
class Registry:
    """Runners in column order, plus messages about runners that could not be loaded."""

    runners: list[Runner] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def default_runners() -> Registry:
    """Every known runner: interpreter and baseline tier, Python and the peers, the fusion
    columns, JIT tiers, then jit_workloads.RUNNERS.

    A contributed runner with the name of a built-in one replaces it in place.
    """
    reg = Registry([*interp_runners(), PythonRunner(), *peer_runners(), *fusion_runners(),
                    JitRunner("linear"), JitRunner("block"), VmJitRunner()])
    module, error = jit_module()
    if error is not None:
        reg.warnings.append(error)
    for r in getattr(module, "RUNNERS", ()):
        if not isinstance(r, Runner) or not r.name:
            reg.warnings.append(f"jit_workloads: skipped runner {getattr(r, 'name', r)!r} "
                                "(not a fusevm.bench.runners.Runner)")
            continue
        at = [i for i, old in enumerate(reg.runners) if old.name == r.name]
        if at:
            reg.runners[at[0]] = r
        else:
            reg.runners.append(r)
    return reg
