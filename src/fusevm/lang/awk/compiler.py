"""The awk compiler: program layout, statements, lvalues and user functions.

Layout of a compiled program (root code first, functions after it):

    AwkInit names; AwkMark 0 @end; AwkMark 1 @loop; [AwkSplitLimit k]; range flags = false
    BEGIN bodies
    @loop: AwkNextRecord mode; JumpIfFalse @end; rules...; Jump @loop     (only with rules/END)
    (AwkNextMatch instead for one rule `/re/ {...}`, which it tests; AwkNextCandidate
    when every rule is a regex needing some literal text)
    @end: AwkEnterEnd; END bodies; Return
    function bodies: prologue pops the arguments into slots, body, AwkUninit; ReturnValue

Every statement starts and ends at stack depth 0 (for-in keeps its iterator in a hidden
slot or global), so `next` is a plain Jump and `exit` can unwind to @end. Expressions are
compiled by `exprs.ExprCompiler`, which this class extends.
"""

from __future__ import annotations

from fusevm.chunk import Chunk, ChunkBuilder, Label
from fusevm.lang.awk import ast
from fusevm.lang.awk.errors import AwkSemanticError
from fusevm.lang.awk.exprs import ExprCompiler, const_field_index
from fusevm.lang.awk.infer import infer, nodes, numeric_globals, target_of, walk, writes_argv
from fusevm.lang.awk.ops import AWK, MODE_CODES
from fusevm.lang.awk.regex import required_literals
from fusevm.ops import Op

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

#: The specials that count records.
_COUNTS = frozenset({"NR", "FNR"})


