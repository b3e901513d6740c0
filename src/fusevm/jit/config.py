"""JIT configuration: `TraceJitConfig` and the ONLY place the FUSEVM_JIT_* variables are read.

The configuration is per thread: each thread starts from the environment's (read once, on
the first `get_config()` of the process), and `set_config()` replaces the calling thread's
only (tests and frontends use it to force a tier), so two threads running VMs with
different knobs do not see each other's. `using(cfg)` sets one for a `with` block (work
done on another thread for this one, such as storing a re-optimised unit).

| Variable | Effect |
|---|---|
| FUSEVM_JIT=off | every tier off: the interpreter runs everything |
| FUSEVM_JIT_BLOCK_THRESHOLD | u32: interpreted runs before the block/linear unit compiles |
| FUSEVM_JIT_REGION_THRESHOLD | u32: entries of a hot point before its region compiles |
| FUSEVM_JIT_TRACE_THRESHOLD | u32: backedges before a trace is recorded |
| FUSEVM_JIT_CACHE_DIR | a directory, or off/""/0/no/none/false/disabled |
| FUSEVM_JIT_CACHE_MAX_BYTES | bytes with optional k/m/g; 0/off/none/unlimited = no cap |
| FUSEVM_JIT_REOPT | u32: runs of a unit before it is re-optimised (0/off = never) |

Garbage values are ignored (the default stays), as the original does.
"""

from __future__ import annotations

import _thread  # (threading's import costs start-up: its lock and local are these)
import os
import sys

from fusevm.records import dataclass, replace

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path
    from typing import Any, Final

#: The IR pipelines a compile may run (`fusevm.jit.codegen`).
PIPELINES: Final = ("none", "lite", "O2")
#: The configuration's counts (thresholds, limits), each an int 0..2**32-1.
_COUNTS: Final = ("block_threshold", "region_threshold", "trace_threshold", "max_side_exits",
                  "max_inline_recursion", "max_trace_chain", "max_trace_len", "reopt_after",
                  "max_units")
_DISABLED_WORDS: Final = frozenset({"", "off", "0", "no", "none", "false", "disabled"})
_UNLIMITED_WORDS: Final = frozenset({"0", "off", "none", "unlimited"})


@dataclass(frozen=True, slots=True)
class TraceJitConfig:
    """Knobs of all JIT tiers. Documented in docs/tiers.md."""

    enabled: bool = True
    block_threshold: int = 1  # runs interpreted before compiling; 0 = compile on the first
    #: Entries of a hot point (loop iterations, calls) interpreted before the region
    #: starting there is compiled (during the run that makes it hot).
    region_threshold: int = 50
    trace_threshold: int = 50
    max_side_exits: int = 50
    max_inline_recursion: int = 4
    max_trace_chain: int = 4
    max_trace_len: int = 256
    cache_enabled: bool = True
    cache_dir: str | Path | None = None  # None = the default directory
    cache_max_bytes: int | None = 256 << 20  # None = no cap
    #: First compile: IR pipeline ("none", "lite", "O2") and codegen level (0..3).
    first_pipeline: str = "none"
    first_codegen: int = 0
    #: Units that run this many times, or spend `reopt_after_seconds` in native code
    #: before that, are recompiled with `reopt_pipeline`; reopt_after = 0: never.
    reopt_after: int = 8
    reopt_after_seconds: float = 0.002
    reopt_pipeline: str = "O2"
    reopt_codegen: int = 2
    reopt_background: bool = True  # False: re-optimise synchronously (tests, benchmarks)
    max_units: int = 4096  # in-memory units kept (least recently compiled dropped first)

    def replace(self, **changes: object) -> TraceJitConfig:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


def _u32(text: str | None) -> int | None:
    if text is None:
        return None
    t = text.strip()
    if not t.isdigit():
        return None
    n = int(t)
    return n if n <= 0xFFFF_FFFF else None


def parse_size(text: str) -> int | None:
    """`123`, `64k`, `256m`, `2g` in bytes; None for the unlimited words; ValueError else."""
    t = text.strip().lower()
    if t in _UNLIMITED_WORDS:
        return None
    scale = 1
    if t and t[-1] in "kmg":
        scale = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}[t[-1]]
        t = t[:-1].strip()
    if not t.isdigit():
        raise ValueError(f"not a size: {text!r}")
    return int(t) * scale


def from_env(env: Mapping[str, str] | None = None) -> TraceJitConfig:
    """Build a configuration from the environment (os.environ by default)."""
    e = os.environ if env is None else env
    cfg = TraceJitConfig()
    changes: dict[str, object] = {}
    if e.get("FUSEVM_JIT", "").strip().lower() in _DISABLED_WORDS - {""}:
        changes["enabled"] = False
    block = _u32(e.get("FUSEVM_JIT_BLOCK_THRESHOLD"))
    if block is not None:
        changes["block_threshold"] = block
    region = _u32(e.get("FUSEVM_JIT_REGION_THRESHOLD"))
    if region is not None:
        changes["region_threshold"] = region
    trace = _u32(e.get("FUSEVM_JIT_TRACE_THRESHOLD"))
    if trace is not None:
        changes["trace_threshold"] = trace
    cache_dir = e.get("FUSEVM_JIT_CACHE_DIR")
    if cache_dir is not None:
        if cache_dir.strip().lower() in _DISABLED_WORDS:
            changes["cache_enabled"] = False
        else:
            changes["cache_dir"] = cache_dir
    max_bytes = e.get("FUSEVM_JIT_CACHE_MAX_BYTES")
    if max_bytes is not None:
        try:
            changes["cache_max_bytes"] = parse_size(max_bytes)
        except ValueError:
            pass
    reopt = e.get("FUSEVM_JIT_REOPT")
    if reopt is not None:
        if reopt.strip().lower() in _DISABLED_WORDS:
            changes["reopt_after"] = 0
        else:
            runs = _u32(reopt)
            if runs is not None:
                changes["reopt_after"] = runs
    return cfg.replace(**changes)


