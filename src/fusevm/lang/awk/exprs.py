"""Expression compilation for awk: values, conditions, lvalues, calls and builtins.

`expr()` leaves one awk value on the stack and returns its static type: "num" (a Float
for sure), "bool" (a Bool from a comparison; a valid awk value that prints as 1 or 0),
"str", or "any". Core arithmetic (Add, Sub, Mul, Negate) only ever sees "num" operands:
anything else goes through AwkNum first. Comparisons use the core NumLt... only when both
sides are "num"; otherwise AwkCmp applies the strnum rules.

Lvalues: `store_top(target)` stores the value on top of the stack (consuming it), which
getline var and sub/gsub use after the op that computed the value.
"""

from __future__ import annotations

import fusevm.lang.awk.ops_io  # noqa: F401 - declares AwkFieldKey(K), emitted here
from fusevm.chunk import ChunkBuilder, Label
from fusevm.lang.awk import ast
from fusevm.lang.awk.errors import AwkSemanticError
from fusevm.lang.awk.format import argument_kinds
from fusevm.lang.awk.infer import Info, nodes, target_of
from fusevm.lang.awk.ops import ARITH_CODES, AWK, CMP_CODES, MATH_CODES
from fusevm.lang.awk.state import SPECIAL_INDEX
from fusevm.ops import Op

_CORE_ARITH = {"+": Op.Add, "-": Op.Sub, "*": Op.Mul}
#: Core ops whose float operands may come in either order (`x += v` pushes v first).
_COMMUTATIVE = frozenset("+*")
#: A relation with its operands swapped.
_MIRRORED = {"<": ">", "<=": ">=", "==": "==", "!=": "!=", ">": "<", ">=": "<="}
_CORE_CMP = {"<": Op.NumLt, "<=": Op.NumLe, "==": Op.NumEq, "!=": Op.NumNe, ">": Op.NumGt,
             ">=": Op.NumGe}
_NUM_SPECIALS = frozenset({"NR", "FNR", "NF", "RSTART", "RLENGTH"})
# Distinct string literals kept in the 16-bit constant pool; the pool's remaining entries
# serve regexes, messages and layout.
_POOL_ROOM = 49152


