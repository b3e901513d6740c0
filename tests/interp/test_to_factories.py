"""fusevm.tools.to_factories: plain extension handlers rewritten as step factories behave
exactly as they did, and the awk frontend has no plain handlers left."""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from fusevm import VM
from fusevm.asm import assemble
from fusevm.tools.to_factories import PortError, main, port_source

AWK_DIR = Path(__file__).resolve().parents[2] / "src" / "fusevm" / "lang" / "awk"

SAMPLE = '''
from __future__ import annotations

from typing import Any

from fusevm.ops import F
from fusevm.ops.extension import ExtensionSet

S = ExtensionSet("NAME", first_id=FIRST, count=16)


def helper(vm: Any) -> Any:
    stack = vm.stack
    return stack[-1]


def pop_helper(vm: Any) -> Any:
    return vm.stack.pop()


@S.op("PREFIXAdd", operands="k:U8", effect="a b -- r",
      formula="r = a + b + k")
def _add(vm: Any, k: int) -> None:
    stack = vm.stack
    b = stack.pop()
    stack[-1] = stack[-1] + b + k


@S.op("PREFIXPushPop", effect="v -- r", formula="r = v * 2 through push and pop")
def _push_pop(vm: Any) -> None:
    vm.push(vm.pop() * 2)


@S.op("PREFIXEarly", effect="v -- r", formula="r = v, or 0 for negatives, with an early return")
def _early(vm: Any) -> None:
    stack = vm.stack
    if helper(vm) >= 0:
        return
    stack[-1] = 0

    def unused() -> None:
        return


@S.op("PREFIXSkipIfZero", operands="target:TARGET", effect="v --", flags=F.BRANCH,
      formula="jump to target when v is 0")
def _skip(vm: Any, target: int) -> None:
    if pop_helper(vm) == 0:
        vm.jump(target)


@S.op("PREFIXStopIfNeg", effect="v -- v", formula="halt when v < 0")
def _stop(vm: Any) -> None:
    if vm.peek() < 0:
        vm.halt()
        return
    vm.push(vm.pop())
'''

PROGRAM = """
    LoadInt {v}
    PREFIXStopIfNeg
    PREFIXEarly
    LoadInt 3
    PREFIXAdd 4
    PREFIXPushPop
    Dup
    LoadInt 14
    NumEq
    PREFIXSkipIfZero done
    LoadInt 100
    PREFIXAdd 0
done:
"""


def _load(text: str, name: str) -> ModuleType:
    module = ModuleType(name)
    exec(compile(text, name, "exec"), module.__dict__)
    return module


def _sample(name: str, first: int, prefix: str) -> str:
    return (SAMPLE.replace("NAME", name).replace("FIRST", hex(first))
            .replace("PREFIX", prefix))


def _run(module: ModuleType, prefix: str, v: int) -> Any:
    chunk = assemble(PROGRAM.format(v=v).replace("PREFIX", prefix), source="port.fasm")
    vm = VM(chunk, stdout=io.StringIO(), extensions=[module.S])
    return vm.run(), vm.halted


@pytest.fixture(scope="module")
def both() -> tuple[ModuleType, ModuleType]:
    plain = _load(_sample("port-test-plain", 0xF500, "Pp"), "port_plain")
    ported_text = port_source(_sample("port-test-ported", 0xF520, "Pf"), "S")
    return plain, _load(ported_text, "port_ported")


@pytest.mark.parametrize(("v", "expected"), [(-2, (-2, True)), (0, (114, False)),
                                             (7, (28, False)), (5, (24, False))])
def test_a_ported_module_behaves_as_the_plain_one(both, v, expected):
    plain, ported = both
    assert _run(plain, "Pp", v) == expected
    assert _run(ported, "Pf", v) == expected


def test_every_handler_becomes_a_factory(both):
    _, ported = both
    for op in ported.S:
        assert op.factory is not None and op.handler is None, op.name


def test_the_rewrite_keeps_nested_returns_and_reaches_the_stack_through_the_api():
    text = port_source(_sample("port-test-text", 0xF540, "Pt"), "S")
    assert "vm.stack\n" not in text and "vm.stack." not in text and "vm.stack[" not in text
    assert "        def unused() -> None:\n            return\n" in text
    assert "from fusevm.interp.extapi import HALT, Step" in text
    assert port_source(text, "S") == text  # nothing left to port


@pytest.mark.parametrize("body", [
    "    vm.jump(1)\n    vm.push(2)\n",
    "    vm.halt()\n    vm.push(2)\n",
    "    return 3\n",
    "    if vm.halted:\n        vm.push(1)\n",
])
def test_shapes_the_rewrite_cannot_carry_over_are_refused(body):
    text = f"@S.op('X')\ndef _x(vm):\n{body}"
    with pytest.raises(PortError):
        port_source(text, "S")


def test_the_awk_frontend_has_no_plain_handlers_left(capsys):
    files = [str(AWK_DIR / "ops.py"), str(AWK_DIR / "ops_io.py")]
    assert main(["--check", "--set", "AWK", *files]) == 0, capsys.readouterr().err