def default_cache_path(env: Mapping[str, str] | None = None) -> str:
    """$XDG_CACHE_HOME/fusevm-jit, else ~/.cache/fusevm-jit (a string: the cache's read
    path loads no pathlib)."""
    e = os.environ if env is None else env
    base = e.get("XDG_CACHE_HOME") or os.path.join(e.get("HOME") or "~", ".cache")
    return os.path.join(os.path.expanduser(base), "fusevm-jit")


_lock = _thread.allocate_lock()
_env: TraceJitConfig | None = None
_local = _thread._local()


def env_config() -> TraceJitConfig:
    """The environment's configuration: what every thread starts with (read once)."""
    global _env
    cfg = _env
    if cfg is None:
        with _lock:
            if _env is None:
                _env = from_env()
            cfg = _env
    return cfg


def find_spec(name: str) -> Any:
    """The import spec of top-level module `name` (None: it cannot be imported), as
    `importlib.util.find_spec` gives it, without importing importlib.util (which loads
    contextlib, a start-up cost). Whether the JIT can run and the disk cache's key both
    ask it about llvmlite, whose import costs tens of milliseconds."""
    if name in sys.modules:
        module = sys.modules[name]
        return None if module is None else module.__spec__  # None: the import is blocked
    for finder in sys.meta_path:
        find = getattr(finder, "find_spec", None)
        spec = None if find is None else find(name, None)
        if spec is not None:
            return spec
    return None


def get_config() -> TraceJitConfig:
    """The calling thread's configuration (the environment's until it sets its own)."""
    try:
        cfg: TraceJitConfig = _local.cfg
    except AttributeError:
        cfg = _local.cfg = env_config()
    return cfg


def check(cfg: TraceJitConfig) -> None:
    """TypeError or ValueError for a configuration with a field the tiers cannot use
    (the environment's values are checked as they are read)."""
    if not isinstance(cfg, TraceJitConfig):
        raise TypeError(f"expected a TraceJitConfig, got {type(cfg).__name__}")
    for name in _COUNTS:
        value = getattr(cfg, name)
        if type(value) is not int or not 0 <= value <= 0xFFFF_FFFF:
            raise ValueError(f"TraceJitConfig.{name} must be an int 0..2**32-1, not "
                             f"{value!r:.40}")
    for name in ("enabled", "cache_enabled", "reopt_background"):
        if type(getattr(cfg, name)) is not bool:
            raise TypeError(f"TraceJitConfig.{name} must be a bool, not "
                            f"{getattr(cfg, name)!r:.40}")
    for name in ("first_pipeline", "reopt_pipeline"):
        if getattr(cfg, name) not in PIPELINES:
            raise ValueError(f"TraceJitConfig.{name} must be one of {', '.join(PIPELINES)}, "
                             f"not {getattr(cfg, name)!r:.40}")
    for name in ("first_codegen", "reopt_codegen"):
        if getattr(cfg, name) not in (0, 1, 2, 3) or type(getattr(cfg, name)) is not int:
            raise ValueError(f"TraceJitConfig.{name} must be a codegen level 0..3, not "
                             f"{getattr(cfg, name)!r:.40}")
    seconds = cfg.reopt_after_seconds
    if type(seconds) not in (int, float) or not 0 <= seconds < float("inf"):
        raise ValueError(f"TraceJitConfig.reopt_after_seconds must be a number of seconds, "
                         f"not {seconds!r:.40}")
    if cfg.cache_dir is not None and not isinstance(cfg.cache_dir, (str, os.PathLike)):
        raise TypeError(f"TraceJitConfig.cache_dir must be a path or None, not "
                        f"{cfg.cache_dir!r:.40}")
    limit = cfg.cache_max_bytes
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ValueError(f"TraceJitConfig.cache_max_bytes must be an int of at least 0 or "
                         f"None, not {limit!r:.40}")


def set_config(cfg: TraceJitConfig) -> TraceJitConfig:
    """Replace the calling thread's configuration; returns the previous one (TypeError or
    ValueError, and nothing replaced, for one `check` refuses)."""
    check(cfg)
    old = get_config()
    _local.cfg = cfg
    return old


class using:  # noqa: N801 - used as a function: `with using(cfg):`
    """Run a `with` block under `cfg` in this thread, then restore the previous one.

    A class rather than `contextlib.contextmanager`, which costs start-up its import."""

    __slots__ = ("_cfg", "_old")

    def __init__(self, cfg: TraceJitConfig) -> None:
        self._cfg = cfg
        self._old: TraceJitConfig | None = None

    def __enter__(self) -> None:
        self._old = set_config(self._cfg)

    def __exit__(self, *exc: object) -> None:
        assert self._old is not None
        set_config(self._old)
