"""`decode` of extension instructions: remembered per (id, payload), never stale."""

from __future__ import annotations

import pytest

from fusevm.errors import UnknownExtension
from fusevm.instr import decode, encode
from fusevm.ops.extension import ExtensionSet


def test_an_extension_instruction_decodes_under_the_current_registry() -> None:
    """A set registered again under its name may put another op at an id: the decoded
    form follows it (the table of decoded instructions starts over at a registration)."""
    first = ExtensionSet("instr-test-decode", first_id=0xF7A0, count=0x10)
    one = first.declare("DecOne", operands="k:U8", effect="-- a")
    instr = encode(one, (7,))
    seen = decode(instr)
    assert (seen.spec.name, seen.operands, seen.ext) == ("DecOne", (7,), one)
    assert decode(instr) is seen  # (decoded once)
    second = ExtensionSet("instr-test-decode", first_id=0xF7A0, count=0x10)
    other = second.declare("DecOther", operands="a:U8 b:U8", effect="--")
    again = decode(instr)
    assert again.ext is other and again.spec.name == "DecOther"
    assert again.operands == (7, 0)


def test_an_unknown_extension_id_is_an_error_each_time() -> None:
    instr = encode(ExtensionSet("instr-test-gone", first_id=0xF7C0, count=4)
                   .declare("Gone", effect="--"), ())
    bogus = (instr[0], 0xF7C3, 0)
    for _ in range(2):
        with pytest.raises(UnknownExtension, match="0xf7c3"):
            decode(bogus)