class Compiler(ExprCompiler):
    """Compiles one parsed program into one chunk."""

    def __init__(self, program: ast.Program, source: str = "<awk>",
                 assigned: frozenset[str] = frozenset()) -> None:
        super().__init__(ChunkBuilder(source=source), infer(program), program.functions)
        self.program = program
        #: Every node of the program, for the analyses that read them all.
        self.walked = walk(program)
        self.numeric = numeric_globals(program, self.info, set(assigned), self.walked)
        self.loops: list[tuple[Label, Label]] = []
        self.loop_label = self.b.label("loop")
        self.end_label = self.b.label("end")
        self.ranges = 0
        self.hidden_globals: list[str] = []
        self._reachable: set[str] | None = None
        self.fixed_counts = fixed_counts(self.walked) - assigned

    # -- program --------------------------------------------------------------------

    def compile(self, fuse: bool = True) -> Chunk:
        b = self.b
        prog = self.program
        names = sorted(self.info.global_scalars)
        names += ["#" + n for n in sorted(self.numeric)]
        names += ["@" + n for n in sorted(self.info.global_arrays)]
        # (In a fixed order: the chunk, its digest and the caches keyed by it are then the
        # same in every process, whatever its string hash seed.)
        for n in sorted(self.info.global_scalars | self.info.global_arrays):
            b.add_name(n)
        b.emit(AWK["AwkInit"], b.add_constant(names), line=1)
        b.emit(AWK["AwkMark"], 0, self.end_label)
        b.emit(AWK["AwkMark"], 1, self.loop_label)
        limit = self.field_limit()
        if limit:
            b.emit(AWK["AwkSplitLimit"], limit)
        range_flags: list[str] = []
        for rule in prog.rules:
            if isinstance(rule, ast.RangePattern):
                range_flags.append(f"$range{len(range_flags)}")
        for flag in range_flags:
            b.emit(Op.LoadFalse)
            b.emit(Op.SetVar, b.add_name(flag))
        for begin in prog.begins:
            self.stmt(begin.body)
        if prog.rules or prog.ends:
            b.bind(self.loop_label)
            matched = self.record_match()
            needs = self.record_filter() if matched is None else None
            if matched is not None:
                b.emit(AWK["AwkNextMatch"], self.const(matched))
            elif needs is None:
                b.emit(AWK["AwkNextRecord"], (1 if self.counts_records() else 0)
                       | (2 if self.rewrites_records() else 0))
            else:
                b.emit(AWK["AwkNextCandidate"], b.add_constant(list(needs)))
            b.emit(Op.JumpIfFalse, self.end_label)
            flags = iter(range_flags)
            after_begin = set(self.defined)  # rules run only once BEGIN has finished
            for rule in prog.rules:
                self.defined = set(after_begin)
                if isinstance(rule, ast.RangePattern):
                    self.range_rule(rule, next(flags))
                elif matched is not None:
                    self.b.set_line(rule.line)
                    self.action(rule.body, rule.line)  # AwkNextMatch tested the pattern
                else:
                    self.pattern_rule(rule)
            b.emit(Op.Jump, self.loop_label)
        else:
            b.bind(self.loop_label)
        b.bind(self.end_label)
        self.defined = set()  # an exit may have skipped any assignment
        b.emit(AWK["AwkEnterEnd"])
        for end in prog.ends:
            self.stmt(end.body)
        b.emit(Op.Return)
        for fn in self.functions.values():
            if fn.name in self.reachable():
                self.defined = set()
                self.function(fn)
        return b.build(fuse=fuse)

    def record_filter(self) -> tuple[str, ...] | None:
        """Texts one of which every record some rule runs for holds, when every rule is
        `/re/ {...}` and each regex needs some literal text in what it matches; else None.
        A record holding none of them runs nothing but the count of NR and FNR."""
        needs: list[str] = []
        for rule in self.program.rules:
            regex = _rule_regex(rule)
            if regex is None:
                return None
            required = required_literals(regex.source)
            if required is None:
                return None
            needs.extend(text for text in required if text not in needs)
        return tuple(needs) if needs else None

    def record_match(self) -> str | None:
        """The ERE of a program's one rule when it is `/re/ {...}`: the record loop then
        reads only the records it matches (AwkNextMatch), and the rule runs its action."""
        rules = self.program.rules
        regex = _rule_regex(rules[0]) if len(rules) == 1 else None
        return regex.source if regex is not None else None

    def field_limit(self) -> int:
        """The highest field a program reads when every field it names is a constant `$k`
        and it never names NF nor assigns a field: then a record need be split no further
        than `$k` (a split into k + 1 pieces, the last one the rest). 0: split whole."""
        limit = 0
        for n in self.walked:
            if isinstance(n, ast.Var) and n.name == "NF" or \
                    isinstance(n, ast.ForIn) and n.var == "NF":
                return 0
            if isinstance(n, ast.Field):
                k = const_field_index(n)
                if k is None:
                    return 0
                limit = max(limit, k)
            if isinstance(target_of(n), ast.Field):
                return 0
        return limit

    def rewrites_records(self) -> bool:
        """Whether the program may replace $0 or assign a field (so on any record): then
        the record loop resets what that changes on every record, instead of each such
        change sending the next record the long way (`AwkState.keeps_lines`)."""
        for n in self.walked:
            target = target_of(n)
            if target is None or isinstance(target, ast.Field):
                return True
        return False

    def counts_records(self) -> bool:
        """Whether the program names NR or FNR anywhere: only then need the record loop
        count every record (a program that never names them cannot see them)."""
        return any(isinstance(n, ast.Var) and n.name in _COUNTS
                   or isinstance(n, ast.ForIn) and n.var in _COUNTS
                   for n in self.walked)

    def reachable(self) -> set[str]:
        """Functions reachable from BEGIN, the rules and END: only those are compiled,
        since the verifier learns a function's argument count from its call sites."""
        if self._reachable is None:
            prog = self.program
            seen: set[str] = set()
            todo: list[str] = []
            for item in prog.items:
                if not isinstance(item, ast.Function):
                    todo.extend(called_functions(item))
            while todo:
                name = todo.pop()
                if name in seen or name not in self.functions:
                    continue
                seen.add(name)
                todo.extend(called_functions(self.functions[name].body))
            self._reachable = seen
        return self._reachable

    def pattern_rule(self, rule: ast.PatternAction) -> None:
        skip = self.b.label()
        self.b.set_line(rule.line)
        if rule.pattern is not None:
            self.cond(rule.pattern, skip, False)
        self.action(rule.body, rule.line)
        self.b.bind(skip)

    def range_rule(self, rule: ast.RangePattern, flag: str) -> None:
        b = self.b
        g = b.add_name(flag)
        check_stop, clear, body, skip = b.label(), b.label(), b.label(), b.label()
        b.set_line(rule.line)
        b.emit(Op.GetVar, g)
        b.emit(Op.JumpIfTrue, check_stop)
        self.cond(rule.start, skip, False)
        b.bind(check_stop)
        self.cond(rule.stop, clear, True)
        b.emit(Op.LoadTrue)
        b.emit(Op.SetVar, g)
        b.emit(Op.Jump, body)
        b.bind(clear)
        b.emit(Op.LoadFalse)
        b.emit(Op.SetVar, g)
        b.bind(body)
        self.action(rule.body, rule.line)
        b.bind(skip)

    def action(self, body: ast.Block | None, line: int) -> None:
        if body is None:
            self.b.emit(AWK["AwkPrint"], 0, line=line)
        else:
            self.stmt(body)

    def function(self, fn: ast.Function) -> None:
        b = self.b
        self.func = fn.name
        self.params = fn.params
        self.next_slot = len(fn.params)
        b.add_sub_entry(fn.name, b.current_pos())
        b.set_line(fn.line)
        for i in reversed(range(len(fn.params))):
            b.emit(Op.SetSlot, i)
        self.stmt(fn.body)
        b.emit(AWK["AwkUninit"])
        b.emit(Op.ReturnValue)
        self.func = None
        self.params = ()

    # -- statements -------------------------------------------------------------------

    def stmt(self, s: ast.Stmt) -> None:
        b = self.b
        b.set_line(s.line)
        if isinstance(s, ast.Block):
            for inner in s.body:
                self.stmt(inner)
        elif isinstance(s, ast.ExprStmt):
            self.expr_void(s.expr)
        elif isinstance(s, ast.Print):
            self.print_stmt(s.args, s.redirect, False)
        elif isinstance(s, ast.Printf):
            if s.args:
                self.print_stmt(s.args, s.redirect, True)
        elif isinstance(s, ast.If):
            other = b.label()
            self.cond(s.test, other, False)
            before = set(self.defined)
            self.stmt(s.then)
            self.defined = set(before)
            if s.otherwise is None:
                b.bind(other)
            else:
                end = b.label()
                b.emit(Op.Jump, end)
                b.bind(other)
                self.stmt(s.otherwise)
                self.defined = before
                b.bind(end)
        elif isinstance(s, ast.While):
            top, end = b.label(), b.label()
            b.bind(top)
            self.cond(s.test, end, False)
            self.loop_body(s.body, end, top)
            b.emit(Op.Jump, top)
            b.bind(end)
        elif isinstance(s, ast.Do):
            top, cont, end = b.label(), b.label(), b.label()
            b.bind(top)
            self.loop_body(s.body, end, cont)
            b.bind(cont)
            self.cond(s.test, top, True)
            b.bind(end)
        elif isinstance(s, ast.For):
            self.for_stmt(s)
        elif isinstance(s, ast.ForIn):
            self.for_in(s)
        elif isinstance(s, ast.Break):
            b.emit(Op.Jump, self.loops[-1][0])
        elif isinstance(s, ast.Continue):
            b.emit(Op.Jump, self.loops[-1][1])
        elif isinstance(s, ast.Next):
            if self.func is None:
                b.emit(Op.Jump, self.loop_label)
            else:
                b.emit(AWK["AwkJumpOut"], 0)
        elif isinstance(s, ast.NextFile):
            b.emit(AWK["AwkJumpOut"], 1)
        elif isinstance(s, ast.Exit):
            if s.status is None:
                b.emit(AWK["AwkUninit"])
            else:
                self.expr(s.status)
            b.emit(AWK["AwkExit"], 0 if s.status is None else 1)
        elif isinstance(s, ast.Return):
            if s.value is None:
                b.emit(AWK["AwkUninit"])
            else:
                self.expr(s.value)
            b.emit(Op.ReturnValue)
        elif isinstance(s, ast.Delete):
            self.array_ref(s.name, s.line)
            if s.subscripts is None:
                b.emit(AWK["AwkDeleteAll"])
            else:
                self.key(s.subscripts)
                b.emit(AWK["AwkDelete"])
        else:  # pragma: no cover - the parser makes no other statements
            raise AwkSemanticError(f"cannot compile {type(s).__name__}", s.line)

    def loop_body(self, body: ast.Stmt, brk: Label, cont: Label) -> None:
        self.loops.append((brk, cont))
        before = set(self.defined)
        self.stmt(body)
        self.defined = before  # the body may run zero times
        self.loops.pop()

    def for_stmt(self, s: ast.For) -> None:
        b = self.b
        if s.init is not None:
            self.stmt(s.init)
        top, cont, end = b.label(), b.label(), b.label()
        b.bind(top)
        if s.test is not None:
            self.cond(s.test, end, False)
        self.loop_body(s.body, end, cont)
        b.bind(cont)
        if s.step is not None:
            self.stmt(s.step)
        b.emit(Op.Jump, top)
        b.bind(end)

    def for_in(self, s: ast.ForIn) -> None:
        b = self.b
        self.array_ref(s.array, s.line)
        b.emit(AWK["AwkForIn"])
        if self.func is None:
            hidden = b.add_name(f"$iter{len(self.hidden_globals)}")
            self.hidden_globals.append(f"$iter{len(self.hidden_globals)}")
            b.emit(Op.SetVar, hidden)
            load = (Op.GetVar, hidden)
        else:
            slot = self.next_slot
            self.next_slot += 1
            b.emit(Op.SetSlot, slot)
            load = (Op.GetSlot, slot)
        top, done, end = b.label(), b.label(), b.label()
        b.bind(top)
        b.emit(*load)
        b.emit(AWK["AwkForNext"])
        b.emit(Op.JumpIfFalse, done)
        self.store_top(ast.Var(s.line, s.var))
        self.loop_body(s.body, end, top)
        b.emit(Op.Jump, top)
        b.bind(done)
        b.emit(Op.Pop)
        b.bind(end)

    def print_stmt(self, args: tuple[ast.Expr, ...], redirect: ast.Redirect | None,
                   formatted: bool) -> None:
        b = self.b
        if len(args) > 255:
            raise AwkSemanticError("too many arguments to print", args[0].line)
        if formatted:
            self.format_args(args)
        else:
            for a in args:
                k = const_field_index(a) if isinstance(a, ast.Field) else None
                if k is not None:
                    b.emit(AWK["AwkFieldTextK"], k)  # (its text: no strnum made to print)
                else:
                    self.expr(a)
        if redirect is None:
            b.emit(AWK["AwkPrintf" if formatted else "AwkPrint"], len(args))
        else:
            self.expr(redirect.target)
            b.emit(AWK["AwkPrintfTo" if formatted else "AwkPrintTo"], len(args),
                   MODE_CODES[redirect.mode])


