"""LLVM code generation: IR module -> pre-linked machine code in an executable region.

`compile_module(module, pipeline, codegen)` follows the CodeLibrary contract of STYLE 4.4:
the module is finalized once (text, parse, verify, optional IR passes, object emission for
the host CPU with its features, PIC, small code model), the object is pre-linked into a
relocation-free blob (`objlink.py`) and mapped read+execute (`loader.py`).
The blob's bytes are what runs, so a later disk cache can store exactly them. An object
that fails the link audit (an external symbol, a relocation kind the pre-linker refuses)
runs through MCJIT in memory instead and is marked not cacheable.

Pipelines: "none" (no IR passes: ~1 ms per small unit at codegen level 0), "lite" (SROA,
instcombine, simplifycfg, GVN, DCE) and "O2" (the default O2 pipeline, used to re-optimise
units that stay hot, on a background thread: llvmlite releases the GIL while LLVM works).
This is the one module that imports llvmlite (`jit/lower/` writes IR as text).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import llvmlite.binding as llvm

from fusevm.jit.config import PIPELINES
from fusevm.jit.loader import CodeRegion, Native
from fusevm.jit.objlink import Unlinkable, prelink

__all__ = ["PIPELINES", "REOPTIMIZER", "Native", "compile_text", "host_description",
           "module_text", "optimized_text", "target_machine"]

_lock = threading.RLock()
_machines: dict[int, Any] = {}
_ready = False


def _init() -> None:
    global _ready
    if not _ready:
        llvm.initialize_native_target()
        llvm.initialize_native_asmprinter()
        _ready = True


def _new_target_machine(codegen: int) -> Any:
    _init()
    target = llvm.Target.from_triple(llvm.get_process_triple())
    return target.create_target_machine(
        cpu=llvm.get_host_cpu_name(), features=llvm.get_host_cpu_features().flatten(),
        opt=codegen, reloc="pic", codemodel="small")


def target_machine(codegen: int) -> Any:
    """The host target machine at a codegen optimisation level (0..3), created once."""
    with _lock:
        tm = _machines.get(codegen)
        if tm is None:
            tm = _machines[codegen] = _new_target_machine(codegen)
        return tm


def host_description() -> dict[str, str]:
    """Triple, CPU and LLVM version: what machine code from here is specific to."""
    _init()
    return {"triple": llvm.get_process_triple(), "cpu": llvm.get_host_cpu_name(),
            "features": llvm.get_host_cpu_features().flatten(),
            "llvm": ".".join(map(str, llvm.llvm_version_info))}


def module_text(function_text: str, name: str = "fusevm", codegen: int = 0) -> str:
    """A module around a unit's function text, targeting this host."""
    tm = target_machine(codegen)
    return (f'; ModuleID = "{name}"\ntarget triple = "{tm.triple}"\n'
            f'target datalayout = "{tm.target_data}"\n\n{function_text}')


def _run_pipeline(mod: Any, tm: Any, pipeline: str) -> None:
    if pipeline == "none":
        return
    pto = llvm.create_pipeline_tuning_options(speed_level=2)
    pb = llvm.create_pass_builder(tm, pto)
    if pipeline == "O2":
        pb.getModulePassManager().run(mod, pb)
        return
    if pipeline != "lite":
        raise ValueError(f"unknown pipeline {pipeline!r} (expected one of {PIPELINES})")
    mpm = llvm.create_new_module_pass_manager()
    mpm.add_sroa_pass()
    mpm.add_instruction_combine_pass()
    mpm.add_simplify_cfg_pass()
    mpm.add_new_gvn_pass()
    mpm.add_dead_code_elimination_pass()
    mpm.run(mod, pb)


def compile_text(text: str, pipeline: str = "none", codegen: int = 0) -> Native:
    """Compile IR text of a unit; raises RuntimeError if LLVM rejects it."""
    timings: dict[str, float] = {}
    with _lock:
        tm = target_machine(codegen)
        t0 = time.perf_counter()
        ctx = llvm.create_context()
        mod = llvm.parse_assembly(text, context=ctx)
        mod.verify()
        t1 = time.perf_counter()
        timings["parse"] = t1 - t0
        _run_pipeline(mod, tm, pipeline)
        t2 = time.perf_counter()
        timings["passes"] = t2 - t1
        obj = tm.emit_object(mod)
        t3 = time.perf_counter()
        timings["codegen"] = t3 - t2
        try:
            blob = prelink(obj, "unit")
        except Unlinkable:
            native = _mcjit(mod, pipeline, codegen)
            native.keepalive = (native.keepalive, ctx)
            native.timings.update(timings)
            return native
    region = CodeRegion(blob.code)
    timings["link"] = time.perf_counter() - t3
    return Native(region.address + blob.entry, region, blob.code, blob.entry, pipeline,
                  codegen, timings)


def _mcjit(mod: Any, pipeline: str, codegen: int) -> Native:
    t0 = time.perf_counter()
    # The engine takes ownership of its target machine: never hand it a shared one.
    engine = llvm.create_mcjit_compiler(mod, _new_target_machine(codegen))
    engine.finalize_object()
    address = engine.get_function_address("unit")
    return Native(address, (engine, mod), None, 0, pipeline, codegen,
                  {"mcjit": time.perf_counter() - t0})


def optimized_text(text: str, pipeline: str = "O2", codegen: int = 2) -> str:
    """The IR after a pipeline ran (for dumps and tests)."""
    with _lock:
        tm = target_machine(codegen)
        mod = llvm.parse_assembly(text, context=llvm.create_context())
        _run_pipeline(mod, tm, pipeline)
        return str(mod)


# -- Background re-optimisation -----------------------------------------------------------

Job = tuple[str, str, int, Callable[[Native], None]]


class Reoptimizer:
    """One daemon thread compiling queued units at a higher level and handing them back."""

    def __init__(self) -> None:
        self._queue: queue.Queue[Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._pending = 0
        self._cond = threading.Condition()
        self.errors: list[str] = []

    def submit(self, text: str, pipeline: str, codegen: int,
               done: Callable[[Native], None]) -> None:
        with self._cond:
            self._pending += 1
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._work, name="fusevm-jit-reopt",
                                                daemon=True)
                self._thread.start()
        self._queue.put((text, pipeline, codegen, done))

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            text, pipeline, codegen, done = job
            try:
                done(compile_text(text, pipeline, codegen))
            except Exception as e:  # a failed re-optimisation keeps the first code
                self.errors.append(f"{type(e).__name__}: {e}")
            finally:
                with self._cond:
                    self._pending -= 1
                    self._cond.notify_all()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every submitted job finished; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._pending == 0, timeout)


REOPTIMIZER: Final = Reoptimizer()
