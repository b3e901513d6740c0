"""Random programs for the trace tier's differential tests (seeded, so failures replay).

Each program is a loop over globals and slots whose body mixes Int and Float updates,
branches on the counter (periodic ones, and ones that flip once after the trace is
recorded), a global turning from Int to Float at some iteration, calls to small functions
with branches (nested and bounded self-recursion among them), sometimes a recursion deeper
than traces inline (which the native self-calls of `calls.py` take) and, sometimes, a
division by zero at some iteration. Loops are top-tested (`while`) or bottom-tested.
"""

from __future__ import annotations

import random

FUNCTIONS = {"f0": """
.sub f0
    SetSlot 0
    GetSlot 0
    LoadInt 3
    Mod
    LoadInt 0
    NumEq
    JumpIfFalse f0_odd
    GetSlot 0
    LoadInt 2
    Mul
    ReturnValue
f0_odd:
    GetSlot 0
    LoadInt 1
    Add
    ReturnValue
""", "f1": """
.sub f1
    SetSlot 0
    GetSlot 0
    Call f0 1
    Call f0 1
    GetSlot 0
    Sub
    ReturnValue
""", "f2": """
.sub f2
    SetSlot 0
    GetSlot 0
    LoadInt 0
    NumLe
    JumpIfFalse f2_more
    LoadInt 0
    ReturnValue
f2_more:
    GetSlot 0
    GetSlot 0
    LoadInt 1
    Sub
    Call f2 1
    Add
    ReturnValue
""", "f3": """
.sub f3
    SetSlot 0
    GetSlot 0
    LoadInt 1
    NumLe
    JumpIfFalse f3_more
    GetSlot 0
    ReturnValue
f3_more:
    GetSlot 0
    Dec
    Call f3 1
    GetSlot 0
    LoadInt 2
    Sub
    Call f3 1
    Add
    ReturnValue
"""}


class Gen:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.labels = 0
        self.n = self.rng.choice([30, 80, 200, 500])
        self.called: set[str] = set()

    def label(self) -> str:
        self.labels += 1
        return f"L{self.labels}"

    def value(self) -> str:
        r = self.rng
        return r.choice([f"LoadInt {r.randint(-5, 9)}", f"LoadFloat {r.choice([0.5, 1.5, -2.0])}",
                         f"GetVar g{r.randint(0, 2)}", "GetSlot 0"])

    def stmt(self, depth: int) -> list[str]:
        r = self.rng
        g = f"g{r.randint(0, 2)}"
        kind = r.choice(["arith", "arith", "if", "flip", "call", "call"] if depth < 2
                        else ["arith", "call"])
        if kind == "arith":
            op = r.choice(["Add", "Sub", "Mul"])
            return [f"GetVar {g}", self.value(), op, "LoadInt 9973", "Mod", f"SetVar {g}"]
        if kind == "call":
            f = r.choice(["f0", "f1", "f2"])
            self.called.update(("f0", "f1") if f == "f1" else (f,))
            arg = [f"GetVar {g}", "LoadInt 7", "Mod"] if f != "f2" else \
                ["GetSlot 0", f"LoadInt {r.randint(1, 5)}", "Mod"]
            return arg + [f"Call {f} 1", f"GetVar {g}", "Add", "LoadInt 9973", "Mod",
                          f"SetVar {g}"]
        if kind == "flip":
            at = r.randint(0, self.n)
            skip = self.label()
            return ["GetSlot 0", f"LoadInt {at}", "NumEq", f"JumpIfFalse {skip}",
                    f"GetVar {g}", "LoadFloat 0.5", "Add", f"SetVar {g}", f"{skip}:"]
        els, end = self.label(), self.label()
        if r.random() < 0.5:
            cond = ["GetSlot 0", f"LoadInt {r.randint(2, 5)}", "Mod", "LoadInt 0", "NumEq"]
        else:
            cond = ["GetSlot 0", f"LoadInt {r.randint(0, self.n)}", "NumLt"]
        then = [x for _ in range(r.randint(1, 2)) for x in self.stmt(depth + 1)]
        other = [x for _ in range(r.randint(0, 2)) for x in self.stmt(depth + 1)]
        return cond + [f"JumpIfFalse {els}"] + then + [f"Jump {end}", f"{els}:"] + other + \
            [f"{end}:"]

    def program(self) -> str:
        r = self.rng
        lines = []
        for k in range(3):
            lines += [r.choice(["LoadInt 1", "LoadFloat 0.25", "LoadInt 0"]), f"SetVar g{k}"]
        lines += ["LoadInt 0", "SetSlot 0"]
        body = [x for _ in range(r.randint(1, 4)) for x in self.stmt(0)]
        if r.random() < 0.15:
            body += ["LoadInt 100", "GetSlot 0", f"LoadInt {r.randint(0, self.n)}", "Sub",
                     "Div", "Pop"]
        step = ["GetSlot 0", "LoadInt 1", "Add", "SetSlot 0"]
        if r.random() < 0.5:  # top-tested: the backward jump is unconditional
            lines += ["top:", "GetSlot 0", f"LoadInt {self.n}", "NumLt", "JumpIfFalse done"]
            lines += body
            at = len(lines)
            lines += step + ["Jump top", "done:"]
        else:
            lines += ["top:"] + body
            at = len(lines)
            lines += step + ["GetSlot 0", f"LoadInt {self.n}", "NumLt", "JumpIfTrue top"]
        if r.random() < 0.3:  # drawn last: the draws before it, and their program, stay
            # f2(i % 200) recurses up to 199 deep, f3 is fib(i % 18): deeper than traces
            # inline, natively called once their function entry is hot.
            f, m = r.choice([("f2", 200), ("f3", 18)])
            g = f"g{r.randint(0, 2)}"
            self.called.add(f)
            lines[at:at] = ["GetSlot 0", f"LoadInt {m}", "Mod", f"Call {f} 1", f"GetVar {g}",
                            "Add", "LoadInt 9973", "Mod", f"SetVar {g}"]
        lines += ["GetVar g0", "GetVar g1", "Add", "GetVar g2", "Add", "ReturnValue"]
        return "\n".join("    " + x if not x.endswith(":") else x for x in lines) + \
            "".join(FUNCTIONS[f] for f in sorted(self.called))