def _rule_regex(rule: ast.PatternAction | ast.RangePattern) -> ast.Regex | None:
    """The regex of a rule `/re/ {...}` (its pattern a bare regex, groups unwrapped); None
    for any other rule."""
    pattern = rule.pattern if isinstance(rule, ast.PatternAction) else None
    while isinstance(pattern, ast.Group):
        pattern = pattern.expr
    return pattern.regex if isinstance(pattern, ast.RecordMatch) else None


def fixed_counts(walked: Sequence[object]) -> frozenset[str]:
    """Those of NR, FNR and NF the program whose nodes are `walked` (`infer.walk`) never
    assigns (by `=`, `++`, getline, sub or gsub, or as a for-in variable; -v and operands
    are the caller's to add): each always reads as the number awk keeps."""
    if writes_argv(walked):
        return frozenset()  # (an operand it puts there may assign any of them)
    counts = {"NR", "FNR", "NF"}
    for n in walked:
        if isinstance(n, ast.ForIn):
            counts.discard(n.var)
        target = target_of(n)
        if isinstance(target, ast.Var):
            counts.discard(target.name)
    return frozenset(counts)


def called_functions(node: object) -> set[str]:
    """Names of the user functions called anywhere inside node."""
    return {n.name for n in nodes(node) if isinstance(n, ast.Call)}


def compile_ast(program: ast.Program, fuse: bool = True, source: str = "<awk>",
                assigned: frozenset[str] = frozenset()) -> Chunk:
    """Compile a parsed program; `assigned` names the variables -v sets, which may hold
    strings. Raises AwkSemanticError."""
    return Compiler(program, source, assigned).compile(fuse)
