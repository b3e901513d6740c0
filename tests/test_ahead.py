"""fusevm.ahead: functions written as source at run time, compiled with the package."""

from __future__ import annotations

import pytest

from fusevm import ahead, ahead_generated
from fusevm.interp.extapi import function_step
from fusevm.jit import llvmlite_available
from fusevm.records import dataclass
from fusevm.shell.caps import Caps
from fusevm.tools import gen_ahead


@pytest.mark.skipif(not llvmlite_available(), reason="every module imports only with llvmlite")
def test_the_file_is_current() -> None:
    # `python -m fusevm.tools.gen_ahead` rewrites it after a record class changes.
    srcs = gen_ahead.sources()
    assert gen_ahead.PATH.read_text(encoding="utf-8") == gen_ahead.module_source(srcs)
    assert gen_ahead.main(["--check"]) == 0


def test_a_package_record_init_comes_from_the_file_with_its_own_defaults_and_names() -> None:
    init = Caps.__init__
    assert init.__code__.co_filename == ahead_generated.__file__
    assert init.__qualname__ == "Caps.__init__" and init.__code__.co_name == "__init__"
    assert Caps(spawn=False) == Caps(False, True, True, True, True) != Caps()


@dataclass(frozen=True, slots=True)
class _Local:
    a: int
    b: str = "b"


def test_a_source_the_file_lacks_is_compiled_where_it_is_used() -> None:
    assert _Local.__init__.__code__.co_filename != ahead_generated.__file__
    assert (_Local(1).b, _Local(2, "x").b) == ("b", "x")
    fn = ahead.function("def f(x, y=1):\n    return x + y + z\n", {"z": 10}, "f",
                        defaults=(1,))
    assert fn(1) == 12


def test_a_common_step_shape_comes_from_the_file() -> None:
    stack = [3, 4]
    step = function_step(lambda a, b: a * b, stack, 5, 2, 1)
    assert step() == 6 and stack == [12]
    assert step.__code__.co_filename == ahead_generated.__file__  # the inner step's code
