"""JitCompiler, dump(), stats() and wait_reoptimized(), re-exported by `fusevm.jit`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fusevm.chunk import Chunk
from fusevm.errors import VMError
from fusevm.jit import cache, runtime
from fusevm.jit.config import TraceJitConfig, get_config, set_config
from fusevm.jit.eligibility import TIERS, refusal, static_refusal, tier_module
from fusevm.jit.plan import describe
from fusevm.jit.policy import jit_usable, llvmlite_available
from fusevm.jit.trace import tier as trace_tier
from fusevm.jit.trace.meta import TraceMetadata
from fusevm.values import Undef

__all__ = ["JitCompiler", "dump", "stats", "wait_reoptimized"]


def _chunk(chunk: Chunk) -> Chunk:
    """`chunk`, which must be one: TypeError otherwise (not a failure deep inside)."""
    if not isinstance(chunk, Chunk):
        raise TypeError(f"expected a Chunk, not {type(chunk).__name__}")
    return chunk


def dump(chunk: Chunk) -> str:
    """The tier decision per chunk (and sub-chunk) and the LLVM IR of its unit."""
    return describe(_chunk(chunk))


def stats() -> dict[str, dict[str, float]]:
    """Counters per tier: compiles, compile_ms, runs, cache_hits, deopts, refusals, ...;
    and "disk": the disk cache's loads, load_ms, stores, misses, rejects, evictions."""
    table = runtime.stats()
    for tier in TIERS:
        table.setdefault(tier, runtime.TierStats().as_dict())
    # The trace tier: its units' counters plus recordings, aborts, side exits, ...
    table.setdefault("trace", runtime.TierStats().as_dict()).update(
        trace_tier.stats())
    table["disk"] = cache.stats()
    from fusevm.baseline import compiler as baseline
    table["baseline"] = baseline.stats()
    return table


def wait_reoptimized(timeout: float | None = None) -> bool:
    """Wait until queued background re-optimisations are installed (benchmarks, tests)."""
    if not llvmlite_available():
        return True
    from fusevm.jit.codegen import REOPTIMIZER
    return REOPTIMIZER.wait(timeout)


