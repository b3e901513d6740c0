"""One place decides: tier order, thresholds, configuration, the log, dump and stats."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from jitkit import asm, runs

from conftest import requires_llvmlite
from fusevm import VM
from fusevm.jit import (
    JitCompiler,
    dump,
    get_config,
    policy,
    runtime,
    set_config,
    set_log,
    stats,
)
from fusevm.jit.config import from_env, parse_size
from fusevm.jit.hook import PendingHook
from fusevm.jit.policy import JitHook
from fusevm.values import Undef

LOOP = ("LoadInt 0\nSetSlot 0\ntop:\nPreIncSlotVoid 0\nGetSlot 0\nLoadInt 1000\nNumLt\n"
        "JumpIfTrue top\nGetSlot 0\n")


@pytest.fixture
def log() -> Iterator[list[str]]:
    lines: list[str] = []
    set_log(lines.append)
    yield lines
    set_log(None)


# -- configuration (no llvmlite needed) -------------------------------------------------

def test_environment_variables_are_parsed_in_one_place() -> None:
    cfg = from_env({"FUSEVM_JIT_BLOCK_THRESHOLD": " 0 ", "FUSEVM_JIT_TRACE_THRESHOLD": "7",
                    "FUSEVM_JIT_CACHE_DIR": "/tmp/x", "FUSEVM_JIT_CACHE_MAX_BYTES": "64m",
                    "FUSEVM_JIT_REOPT": "off"})
    assert (cfg.block_threshold, cfg.trace_threshold, cfg.reopt_after) == (0, 7, 0)
    assert str(cfg.cache_dir) == "/tmp/x" and cfg.cache_max_bytes == 64 << 20
    assert from_env({"FUSEVM_JIT": "off"}).enabled is False
    assert from_env({"FUSEVM_JIT": ""}).enabled is True


def test_garbage_values_keep_the_defaults() -> None:
    cfg = from_env({"FUSEVM_JIT_BLOCK_THRESHOLD": "-3", "FUSEVM_JIT_TRACE_THRESHOLD": "many",
                    "FUSEVM_JIT_CACHE_MAX_BYTES": "lots"})
    assert (cfg.block_threshold, cfg.trace_threshold) == (1, 50)
    assert cfg.cache_max_bytes == 256 << 20
    for word in ("", "off", "0", "none", "disabled"):
        assert from_env({"FUSEVM_JIT_CACHE_DIR": word}).cache_enabled is False
    assert parse_size("unlimited") is None and parse_size("2k") == 2048


def decided(vm: VM) -> object:
    """The hook that answers for `vm`'s native tiers once decided (see jit/hook.py)."""
    hook = vm._tiers
    return hook.resolve(vm) if isinstance(hook, PendingHook) else hook


def test_jit_off_runs_everything_in_the_interpreter(log: list[str]) -> None:
    set_config(get_config().replace(enabled=False))
    vm = VM(asm(LOOP))
    vm.enable_jit()
    assert vm.run() == 1000 and not isinstance(decided(vm), JitHook)
    assert any("FUSEVM_JIT=off" in line for line in log)
    assert JitCompiler().try_run_block(asm(LOOP)) is None