class ExprCompiler:
    """The expression half of the compiler; `Compiler` adds statements and layout."""

    def __init__(self, builder: ChunkBuilder, info: Info,
                 functions: dict[str, ast.Function]) -> None:
        self.b = builder
        self.info = info
        self.functions = functions
        self.func: str | None = None
        self.params: tuple[str, ...] = ()
        self.next_slot = 0
        #: Globals that hold only numbers once assigned, and those of them certainly
        #: assigned at the point being compiled (reads of these need no AwkNum).
        self.numeric: set[str] = set()
        self.defined: set[str] = set()
        #: NR, FNR and NF when the program never assigns them (the compiler says)
        self.fixed_counts: frozenset[str] = frozenset()
        self._pool: dict[str, int] = {}
        self._overflow: list[str] | None = None
        self._overflow_index: dict[str, int] = {}

    # -- constants -----------------------------------------------------------------------

    def const(self, text: str) -> int:
        """The pool index of a string constant, one entry per distinct string."""
        idx = self._pool.get(text)
        if idx is None:
            idx = self._pool[text] = self.b.add_constant(text)
        return idx

    def push_str(self, text: str) -> None:
        """Push a string literal. Past `_POOL_ROOM` distinct strings, literals go to one
        overflow table (itself one constant) read by AwkStrWide, so a program may hold
        any number of them; the rest of the pool stays for operands that need it."""
        b = self.b
        idx = self._pool.get(text)
        if idx is not None or len(self._pool) < _POOL_ROOM:
            b.emit(Op.LoadConst, self.const(text) if idx is None else idx)
            return
        if self._overflow is None:
            self._overflow = []
            self._overflow_table = b.add_constant(self._overflow)
        slot = self._overflow_index.get(text)
        if slot is None:
            slot = self._overflow_index[text] = len(self._overflow)
            self._overflow.append(text)
        b.emit(AWK["AwkStrWide"], self._overflow_table, slot)

    # -- names ---------------------------------------------------------------------------

    def is_array(self, name: str) -> bool:
        return self.info.is_array(self.func, self.params, name)

    def array_ref(self, name: str, line: int) -> None:
        """Push the handle of array `name`."""
        if name in self.params:
            self.b.emit(Op.GetSlot, self.params.index(name))
        elif name in SPECIAL_INDEX:
            raise AwkSemanticError(f"can't use {name} as an array", line)
        else:
            self.b.emit(Op.GetVar, self.b.add_name(name))

    def _misuse(self, message: str) -> None:
        """A scalar use of an array: fatal when it runs (pushes a placeholder value)."""
        self.b.emit(AWK["AwkFail"], self.const(message))

    def load_var(self, name: str) -> str:
        b = self.b
        if self.is_array(name):
            self._misuse(f"can't read value of {name}; it's an array name.")
            return "any"
        if name in self.params:
            b.emit(Op.GetSlot, self.params.index(name))
            return "any"
        k = SPECIAL_INDEX.get(name)
        if k is not None:
            if name in self.fixed_counts:
                b.emit(AWK["AwkCountNum"], k)
                return "num"
            b.emit(AWK["AwkSpecial"], k)
            return "num" if name in _NUM_SPECIALS else "any"
        b.emit(Op.GetVar, b.add_name(name))
        return "num" if name in self.defined else "any"

    def store_var(self, name: str, keep: bool) -> None:
        """Store the top of the stack into a scalar; with keep, the value stays."""
        b = self.b
        if self.is_array(name):
            self._misuse(f"can't assign to {name}; it's an array name.")
            b.emit(Op.Pop)
            if not keep:
                b.emit(Op.Pop)
            return
        k = SPECIAL_INDEX.get(name) if name not in self.params else None
        if k is not None:
            b.emit(AWK["AwkSetSpecial"], k)
            if not keep:
                b.emit(Op.Pop)
            return
        if keep:
            b.emit(Op.Dup)
        if name in self.params:
            b.emit(Op.SetSlot, self.params.index(name))
        else:
            b.emit(Op.SetVar, b.add_name(name))
            if name in self.numeric:
                self.defined.add(name)

    def key(self, subscripts: tuple[ast.Expr, ...]) -> None:
        """Push the array key for the subscripts."""
        for s in subscripts:
            idx = s
            while isinstance(idx, ast.Group):
                idx = idx.expr
            if isinstance(idx, ast.Field):
                self.field_key(idx)  # the field's text, without its strnum
            else:
                self.expr(s)
        if len(subscripts) > 1:
            self.b.emit(AWK["AwkKey"], len(subscripts))

    # -- values ----------------------------------------------------------------------------

    def num(self, e: ast.Expr) -> None:
        """Push e as a Float (one op for the common field and variable reads)."""
        while isinstance(e, ast.Group):
            e = e.expr
        if isinstance(e, ast.Field):
            k = const_field_index(e)
            if k is not None and k >= 1:
                self.b.emit(AWK["AwkFieldNum"], k)
                return
        if isinstance(e, ast.Var) and self.load_var_num(e.name):
            return
        if self.expr(e) != "num":
            self.b.emit(AWK["AwkNum"])

    def load_var_num(self, name: str) -> bool:
        """Push a plain global as a Float in one op; False (nothing emitted) otherwise."""
        if name in self.params or name in SPECIAL_INDEX or self.is_array(name):
            return False
        if name in self.defined:
            self.b.emit(Op.GetVar, self.b.add_name(name))
        else:
            self.b.emit(AWK["AwkVarNum"], self.b.add_name(name))
        return True

    def expr_void(self, e: ast.Expr) -> None:
        """Evaluate e for its effect only."""
        if isinstance(e, ast.Assign):
            self.assign(e, keep=False)
        elif isinstance(e, ast.IncDec) and isinstance(e.target, ast.Var):
            self.incdec(e, keep=False)
        else:
            self.expr(e)
            self.b.emit(Op.Pop)

    def expr(self, e: ast.Expr) -> str:
        b = self.b
        if isinstance(e, ast.Num):
            b.emit(Op.LoadFloat, float(e.value))
            return "num"
        if isinstance(e, ast.Str):
            self.push_str(e.value)
            return "str"
        if isinstance(e, ast.Regex):
            self.push_str(e.source)
            return "str"
        if isinstance(e, ast.Group):
            return self.expr(e.expr)
        if isinstance(e, ast.RecordMatch):
            b.emit(AWK["AwkMatchRec"], self.const(e.regex.source))
            return "bool"
        if isinstance(e, ast.Field):
            return self.field(e)
        if isinstance(e, ast.Var):
            return self.load_var(e.name)
        if isinstance(e, ast.Index):
            self.array_ref(e.name, e.line)
            self.key(e.subscripts)
            b.emit(AWK["AwkAGet"])
            return "any"
        if isinstance(e, ast.In):
            self.array_ref(e.array, e.line)
            self.key(e.subscripts)
            b.emit(AWK["AwkIn"])
            return "bool"
        if isinstance(e, ast.Unary):
            if e.op == "!":
                self.expr(e.operand)
                b.emit(AWK["AwkNot"])
                return "bool"
            self.num(e.operand)
            if e.op == "-":
                b.emit(Op.Negate)
            return "num"
        if isinstance(e, ast.Binary):
            # The left spine of a chain (`a + b - c ...`, any length) compiles in a loop;
            # only real nesting recurses.
            spine = _binary_spine(e)
            first = spine[-1]
            if first.op in _CORE_ARITH:
                self.num(first.left)
            else:
                self.expr(first.left)
            for node in reversed(spine):
                core = _CORE_ARITH.get(node.op)
                if core is not None:
                    self.num(node.right)
                    b.emit(core)
                else:
                    self.expr(node.right)
                    b.emit(AWK["AwkArith"], ARITH_CODES[node.op])
            return "num"
        if isinstance(e, ast.Compare):
            if self.field_compare(e):
                return "bool"
            lt = self.expr(e.left)
            rt = self.expr(e.right)
            if lt == "num" and rt == "num":
                b.emit(_CORE_CMP[e.op])
            else:
                b.emit(AWK["AwkCmp"], CMP_CODES[e.op])
            return "bool"
        if isinstance(e, ast.Logical):
            false, end = b.label(), b.label()
            self.cond(e, false, False)
            b.emit(Op.LoadTrue)
            b.emit(Op.Jump, end)
            b.bind(false)
            b.emit(Op.LoadFalse)
            b.bind(end)
            return "bool"
        if isinstance(e, ast.Match):
            self.expr(e.subject)
            if isinstance(e.regex, ast.Regex):
                b.emit(AWK["AwkMatchConst"], self.const(e.regex.source))
            else:
                self.expr(e.regex)
                b.emit(AWK["AwkMatchDyn"])
            if e.negated:
                b.emit(Op.LogNot)
            return "bool"
        if isinstance(e, ast.Concat):
            parts: list[ast.Expr] = []
            _flatten(e, parts)
            for start in range(0, len(parts), 255):
                chunk = parts[start:start + 255]
                for p in chunk:
                    self.expr(p)
                b.emit(AWK["AwkConcat"], len(chunk))
                if start:
                    b.emit(AWK["AwkConcat"], 2)
            return "str"
        if isinstance(e, ast.Cond):
            other, end = b.label(), b.label()
            self.cond(e.test, other, False)
            before = set(self.defined)
            t1 = self.expr(e.if_true)
            self.defined = set(before)
            b.emit(Op.Jump, end)
            b.bind(other)
            t2 = self.expr(e.if_false)
            self.defined = before
            b.bind(end)
            return t1 if t1 == t2 else "any"
        if isinstance(e, ast.Assign):
            return self.assign(e, keep=True)
        if isinstance(e, ast.IncDec):
            return self.incdec(e, keep=True)
        if isinstance(e, ast.Call):
            return self.call(e)
        if isinstance(e, ast.Builtin):
            return self.builtin(e)
        if isinstance(e, ast.Getline):
            return self.getline(e)
        raise AwkSemanticError(f"cannot compile {type(e).__name__}", e.line)

    def field_compare(self, e: ast.Compare) -> bool:
        """`$k op number` (either way round) in one op, which makes no StrNum of the
        field; False (nothing emitted) for any other comparison."""
        left, right, op = _strip(e.left), _strip(e.right), e.op
        if isinstance(left, ast.Num) and isinstance(right, ast.Field):
            left, right, op = right, left, _MIRRORED[op]
        if not (isinstance(left, ast.Field) and isinstance(right, ast.Num)):
            return False
        k = const_field_index(left)
        if k is None:
            return False
        self.expr(right)
        self.b.emit(AWK["AwkFieldCmp"], k, CMP_CODES[op])
        return True

    def field_key(self, e: ast.Field) -> None:
        """Push $index as an array subscript string."""
        k = const_field_index(e)
        if k is not None:
            self.b.emit(AWK["AwkFieldKeyK"], k)
        else:
            self.expr(e.index)
            self.b.emit(AWK["AwkFieldKey"])

    def field(self, e: ast.Field) -> str:
        k = const_field_index(e)
        if k is not None:
            self.b.emit(AWK["AwkFieldK"], k)
        else:
            self.expr(e.index)
            self.b.emit(AWK["AwkField"])
        return "any"

    # -- conditions -----------------------------------------------------------------------

    def cond(self, e: ast.Expr, label: Label, jump_if: bool) -> None:
        """Jump to label when the awk truth of e equals jump_if; else fall through."""
        b = self.b
        while isinstance(e, ast.Group):
            e = e.expr
        if isinstance(e, ast.Logical):
            if (e.op == "&&") != jump_if:
                # && jumping on false, or || jumping on true: either side decides, so a
                # chain of the same operator is its operands in order (a loop, any length)
                spine = _logical_spine(e)
                self.cond(spine[-1].left, label, jump_if)
                before = set(self.defined)
                for node in reversed(spine):
                    self.cond(node.right, label, jump_if)
            else:
                skip = b.label()
                self.cond(e.left, skip, not jump_if)
                before = set(self.defined)
                self.cond(e.right, label, jump_if)
                b.bind(skip)
            self.defined = before  # the right side may not have run
            return
        if isinstance(e, ast.Unary) and e.op == "!":
            self.cond(e.operand, label, not jump_if)
            return
        t = self.expr(e)
        if t not in ("num", "bool"):
            b.emit(AWK["AwkTruth"])
        b.emit(Op.JumpIfTrue if jump_if else Op.JumpIfFalse, label)

    # -- assignment -------------------------------------------------------------------------

    def _value_for(self, op: str, value: ast.Expr) -> None:
        """Push the right operand of a compound assignment (numeric for core ops)."""
        if op[0] in _CORE_ARITH:
            self.num(value)
        else:
            self.expr(value)

    def _combine(self, op: str) -> None:
        core = _CORE_ARITH.get(op[0])
        if core is not None:
            self.b.emit(core)
        else:
            self.b.emit(AWK["AwkArith"], ARITH_CODES[op[0]])

    def assign(self, e: ast.Assign, keep: bool) -> str:
        """Assignment; the right side is evaluated first, as gawk and onetrue-awk do."""
        b = self.b
        t = e.target
        while isinstance(t, ast.Group):
            t = t.expr
        if isinstance(t, ast.Var):
            if e.op == "=" and not keep and self._append(t.name, e.value):
                return "str"
            if e.op == "=":
                vt = self.expr(e.value)
            else:
                self._value_for(e.op, e.value)
                if not self.load_var_num(t.name) and self.load_var(t.name) != "num":
                    b.emit(AWK["AwkNum"])
                if e.op[0] not in _COMMUTATIVE:
                    b.emit(Op.Swap)
                self._combine(e.op)
                vt = "num"
            self.store_var(t.name, keep)
            return vt
        if e.op == "=":
            self.expr(e.value)
        else:  # (AwkFieldOp and AwkAOp take num(v): a field's number, no strnum made)
            self.num(e.value)
        if isinstance(t, ast.Field):
            self.expr(t.index)
            b.emit(Op.Swap)
            if e.op == "=":
                b.emit(AWK["AwkSetField"])
            else:
                b.emit(AWK["AwkFieldOp"], ARITH_CODES[e.op[0]])
        elif isinstance(t, ast.Index):
            self.array_ref(t.name, t.line)
            self.key(t.subscripts)
            b.emit(Op.Rot)
            if e.op == "=":
                b.emit(AWK["AwkASet"])
            else:
                b.emit(AWK["AwkAOp"], ARITH_CODES[e.op[0]])
        else:
            raise AwkSemanticError("assignment to a non-lvalue", e.line)
        if not keep:
            b.emit(Op.Pop)
        return "any" if e.op == "=" else "num"

    def _append(self, name: str, value: ast.Expr) -> bool:
        """`name = name x ...` as an append to the variable (AwkAppendVar), when `name` is
        a plain global and nothing in `x ...` can change it (no function call, nothing
        that assigns it: `infer.target_of`): the rest is then evaluated before the
        variable is read, with the same result. False (nothing emitted) for any
        other assignment."""
        value = _strip(value)
        if (not isinstance(value, ast.Concat) or name in self.params
                or name in SPECIAL_INDEX or self.is_array(name)):
            return False
        parts: list[ast.Expr] = []
        _flatten(value, parts)
        first = _strip(parts[0])
        rest = parts[1:]
        if not isinstance(first, ast.Var) or first.name != name or len(rest) > 255:
            return False
        for part in rest:
            for node in nodes(part):
                target = target_of(node)
                if isinstance(node, ast.Call) or (isinstance(target, ast.Var)
                                                  and target.name == name):
                    return False
        for part in rest:
            self.expr(part)
        if len(rest) > 1:
            self.b.emit(AWK["AwkConcat"], len(rest))
        self.b.emit(AWK["AwkAppendVar"], self.b.add_name(name))
        if name in self.numeric:
            self.defined.add(name)
        return True

    def incdec(self, e: ast.IncDec, keep: bool) -> str:
        b = self.b
        t = e.target
        if isinstance(t, ast.Group):
            t = t.expr
        mode = (0 if e.prefix else 1) | (2 if e.op == "--" else 0)
        if isinstance(t, ast.Var):
            if not self.load_var_num(t.name) and self.load_var(t.name) != "num":
                b.emit(AWK["AwkNum"])
            post = keep and not e.prefix
            if post:
                b.emit(Op.Dup)
            b.emit(Op.LoadFloat, 1.0)
            b.emit(Op.Sub if e.op == "--" else Op.Add)
            if post:
                self.store_var(t.name, False)
            else:
                self.store_var(t.name, keep)
            return "num"
        if isinstance(t, ast.Field):
            self.expr(t.index)
            b.emit(AWK["AwkFieldInc"], mode)
        elif isinstance(t, ast.Index):
            self.array_ref(t.name, t.line)
            self.key(t.subscripts)
            b.emit(AWK["AwkAInc"], mode)
        else:
            raise AwkSemanticError(f"{e.op} applied to a non-lvalue", e.line)
        if not keep:
            b.emit(Op.Pop)
        return "num"

    def store_top(self, target: ast.Expr) -> None:
        """Store the value on top of the stack into target, consuming it."""
        b = self.b
        while isinstance(target, ast.Group):
            target = target.expr
        if isinstance(target, ast.Var):
            self.store_var(target.name, False)
        elif isinstance(target, ast.Field):
            self.expr(target.index)
            b.emit(Op.Swap)
            b.emit(AWK["AwkSetField"])
            b.emit(Op.Pop)
        elif isinstance(target, ast.Index):
            self.array_ref(target.name, target.line)
            self.key(target.subscripts)
            b.emit(Op.Rot)
            b.emit(AWK["AwkASet"])
            b.emit(Op.Pop)
        else:
            b.emit(Op.Pop)

    def store_if(self, target: ast.Expr) -> None:
        """Stack `... v ok`: store v into target when ok, else drop it."""
        b = self.b
        skip, end = b.label(), b.label()
        b.emit(Op.JumpIfFalse, skip)
        self.store_top(target)
        b.emit(Op.Jump, end)
        b.bind(skip)
        b.emit(Op.Pop)
        b.bind(end)

    # -- calls ------------------------------------------------------------------------------

    def call(self, e: ast.Call) -> str:
        b = self.b
        fn = self.functions.get(e.name)
        if fn is None:
            # both reference awks fail only when the call is reached
            b.emit(AWK["AwkFail"], self.const(f"calling undefined function {e.name}"),
                   line=e.line)
            return "any"
        if len(e.args) > len(fn.params):
            raise AwkSemanticError(f"function {e.name} called with {len(e.args)} args, "
                                   f"accepts only {len(fn.params)}", e.line)
        arrays = self.info.param_arrays.get(fn.name, set())
        for i in range(len(fn.params)):
            if i < len(e.args):
                arg = e.args[i]
                if i in arrays:
                    while isinstance(arg, ast.Group):
                        arg = arg.expr
                    if not isinstance(arg, ast.Var):
                        raise AwkSemanticError(f"can't pass a scalar as array parameter "
                                               f"{fn.params[i]} of {fn.name}", e.line)
                    self.array_ref(arg.name, arg.line)
                    b.emit(AWK["AwkCheckArray"])
                else:
                    self.expr(arg)
            else:
                b.emit(AWK["AwkNewArray"] if i in arrays else AWK["AwkUninit"])
        b.emit(Op.Call, b.add_name(fn.name), len(fn.params), line=e.line)
        return "any"

    def regex_arg(self, e: ast.Expr) -> None:
        """A regex argument: a literal's source, or any expression (a dynamic ERE)."""
        if isinstance(e, ast.Regex):
            self.push_str(e.source)
        else:
            self.expr(e)

    def builtin(self, e: ast.Builtin) -> str:
        b = self.b
        name = e.name
        args = e.args
        if name == "length":
            if not args:
                b.emit(AWK["AwkFieldKeyK"], 0)  # (the record's text)
                b.emit(AWK["AwkLength"])
                return "num"
            a = args[0]
            if isinstance(a, ast.Var) and self.is_array(a.name):
                self.array_ref(a.name, a.line)
                b.emit(AWK["AwkArrayLen"])
                return "num"
            if isinstance(_strip(a), ast.Field):
                # a field's string value is its text (a number by CONVFMT), as a subscript
                # takes it: no strnum is made to be measured
                self.field_key(_strip(a))  # type: ignore[arg-type]
            else:
                self.expr(a)
            b.emit(AWK["AwkLength"])
            return "num"
        if name == "substr":
            for a in args:
                self.expr(a)
            b.emit(AWK["AwkSubstr"], len(args))
            return "str"
        if name == "index":
            self.expr(args[0])
            self.expr(args[1])
            b.emit(AWK["AwkIndex"])
            return "num"
        if name == "split":
            return self.split(e)
        if name in ("sub", "gsub"):
            return self.sub(e)
        if name == "match":
            self.expr(args[0])
            self.regex_arg(args[1])
            b.emit(AWK["AwkMatch"])
            return "num"
        if name == "sprintf":
            self.format_args(args)
            b.emit(AWK["AwkSprintf"], len(args))
            return "str"
        if name in ("tolower", "toupper"):
            self.expr(args[0])
            b.emit(AWK["AwkCase"], 1 if name == "toupper" else 0)
            return "str"
        if name == "int":
            self.expr(args[0])
            b.emit(AWK["AwkInt"])
            return "num"
        if name in MATH_CODES:
            self.expr(args[0])
            b.emit(AWK["AwkMath"], MATH_CODES[name])
            return "num"
        if name == "atan2":
            self.expr(args[0])
            self.expr(args[1])
            b.emit(AWK["AwkAtan2"])
            return "num"
        if name == "rand":
            b.emit(AWK["AwkRand"])
            return "num"
        if name == "srand":
            for a in args:
                self.expr(a)
            b.emit(AWK["AwkSrand"], len(args))
            return "num"
        if name == "system":
            self.expr(args[0])
            b.emit(AWK["AwkSystem"])
            return "num"
        if name == "close":
            self.expr(args[0])
            for extra in args[1:]:
                self.expr(extra)
                b.emit(Op.Pop)
            b.emit(AWK["AwkClose"])
            return "num"
        if name == "fflush":
            for a in args:
                self.expr(a)
            b.emit(AWK["AwkFflush"], len(args))
            return "num"
        raise AwkSemanticError(f"unknown builtin {name}", e.line)

    def format_args(self, args: tuple[ast.Expr, ...]) -> None:
        """Push printf's or sprintf's format and arguments. With a literal format, an
        argument only a number or only a text of is needed for (`argument_kinds`) is pushed
        as that: `$2` for `%.2f` as its number, `$1` for `%s` as its text."""
        fmt = _strip(args[0])
        kinds = argument_kinds(fmt.value) if isinstance(fmt, ast.Str) else ()
        self.expr(args[0])
        for i, a in enumerate(args[1:]):
            kind = kinds[i] if i < len(kinds) else None
            plain = _strip(a)
            if kind == "num":
                self.num(a)
            elif kind == "str" and isinstance(plain, ast.Field):
                self.field_key(plain)
            else:
                self.expr(a)

    def sub(self, e: ast.Builtin) -> str:
        """sub/gsub: a field or element target is located once, then replaced in place."""
        b = self.b
        args = e.args
        glob = 1 if e.name == "gsub" else 0
        target = args[2] if len(args) > 2 else ast.Field(e.line, ast.Num(e.line, 0.0))
        while isinstance(target, ast.Group):
            target = target.expr
        if isinstance(target, ast.Field):
            self.expr(target.index)
            self.regex_arg(args[0])
            self.expr(args[1])
            b.emit(AWK["AwkSubField"], glob)
        elif isinstance(target, ast.Index):
            self.array_ref(target.name, target.line)
            self.key(target.subscripts)
            self.regex_arg(args[0])
            self.expr(args[1])
            b.emit(AWK["AwkSubIndex"], glob)
        else:
            self.regex_arg(args[0])
            self.expr(args[1])
            self.expr(target)
            b.emit(AWK["AwkSub"], glob)
            self.store_if(target)
        return "num"

    def split(self, e: ast.Builtin) -> str:
        b = self.b
        args = e.args
        self.expr(args[0])
        target = args[1]
        while isinstance(target, ast.Group):
            target = target.expr
        if not isinstance(target, ast.Var):
            raise AwkSemanticError("split: second argument must be an array name", e.line)
        self.array_ref(target.name, target.line)
        if len(args) < 3:
            b.emit(AWK["AwkUninit"])
            mode = 0
        elif isinstance(args[2], ast.Regex):
            self.regex_arg(args[2])
            mode = 2
        else:
            self.expr(args[2])
            mode = 1
        b.emit(AWK["AwkSplit"], mode)
        return "num"

    def getline(self, e: ast.Getline) -> str:
        b = self.b
        if e.source is not None:
            self.expr(e.source)
        suffix = {"simple": "", "file": "File", "command": "Cmd"}[e.kind]
        if e.target is None:
            b.emit(AWK[f"AwkGetline{suffix}"])
        else:
            b.emit(AWK[f"AwkGetline{suffix}Var"])
            self.store_if(e.target)
        return "num"


