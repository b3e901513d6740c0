"""Whole programs give the same results fused and unfused.

Three sources of programs: the conformance `.fasm` files (whatever exists of them), this
directory's own loop programs (`programs/*.fasm`, whose `; expect:` lines are checked too, so
the test is never vacuous), and random structured programs drawn by hypothesis: loops of
every shape the pass rewrites (counted, whole-loop, do-while, with continue and break, in
functions and block ranges) over slots that may hold any kind of value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fusekit import TIMEOUT, Outcome, compact, run_bounded, run_program, same_list
from hypothesis import assume, given, note, settings
from hypothesis import strategies as st

from fusevm.asm import assemble
from fusevm.chunk import Chunk
from fusevm.errors import AsmError, BuildError
from fusevm.peephole.fuse import fuse, unfuse
from fusevm.peephole.pattern import BY_OP
from fusevm.verify import verify

HERE = Path(__file__).parent
TESTS = HERE.parent
OWN = sorted((HERE / "programs").glob("*.fasm"))
SHARED = sorted({p for d in (TESTS / "programs", TESTS / "conformance" / "programs")
                 for p in d.glob("*.fasm")})


def _load(path: Path) -> Chunk:
    try:
        return assemble(path.read_text(), source=path.name)
    except (AsmError, BuildError) as e:
        pytest.skip(f"{path.name} does not assemble here: {e}")


def _outcomes_agree(plain: Outcome, fused: Outcome) -> None:
    assert fused.output == plain.output
    assert fused.error is plain.error
    assert same_list([fused.result], [plain.result])
    assert same_list(fused.globals, plain.globals)


def _check_program(chunk: Chunk) -> Outcome:
    """Run the program's plain form (any fused op in the text expanded) and its fused form."""
    plain_chunk = unfuse(chunk)
    verify(plain_chunk)
    assert not any(ins[0] in BY_OP for ins in plain_chunk.ops)
    fused = fuse(chunk)
    verify(fused)
    assert fuse(fused) == fused, "fusion is not idempotent"
    assert fuse(plain_chunk) == fused, "fusing depends on what was fused by hand"
    plain = run_program(plain_chunk)
    _outcomes_agree(plain, run_program(fused))
    return plain


@pytest.mark.parametrize("path", SHARED, ids=lambda p: p.name)
def test_conformance_program_runs_the_same_fused(path: Path) -> None:
    _check_program(_load(path))


@pytest.mark.parametrize("path", OWN, ids=lambda p: p.name)
def test_loop_program_runs_the_same_fused_and_as_expected(path: Path) -> None:
    text = path.read_text()
    chunk = assemble(text, source=path.name)
    plain = _check_program(chunk)
    expected = [line.split("; expect:", 1)[1].strip() for line in text.splitlines()
                if line.startswith("; expect:")]
    assert plain.output.splitlines() == expected


def test_loop_programs_exist_and_fuse() -> None:
    assert len(OWN) >= 8
    chunks = {p.name: assemble(p.read_text(), source=p.name) for p in OWN}
    fused_any = [name for name, chunk in chunks.items() if fuse(chunk) != chunk]
    assert len(fused_any) == len(OWN), "every own program has something to fuse"


# -- Random structured programs ------------------------------------------------------------

SLOTS = 4
LIMITS = st.integers(-2, 12)
SLOT = st.integers(0, SLOTS - 1)
LITERALS = st.sampled_from(["LoadInt 0", "LoadInt 3", "LoadInt -1", "LoadFloat 1.5",
                            "LoadFloat -0.5", 'LoadConst "ab"', 'LoadConst "4"',
                            "LoadConst undef", "LoadInt 9223372036854775806",
                            "LoadConst [1, 2]", "LoadTrue"])