def test_without_llvmlite_the_vm_says_so_once_and_interprets(
        monkeypatch: pytest.MonkeyPatch, log: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(policy, "_available", False)
    runtime._said.discard(("config", "no-llvmlite"))
    with caplog.at_level(logging.WARNING, logger="fusevm.jit"):
        for _ in range(3):
            vm = VM(asm(LOOP))
            vm.enable_jit()
            assert vm.run() == 1000 and not isinstance(decided(vm), JitHook)
    assert sum("llvmlite is not installed" in r.message for r in caplog.records) == 1
    assert JitCompiler().why_not(asm(LOOP), "block") is None  # eligibility still works


# -- tiers, thresholds, stats -------------------------------------------------------------

@requires_llvmlite
def test_block_threshold_one_compiles_on_the_second_run() -> None:
    # Whole-run units only: no loop gets hot enough for a region of its own.
    set_config(get_config().replace(block_threshold=1, region_threshold=10**9))
    chunk = asm(LOOP.replace("1000", "1001"))
    before = runs("block")
    vm = VM(chunk)
    vm.enable_jit()
    assert vm.run() == 1001 and runs("block") == before
    vm = VM(chunk)
    vm.enable_jit()
    assert vm.run() == 1001 and runs("block") == before + 1


@requires_llvmlite
def test_threshold_zero_compiles_on_the_first_run() -> None:
    chunk = asm(LOOP.replace("1000", "1002"))
    before = stats().get("block", {}).get("compiles", 0)
    vm = VM(chunk)
    vm.enable_jit()
    assert vm.run() == 1002
    assert stats()["block"]["compiles"] == before + 1


@requires_llvmlite
def test_straight_line_chunks_go_to_the_linear_tier(log: list[str]) -> None:
    vm = VM(asm("LoadInt 6\nLoadInt 7\nMul\n", source="mul.fasm"))
    vm.enable_jit()
    assert vm.run() == 42
    assert "mul.fasm: linear tier chosen" in log
    assert any(line.startswith("mul.fasm: linear unit compiled in") for line in log)


@requires_llvmlite
def test_refusals_are_logged_with_the_first_refusing_op(log: list[str]) -> None:
    vm = VM(asm('LoadConst "a"\nLoadConst "b"\nConcat\n', source="cat.fasm"))
    vm.enable_jit()
    assert vm.run() == "ab"
    assert ("cat.fasm: interpreter (linear: op 2 (Concat): no lowering rule for Concat; "
            "block: op 2 (Concat): no lowering rule for Concat)") in log


@requires_llvmlite
def test_try_run_entry_points() -> None:
    jit = JitCompiler()
    assert jit.try_run_linear(asm("GetSlot 0\nLoadInt 2\nMul\n"), [21]) == 42
    assert jit.try_run_linear(asm("GetSlot 0\nLoadInt 2\nNumLt\n"), [1]) is True
    slots = [5]
    assert jit.try_run_block(asm("GetSlot 0\nInc\nSetSlot 0\nGetSlot 0\n"), slots) == 6
    assert slots == [6]
    grow: list[object] = []
    assert jit.try_run_block_eager(asm("LoadFloat 1.5\nSetSlot 2\nGetSlot 2\n"), grow) == 1.5
    assert grow == [Undef, Undef, 1.5]
    assert jit.try_run_linear(asm("top:\nLoadInt 1\nJumpIfFalse top\nLoadInt 3\n")) is None
    assert jit.block_jit_is_compiled(asm("GetSlot 0\nInc\nSetSlot 0\nGetSlot 0\n"))


@requires_llvmlite
def test_a_unit_that_keeps_deoptimising_is_abandoned() -> None:
    chunk = asm("LoadInt 1\nGetSlot 0\nDiv\n")
    for _ in range(runtime.MAX_CONSECUTIVE_DEOPTS + 3):
        vm = VM(chunk)
        vm.enable_jit()
        with pytest.raises(Exception, match="division by zero"):
            vm.run()
    entry = [e for k, e in runtime.entries() if k[0] == chunk.digest()][0]
    assert entry.unit is None and entry.failure is not None
    assert "deoptimised" in entry.failure


@requires_llvmlite
def test_hot_units_are_reoptimised(log: list[str]) -> None:
    set_config(get_config().replace(reopt_after=2, reopt_background=False))
    chunk = asm(LOOP.replace("1000", "1003"))
    for _ in range(3):
        vm = VM(chunk)
        vm.enable_jit()
        assert vm.run() == 1003
    unit = [e.unit for k, e in runtime.entries() if k[0] == chunk.digest()][0]
    assert unit is not None and unit.info.pipeline == "O2"
    assert any("re-optimised (O2/cg2)" in line for line in log)
    assert stats()["block"]["reopts"] >= 1


@requires_llvmlite
def test_background_reoptimisation_swaps_the_code_in() -> None:
    from fusevm.jit import wait_reoptimized
    set_config(get_config().replace(reopt_after=1, reopt_background=True))
    chunk = asm(LOOP.replace("1000", "1004"))
    for _ in range(2):
        vm = VM(chunk)
        vm.enable_jit()
        assert vm.run() == 1004
    assert wait_reoptimized(30)
    unit = [e.unit for k, e in runtime.entries() if k[0] == chunk.digest()][0]
    assert unit is not None and unit.info.pipeline == "O2"
    vm = VM(chunk)
    vm.enable_jit()
    assert vm.run() == 1004


@requires_llvmlite
def test_dump_shows_the_decision_and_the_ir() -> None:
    text = dump(asm(LOOP, source="loop.fasm"))
    assert "; decision: block tier" in text
    assert "linear: op 6 (JumpIfTrue)" in text
    assert 'define i64 @"unit"(ptr' in text and "B2:" in text.replace('"', "")
    refused = dump(asm('LoadConst "s"\nPrintLn 1\nLoadInt 1\n'))
    assert "; decision: interpreter" in refused


def test_stats_report_every_counter() -> None:
    table = stats()
    assert set(table.pop("disk")) == {"loads", "load_ms", "stores", "misses", "rejects",
                                      "evictions", "write_errors"}
    assert set(table.pop("baseline")) == {"compiles", "compile_ms", "runs", "generic",
                                          "deopts", "direct_forms", "direct_ms",
                                          "direct_bound", "thin_entries", "direct_entries",
                                          "direct_unwinds",
                                          "versioned_fallbacks"}
    base = {"compiles", "compile_ms", "runs", "cache_hits", "deopts", "refusals", "warmups",
            "reopts"}
    for tier, counters in table.items():
        if tier == "trace":  # its units' counters and the recorder's
            assert base | {"recordings", "aborts", "side_exits", "blacklisted"} <= \
                set(counters)
        else:
            assert set(counters) == base


def test_without_llvmlite_installed_nothing_breaks_and_it_is_said_once() -> None:
    """D13, in a fresh process where `import llvmlite` fails."""
    import subprocess
    import sys
    from pathlib import Path
    src = Path(__file__).resolve().parents[2] / "src"
    script = (
        "import sys, importlib.abc\n"
        "class Block(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'llvmlite' or name.startswith('llvmlite.'):\n"
        "            raise ImportError('no llvmlite here')\n"
        "sys.meta_path.insert(0, Block())\n"
        "from fusevm import VM\n"
        "from fusevm.asm import assemble\n"
        "from fusevm.jit import JitCompiler, dump\n"
        f"chunk = assemble({LOOP!r})\n"
        "for _ in range(3):\n"
        "    vm = VM(chunk); vm.enable_jit(); assert vm.run() == 1000\n"
        "assert JitCompiler().try_run_block(chunk) is None\n"
        "assert JitCompiler().why_not(chunk, 'block') is None\n"
        "assert 'no IR' in dump(chunk)\n"
        "assert 'llvmlite' not in sys.modules\n"
        "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={"PYTHONPATH": str(src)}, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "ok\n"
    assert proc.stderr.count("llvmlite is not installed") == 1
    assert "Traceback" not in proc.stderr


@requires_llvmlite
def test_threads_sharing_units_get_correct_results() -> None:
    import threading
    chunk = asm("GetSlot 0\nSetSlot 1\ntop:\nGetSlot 1\nGetSlot 0\nAdd\nSetSlot 1\n"
                "SlotIncLtIntJumpBack 2 500 top\nGetSlot 1\n")
    errors: list[str] = []

    def work(base: int) -> None:
        for k in range(200):
            vm = VM(chunk)
            vm.slots[0] = base + k
            vm.slots[2] = 0
            vm.enable_jit()
            got = vm.run()
            if got != (base + k) * 501:
                errors.append(f"{base + k}: {got}")

    threads = [threading.Thread(target=work, args=(i * 1000,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_the_configuration_is_per_thread() -> None:
    import threading

    from fusevm.jit.config import env_config, using
    mine = get_config().replace(trace_threshold=7)
    set_config(mine)
    seen: list[int] = []

    def other() -> None:
        seen.append(get_config().trace_threshold)  # the environment's, not the caller's
        set_config(get_config().replace(trace_threshold=9))
        seen.append(get_config().trace_threshold)

    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == [env_config().trace_threshold, 9]
    assert get_config() is mine  # the other thread's set_config stayed there
    with using(mine.replace(trace_threshold=3)):
        assert get_config().trace_threshold == 3
    assert get_config() is mine


@requires_llvmlite
def test_background_reoptimisation_caches_with_the_submitting_thread_s_settings(
        tmp_path: Path) -> None:
    from fusevm.jit import wait_reoptimized
    set_config(get_config().replace(reopt_after=1, reopt_background=True, cache_enabled=True,
                                    cache_dir=tmp_path))
    chunk = asm(LOOP.replace("1000", "1006"))
    for _ in range(2):
        vm = VM(chunk)
        vm.enable_jit()
        assert vm.run() == 1006
    assert wait_reoptimized(30)
    runtime.reset()
    vm = VM(chunk)
    vm.enable_jit()
    assert vm.run() == 1006
    unit = [e.unit for k, e in runtime.entries() if k[0] == chunk.digest()][0]
    # Stored by the re-optimiser's thread into this thread's cache directory.
    assert unit is not None and unit.info.pipeline == "O2"


@pytest.mark.parametrize("call", [
    lambda j: j.why_not(5), lambda j: j.why_not_regions("LoadInt 1"),
    lambda j: j.is_linear_eligible(None), lambda j: j.is_block_eligible([]),
    lambda j: j.block_jit_is_compiled(5), lambda j: j.try_run_linear(5),
    lambda j: j.try_run_block(5), lambda j: j.try_run_block_eager(5), lambda j: dump(5),
], ids=["why_not", "why_not_regions", "is_linear_eligible", "is_block_eligible",
        "block_jit_is_compiled", "try_run_linear", "try_run_block", "try_run_block_eager",
        "dump"])
def test_the_jit_api_given_something_else_than_a_chunk_says_so(call) -> None:
    with pytest.raises(TypeError, match="expected a Chunk, not"):
        call(JitCompiler())


def test_run_slots_and_the_log_must_have_the_right_type() -> None:
    with pytest.raises(TypeError, match="slots must be a list"):
        JitCompiler().try_run_linear(asm("LoadInt 1"), 5)
    with pytest.raises(TypeError, match="the log must be callable"):
        set_log(5)
