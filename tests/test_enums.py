"""fusevm.enums behaves as the standard `enum` does for what the package asks of it."""

from __future__ import annotations

import copy
import enum
import pickle
import types
from typing import Any

import pytest

import fusevm.enums as lite
from fusevm.ops import F, Kind, Op
from fusevm.ops.shell_codes import Redir


def _cls(name: str, base: Any, body: dict[str, Any]) -> Any:
    """A class statement `class name(base): body` (as both metaclasses expect it)."""
    return types.new_class(name, (base,), exec_body=lambda ns: ns.update(
        {**body, "__module__": __name__}))


def _pair(base_std: Any, base_lite: Any, body: dict[str, Any]) -> tuple[Any, Any]:
    return _cls("Color", base_std, body), _cls("Color", base_lite, body)


def _same(std: Any, ours: Any, fn: Any) -> None:
    try:
        expected: Any = ("ok", fn(std))
    except Exception as exc:  # noqa: BLE001 - the exception type is what is compared
        expected = ("raised", type(exc))
    try:
        got: Any = ("ok", fn(ours))
    except Exception as exc:  # noqa: BLE001
        got = ("raised", type(exc))
    assert got == expected


@pytest.mark.parametrize("kind", ["Enum", "IntEnum"])
def test_members_lookups_and_text_match_the_standard_enum(kind: str) -> None:
    values = {"RED": 1, "GREEN": 2, "BLUE": 4} if kind == "IntEnum" else \
        {"RED": "r", "GREEN": "g", "BLUE": "b"}
    std, ours = _pair(getattr(enum, kind), getattr(lite, kind), values)
    first = next(iter(values.values()))
    probes = [
        lambda c: [m.name for m in c], lambda c: [m.value for m in c], lambda c: len(c),
        lambda c: c(first).name, lambda c: c["GREEN"].value, lambda c: c("missing"),
        lambda c: c["missing"], lambda c: sorted(c.__members__),
        lambda c: repr(c.RED), lambda c: str(c.RED), lambda c: f"{c.RED}",
        lambda c: c.RED == first, lambda c: c.RED is c(first), lambda c: c.RED in c,
        lambda c: copy.deepcopy(c.RED) is c.RED, lambda c: {c.RED: 1}.get(c.RED),
    ]
    if kind == "IntEnum":
        probes += [lambda c: c.RED + 1, lambda c: c.RED < c.GREEN, lambda c: f"{c.BLUE:>4}",
                   lambda c: hash(c.RED) == hash(1), lambda c: {1: "x"}.get(c.RED)]
    for probe in probes:
        _same(std, ours, probe)


def test_the_functional_form_and_a_subclass_str_match() -> None:
    def str_name(self: Any) -> str:
        return str(self.name)

    std_base = _cls("Base", enum.IntEnum, {"__str__": str_name})
    lite_base = _cls("Base", lite.IntEnum, {"__str__": str_name})
    std = std_base("Made", [("A", 1), ("B", 7)])
    ours = lite_base("Made", [("A", 1), ("B", 7)])
    for probe in (lambda c: [(m.name, int(m)) for m in c], lambda c: str(c.B),
                  lambda c: f"{c.B}", lambda c: f"{c.B:03d}", lambda c: repr(c(7)),
                  lambda c: c(3)):
        _same(std, ours, probe)


def test_flags_combine_test_and_iterate_as_the_standard_flag() -> None:
    body = {"NONE": 0, "A": 1, "B": 2, "C": 4}
    std, ours = _pair(enum.Flag, lite.Flag, body)
    for probe in (
        lambda c: [m.name for m in c], lambda c: (c.A | c.C).name, lambda c: repr(c.A | c.B),
        lambda c: (c.A | c.B) is c(3), lambda c: bool(c.A & c.B), lambda c: bool(c.NONE),
        lambda c: c.A in (c.A | c.C), lambda c: c.B in (c.A | c.C), lambda c: (~c.A).value,
        lambda c: (c.A ^ c.B).value, lambda c: [m.name for m in (c.A | c.C)],
        lambda c: len(c.A | c.B | c.C), lambda c: c(8), lambda c: str(c.A), lambda c: c(0).name,
        lambda c: 1 in c.A,
    ):
        _same(std, ours, probe)


def test_an_alias_is_refused() -> None:
    with pytest.raises(ValueError, match="share"):
        _cls("Twice", lite.IntEnum, {"A": 1, "B": 1})


def test_a_name_given_twice_to_the_functional_form_is_refused() -> None:
    # (what keeps the op table from declaring a mnemonic twice: `Op` is made this way)
    with pytest.raises(ValueError, match="declared twice"):
        lite.IntEnum("Twice", [("A", 1), ("B", 2), ("A", 3)])


def test_the_package_members_pickle_and_copy_as_themselves() -> None:
    for member in (Op.Add, Op.SlotIncLtIntJumpBack, Kind.SLOT, F.BRANCH, F.BRANCH | F.CALL,
                   Redir.APPEND):
        assert pickle.loads(pickle.dumps(member)) is member
        assert copy.copy(member) is member
    assert Op(Op.Add.value) is Op.Add and Op["Add"] is Op.Add