class _Gen:
    """Turns drawn statement trees into assembler text with unique labels."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.n = 0

    def label(self, stem: str) -> str:
        self.n += 1
        return f"{stem}{self.n}"

    def emit(self, *lines: str) -> None:
        self.lines.extend(lines)

    def stmts(self, body: list[Any], loop: tuple[str, str] | None) -> None:
        for s in body:
            self.stmt(s, loop)

    def stmt(self, s: Any, loop: tuple[str, str] | None) -> None:
        kind = s[0]
        e = self.emit
        if kind == "set":
            e(s[2], f"SetSlot {s[1]}")
        elif kind == "inc":
            e(f"GetSlot {s[1]}", "Inc", f"SetSlot {s[1]}")
        elif kind == "add":
            e(f"GetSlot {s[1]}", f"GetSlot {s[2]}", "Add", f"SetSlot {s[1]}")
        elif kind == "concat":
            e(f"GetSlot {s[1]}", 'LoadConst "z"', "Concat", f"SetSlot {s[1]}")
        elif kind == "push":
            e(f"GetSlot {s[1]}", "ArrayPush arr")
        elif kind == "print":
            e(f"GetSlot {s[1]}", "PrintLn 1")
        elif kind == "pre":  # ++x / --x used as a value, in either emitted form
            op = "Inc" if s[2] else "Dec"
            if s[3]:
                e(f"GetSlot {s[1]}", op, "Dup", f"SetSlot {s[1]}", "PrintLn 1")
            else:
                e(f"GetSlot {s[1]}", op, f"SetSlot {s[1]}", f"GetSlot {s[1]}", "PrintLn 1")
        elif kind == "post":
            e(f"GetSlot {s[1]}", "Dup", "Inc" if s[2] else "Dec", f"SetSlot {s[1]}",
              "PrintLn 1")
        elif kind == "if":
            other = self.label("else")
            e(f"GetSlot {s[1]}", f"LoadInt {s[2]}", "NumLt", f"JumpIfFalse {other}")
            self.stmts(s[3], loop)
            e(f"{other}:")
        elif kind == "continue" and loop is not None:
            e(f"Jump {loop[0]}")
        elif kind == "break" and loop is not None:
            e(f"Jump {loop[1]}")
        elif kind == "while":  # top-tested counted loop, as a frontend emits it
            _, i, limit, body = s
            top, nxt, end = self.label("top"), self.label("next"), self.label("end")
            e(f"{top}:", f"GetSlot {i}", f"LoadInt {limit}", "NumLt", f"JumpIfFalse {end}")
            self.stmts(body, (nxt, end))
            e(f"{nxt}:", f"GetSlot {i}", "Inc", f"SetSlot {i}", f"Jump {top}", f"{end}:")
        elif kind == "dowhile":  # bottom-tested, closed by a branch over a jump or not
            _, i, limit, body, over = s
            top, nxt, end = self.label("top"), self.label("next"), self.label("end")
            e(f"{top}:")
            self.stmts(body, (nxt, end))
            e(f"{nxt}:", f"GetSlot {i}", "Inc", f"SetSlot {i}", f"GetSlot {i}",
              f"LoadInt {limit}", "NumLt")
            if over:
                e(f"JumpIfFalse {end}", f"Jump {top}")
            else:
                e(f"JumpIfTrue {top}")
            e(f"{end}:")
        elif kind == "whole":  # the exact whole-loop shapes, over arbitrary slots
            _, which, a, i, limit = s
            body = {"sum": [f"GetSlot {a}", f"GetSlot {i}", "Add", f"SetSlot {a}"],
                    "concat": [f"GetSlot {a}", 'LoadConst "xy"', "Concat", f"SetSlot {a}"],
                    "push": [f"GetSlot {i}", "ArrayPush arr"]}[which]
            top, end = self.label("top"), self.label("end")
            e(f"{top}:", f"GetSlot {i}", f"LoadInt {limit}", "NumLt", f"JumpIfFalse {end}",
              *body, f"GetSlot {i}", "Inc", f"SetSlot {i}", f"Jump {top}", f"{end}:")


_LEAVES = ("set", "inc", "add", "concat", "push", "print", "pre", "post", "continue",
           "break", "whole")
_NESTED = ("if", "while", "dowhile")


@st.composite
def statements(draw: st.DrawFn, depth: int = 2) -> list[Any]:
    """A short statement list; loops and ifs nest up to `depth` deep."""
    out: list[Any] = []
    kinds = _LEAVES + (_NESTED if depth > 0 else ())
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(kinds))
        slot = draw(SLOT)
        if kind == "set":
            out.append((kind, slot, draw(LITERALS)))
        elif kind == "add":
            out.append((kind, slot, draw(SLOT)))
        elif kind == "pre":
            out.append((kind, slot, draw(st.booleans()), draw(st.booleans())))
        elif kind == "post":
            out.append((kind, slot, draw(st.booleans())))
        elif kind == "whole":
            out.append((kind, draw(st.sampled_from(["sum", "concat", "push"])), slot,
                        draw(SLOT), draw(LIMITS)))
        elif kind in ("if", "while"):
            out.append((kind, slot, draw(LIMITS), draw(statements(depth - 1))))
        elif kind == "dowhile":
            out.append((kind, slot, draw(LIMITS), draw(statements(depth - 1)),
                        draw(st.booleans())))
        else:
            out.append((kind, slot))
    return out


@st.composite
def programs(draw: st.DrawFn) -> str:
    """Assembler text: an optional function and block holding loops, then the main code."""
    g = _Gen()
    g.emit(f".slots {SLOTS}", ".name arr", "DeclareArray arr")
    for slot in range(SLOTS):
        g.emit(draw(LITERALS), f"SetSlot {slot}")
    use_fn = draw(st.booleans())
    use_block = draw(st.booleans())
    if use_fn or use_block:
        g.emit("Jump main")
    if use_fn:
        g.emit(".sub fn fn_entry", "fn_entry:")
        g.stmts(draw(statements()), None)
        g.emit("LoadInt 0", "ReturnValue")
    if use_block:
        g.emit(".block blk blk_start blk_end", "blk_start:")
        g.stmts(draw(statements()), None)
        g.emit("GetSlot 1", "blk_end:")
    if use_fn or use_block:
        g.emit("main:")
    g.stmts(draw(statements()), None)
    if use_fn:
        g.emit("Call fn 0", "PrintLn 1")
    g.stmts(draw(statements()), None)
    if use_block:
        g.emit("LoadInt 1", "LoadInt 3", "Range", "MapBlock blk", "PrintLn 1")
    for slot in range(SLOTS):
        g.emit(f"GetSlot {slot}")
    g.emit(f"PrintLn {SLOTS}", "GetArray arr", "PrintLn 1")
    return "\n".join(g.lines)


@given(text=programs(), strict=st.booleans())
def test_random_loop_programs_run_the_same_fused(text: str, strict: bool) -> None:
    chunk = assemble(text, source="random.fasm")
    fused = fuse(chunk)
    note(f"program:\n{text}\nfused:\n{compact(fused)}")
    verify(fused)
    assert fuse(fused) == fused, "fusion is not idempotent"
    assert fused.slot_count == chunk.slot_count and fused.constants == chunk.constants
    plain_run = run_bounded(chunk, strict=strict, budget=20_000)
    assume(plain_run is not TIMEOUT)
    # A fused chunk never runs more ops than its plain form, so it finishes too.
    fused_run = run_bounded(fused, strict=strict, budget=20_000)
    assert isinstance(plain_run, Outcome) and isinstance(fused_run, Outcome)
    note(f"plain: {plain_run}\nfused: {fused_run}")
    assert fused_run.steps <= plain_run.steps
    assert fused_run.output == plain_run.output
    assert fused_run.error is plain_run.error
    assert same_list(fused_run.globals, plain_run.globals)
    if plain_run.error is None:
        assert same_list(fused_run.stack, plain_run.stack)
        assert same_list(fused_run.slots, plain_run.slots)


def test_random_programs_do_fuse() -> None:
    """The generator reaches every rewrite (guards against a vacuous property test)."""
    from fusevm.ops import FUSED_OPS

    seen: set[str] = set()

    # Derandomized: which rewrites a random sample reaches must not vary between runs.
    @settings(derandomize=True, max_examples=400)
    @given(text=programs())
    def collect(text: str) -> None:
        for ins in fuse(assemble(text)).ops:
            seen.add(ins[0].name)

    collect()
    wanted = {op.name for op in FUSED_OPS} - {"PreDecSlot", "PostDecSlot"}
    assert wanted - seen == set(), f"never produced: {sorted(wanted - seen)}"