class JitCompiler:
    """A stateless handle on the process-wide JIT tables (docs/tiers.md)."""

    # -- eligibility --------------------------------------------------------------------

    def why_not(self, chunk: Chunk, tier: str = "block", slots: list[Any] | None = None,
                *, strict_int: bool = False) -> str | None:
        """None when `tier` compiles the chunk for these slots (None: a fresh VM's), else why.

        The answer names the first op that refuses and the reason, e.g.
        `op 4 (Concat): no lowering rule for Concat`.
        """
        tier_module(tier)
        try:
            an = runtime.analysis(_chunk(chunk))
        except VMError as e:
            return f"the chunk does not verify: {e}"
        return refusal(an, tier, slots, strict_int)

    def why_not_regions(self, chunk: Chunk, tier: str | None = None) -> dict[int, str | None]:
        """Per hot point (loop header, function entry, block start): None when a native
        tier (only `tier`, when given) takes the region entered there, else why not."""
        if tier is not None:
            tier_module(tier)
        from fusevm.jit.plan import region_refusals
        return region_refusals(_chunk(chunk), tier)

    def is_linear_eligible(self, chunk: Chunk, slots: list[Any] | None = None) -> bool:
        return self.why_not(chunk, "linear", slots) is None

    def is_block_eligible(self, chunk: Chunk, slots: list[Any] | None = None) -> bool:
        return self.why_not(chunk, "block", slots) is None

    def block_jit_is_compiled(self, chunk: Chunk) -> bool:
        """True when some kind variant of the chunk has a compiled block unit."""
        digest = _chunk(chunk).digest()
        return any(k[0] == digest and k[1] == "block" and e.unit is not None
                   for k, e in runtime.entries())

    # -- running -----------------------------------------------------------------------------

    def _run(self, tier: str, chunk: Chunk, slots: list[Any] | None, strict_int: bool,
             threshold: int) -> Any:
        _chunk(chunk)
        if slots is not None and not isinstance(slots, (list, tuple)):
            raise TypeError(f"slots must be a list (or None), not {type(slots).__name__}")
        if not jit_usable(announce=False):
            return None
        try:
            an = runtime.analysis(chunk)
        except VMError:
            return None
        refused = an.static_refusal.get(tier, "")
        if refused == "":
            refused = static_refusal(an, tier)
        if refused is not None:
            return None
        work: list[Any] = slots if type(slots) is list else list(slots or ())
        if len(work) < an.nslots:
            work.extend([Undef] * (an.nslots - len(work)))
        results = runtime.run(TIERS[tier], an, work, strict_int, threshold)
        return results[-1] if results else None

    def try_run_linear(self, chunk: Chunk, slots: list[Any] | None = None, *,
                       strict_int: bool = False) -> Any:
        """Run a straight-line chunk natively (compiles on the first call).

        Returns its one result as a Python value (Bool stays bool), or None when the tier
        did not run (not eligible, refused, or deoptimised: interpret it then). Slots the
        chunk writes are updated in `slots` (a list; it grows with Undef if too short).
        """
        return self._run("linear", chunk, slots, strict_int, 0)

    def try_run_block(self, chunk: Chunk, slots: list[Any] | None = None, *,
                      strict_int: bool = False) -> Any:
        """Run a chunk in the block tier once warm (`block_threshold` calls per kind vector).

        Returns the top of the final stack, or None when the tier did not run (warming
        up, not eligible, refused, deoptimised) or the chunk left an empty stack.
        """
        return self._run("block", chunk, slots, strict_int, get_config().block_threshold)

    def try_run_block_eager(self, chunk: Chunk, slots: list[Any] | None = None, *,
                            strict_int: bool = False) -> Any:
        """try_run_block with threshold 0: compiles on the first call."""
        return self._run("block", chunk, slots, strict_int, 0)

    # -- configuration and counters ----------------------------------------------------------

    def stats(self) -> dict[str, dict[str, float]]:
        return stats()

    def get_config(self) -> TraceJitConfig:
        return get_config()

    def set_config(self, config: TraceJitConfig) -> TraceJitConfig:
        return set_config(config)

    @property
    def tiers(self) -> tuple[str, ...]:
        return tuple(TIERS)

    # -- the disk cache (jit/cache/) ------------------------------------------------------

    def set_jit_cache_dir(self, path: str | Path | None) -> None:
        """Cache compiled code in `path`; None clears the override (the environment or
        the default decides again). `disable_jit_cache()` turns the cache off."""
        cache.set_dir(path)

    def disable_jit_cache(self, disabled: bool = True) -> None:
        """Turn the disk cache off (or back on) for this process."""
        if type(disabled) is not bool:
            raise TypeError(f"disabled must be a bool, not {type(disabled).__name__}")
        cache.set_enabled(not disabled)

    def jit_cache_dir(self) -> Path | None:
        """The directory in use, or None when the cache is off."""
        return cache.cache_dir()

    def set_jit_cache_max_bytes(self, n: int | None) -> None:
        """Cap the cache at n bytes (None or 0: no cap); 80 % remain after an eviction."""
        cache.set_max_bytes(n)

    def jit_cache_size_bytes(self) -> int | None:
        """Bytes the cache's entries take (None when the cache is off)."""
        return cache.size_bytes()

    def prune_jit_cache(self) -> int:
        """Evict least recently used entries down to 80 % of the cap; the bytes freed."""
        return cache.prune()

    def clear_jit_cache(self) -> int:
        """Delete every entry; the number of entries removed."""
        return cache.clear()

    # -- traces ------------------------------------------------------------------------------

    def trace_export_all(self) -> list[TraceMetadata]:
        """Metadata of every compiled trace (`m.to_json()` for a JSON-ready dict)."""
        return trace_tier.export_all()

    def trace_import_all(self, metas: list[TraceMetadata]) -> int:
        """Install traces from metadata: compiled when their chunk next reaches the loop,
        without recording. Returns how many were accepted."""
        return trace_tier.import_all(metas)

    def trace_abort_reasons(self) -> dict[str, int]:
        """How many recordings aborted, by reason (`fusevm.jit.trace.states.Abort`)."""
        return trace_tier.abort_reasons()

    def trace_reset(self) -> None:
        """Forget every trace and the trace counters (tests, benchmarks)."""
        trace_tier.reset()