def _flatten(e: ast.Expr, out: list[ast.Expr]) -> None:
    """The operands of a tree of concatenations, in order (iteratively: chains are long)."""
    stack = [e]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Concat):
            stack.append(node.right)
            stack.append(node.left)
        else:
            out.append(node)


def _strip(e: ast.Expr) -> ast.Expr:
    while isinstance(e, ast.Group):
        e = e.expr
    return e


def const_field_index(e: ast.Field) -> int | None:
    """The index of `$k` when it is a constant that fits an op's operand, else None."""
    idx = _strip(e.index)
    # (the range first: `int` of an infinity or a NaN raises)
    if isinstance(idx, ast.Num) and 0 <= idx.value < 65536 and idx.value == int(idx.value):
        return int(idx.value)
    return None


def _binary_spine(e: ast.Binary) -> list[ast.Binary]:
    """`e` and the arithmetic nodes down its left operands, outermost first."""
    spine = [e]
    while isinstance(left := _strip(spine[-1].left), ast.Binary):
        spine.append(left)
    return spine


def _logical_spine(e: ast.Logical) -> list[ast.Logical]:
    """`e` and the nodes of the same operator (`&&` or `||`) down its left operands."""
    spine = [e]
    while isinstance(left := _strip(spine[-1].left), ast.Logical) and left.op == e.op:
        spine.append(left)
    return spine