def program(seed: int) -> str:
    return Gen(seed).program()


def pure_program(seed: int) -> str:
    """Root code the trace tier may run whole (`main.py`): slot-only Int loops (top- or
    bottom-tested) calling f2 and f3, with branches, wrapping arithmetic and values left
    on the stack; some programs also hold what keeps the root code interpreted (a Mod, a
    slot set on one path only, a Float) or a recursion deeper than the frame limit."""
    r = random.Random(seed)
    n = r.choice([3, 10, 25])
    lines = ["LoadInt 7"] if r.random() < 0.3 else []  # a value left below the result
    lines += ["LoadInt 0", "SetSlot 1", "LoadInt 1", "SetSlot 2"]  # i, acc
    labels = iter(f"P{k}" for k in range(100))
    body: list[str] = []
    for _ in range(r.randint(1, 3)):
        # f2(i + k) recurses i + k deep; f3 is fib(k), a constant (fib(i + k) grows fast).
        arg = ["GetSlot 1", f"LoadInt {r.randint(0, 60)}", "Add"] if r.random() < 0.5 \
            else [f"LoadInt {r.randint(0, 14)}"]
        call = arg + [f"Call {'f2' if len(arg) == 3 else 'f3'} 1", "GetSlot 2",
                      r.choice(["Add", "Sub", "Mul"]), "SetSlot 2"]
        if r.random() < 0.4:
            skip = next(labels)
            call = ["GetSlot 1", f"LoadInt {r.randint(0, n)}", r.choice(["NumLt", "NumGe"]),
                    f"JumpIfFalse {skip}"] + call + [f"{skip}:"]
        body += call
    impure = r.random()
    if impure < 0.08:
        body += ["GetSlot 2", "LoadInt 1000003", "Mod", "SetSlot 2"]
    elif impure < 0.16:
        skip = next(labels)
        body += ["GetSlot 1", "LoadInt 2", "NumLt", f"JumpIfFalse {skip}", "GetSlot 1",
                 "SetSlot 3", f"{skip}:"]
    elif impure < 0.22:
        body += ["LoadFloat 0.5", "Pop"]
    elif impure < 0.25:
        body += ["LoadInt 12000", "Call f2 1", "Pop"]  # deeper than max_depth
    step = ["GetSlot 1", "Inc", "SetSlot 1"]
    if r.random() < 0.5:
        lines += ["top:", "GetSlot 1", f"LoadInt {n}", "NumLt", "JumpIfFalse done"]
        lines += body + step + ["Jump top", "done:"]
    else:
        lines += ["top:"] + body + step + ["GetSlot 1", f"LoadInt {n}", "NumLt",
                                           "JumpIfTrue top"]
    lines += ["GetSlot 2"]
    lines += ["ReturnValue"] if r.random() < 0.5 else ["Jump end"]
    return "\n".join("    " + x if not x.endswith(":") else x for x in lines) + \
        FUNCTIONS["f2"] + FUNCTIONS["f3"] + "end:\n    Nop\n"
