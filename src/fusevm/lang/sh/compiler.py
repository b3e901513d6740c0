"""The sh compiler: one parsed complete command (or a function body) -> one Chunk.

Control flow (`if`, loops, `case`, `&&`/`||`, `break`/`continue`) is core jumps on `$?`
(`GetStatus` pushes a Status, true when 0); words are built from their parts with
`Concat` and finished by `ShFields`/`ShStrip`/`ShPattern`; `$(...)` is the core
`CmdSubst`; redirections are core `Redirect` ops (and `WithRedirectsBegin/End` around
compound commands); the rest are `sh` extension ops (see `opset`).
"""

from __future__ import annotations

from fusevm.chunk import Chunk, ChunkBuilder, Label
from fusevm.lang.sh import ast, words
from fusevm.lang.sh.lexer import _assignment
from fusevm.lang.sh.opset import (
    A_PARAM,
    A_QUOTED,
    ASSIGN_ERREXIT,
    ASSIGN_LAST,
    ASSIGN_SUBST,
    B_PARAM,
    B_QUOTED,
    DIRECT,
    ERREXIT,
    FIELDS,
    JUMP_OK,
    LENGTH,
    PURE_WORDS,
    QUOTED,
    RAW,
    SH,
    TEST_CMP,
    TEST_NAME,
    TEXT_BUILTINS,
    TRIM_CODES,
)
from fusevm.ops import Op
from fusevm.records import dataclass, field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from fusevm.ops.shell_codes import Redir

_GLOB = frozenset("*?[")


def _redir_kinds() -> dict[str, Redir]:
    """The code of each redirection operator (the shell codes' module loads with a
    script's first redirection)."""
    from fusevm.ops.shell_codes import Redir
    return {">": Redir.WRITE, ">>": Redir.APPEND, "<": Redir.READ, "<>": Redir.READ_WRITE,
            ">|": Redir.CLOBBER, "<&": Redir.DUP_READ, ">&": Redir.DUP_WRITE}


@dataclass
class _Loop:
    brk: Label
    cont: Label
    slot: int
    scopes: int


@dataclass
class Compiler:
    b: ChunkBuilder
    loops: list[_Loop] = field(default_factory=list)
    scopes: int = 0
    cond: int = 0  # > 0 inside a condition: set -e does not apply
    slots: int = 0

    def new_slots(self, n: int) -> int:
        s = self.slots
        self.slots += n
        self.b.reserve_slots(self.slots)
        return s

    def const(self, value: object) -> int:
        return self.b.add_constant(value)

    # -- lists and commands --------------------------------------------------------------------

    def items(self, items: list[ast.ListItem], direct: bool = False) -> None:
        """A command list; `direct`: the list is all a forked child runs, so a lone simple
        command may replace the child by exec (keeping `$!`/`$PPID` right)."""
        if direct and len(items) == 1 and not items[0].background \
                and isinstance(items[0].cmd, ast.Simple):
            self.simple(items[0].cmd, direct=True)
            return
        for item in items:
            if item.background:
                self.background(item.cmd, item.text)
            else:
                self.command(item.cmd)

    def background(self, cmd: ast.Command, text: str = "") -> None:
        b = self.b
        start, stop = b.label(), b.label()
        if text:
            b.emit(SH["ShJobText"], self.const(text))
        b.emit(SH["ShBg"], start, stop)
        b.bind(start)
        self.forked(cmd, direct=True)
        b.bind(stop)

    def forked(self, cmd: ast.Command, direct: bool = False) -> None:
        """Code run in a forked child: no enclosing loops or scopes reach it."""
        saved = (self.loops, self.scopes, self.cond)
        self.loops, self.scopes, self.cond = [], 0, self.cond
        if direct and isinstance(cmd, ast.Simple):
            self.simple(cmd, direct=True)
        elif direct and isinstance(cmd, ast.Pipeline) and not cmd.bang and len(cmd.cmds) > 1:
            self.pipeline(cmd, inline_last=True)
        else:
            self.command(cmd)
        self.loops, self.scopes, self.cond = saved

    def command(self, cmd: ast.Command) -> None:
        if isinstance(cmd, ast.Simple):
            self.simple(cmd)
        elif isinstance(cmd, ast.AndOr):
            self.and_or(cmd)
        elif isinstance(cmd, ast.Pipeline):
            self.pipeline(cmd)
        elif isinstance(cmd, ast.Group):
            self.items(cmd.body)
        elif isinstance(cmd, ast.Subshell):
            self.subshell(cmd)
        elif isinstance(cmd, ast.If):
            self.if_(cmd)
        elif isinstance(cmd, ast.Loop):
            self.loop(cmd)
        elif isinstance(cmd, ast.For):
            self.for_(cmd)
        elif isinstance(cmd, ast.Case):
            self.case(cmd)
        elif isinstance(cmd, ast.FuncDef):
            self.funcdef(cmd)
        elif isinstance(cmd, ast.Redirected):
            self.redirected(cmd)
        else:  # pragma: no cover
            raise TypeError(type(cmd).__name__)

    def _errcheck(self) -> None:
        if not self.cond:
            self.b.emit(SH["ShErrCheck"])

    def simple(self, cmd: ast.Simple, direct: bool = False,
               jump: tuple[Label, bool] | None = None) -> bool:
        """A simple command; with `jump` (target, ok), a condition whose status decides a
        jump: True when the command emitted that jump itself (`[ a OP b ]`)."""
        b = self.b
        line = min(cmd.line, 0xFFFF)
        subst = _mentions_subst_or_lineno(cmd)
        b.set_line(cmd.line)
        if subst:
            # resets the status of the last $(...) and sets LINENO before expanding
            b.emit(SH["ShLine"], line)
        if not cmd.words:
            if cmd.redirs and cmd.assigns:
                self.assignments_redirected(cmd, subst)
                return False
            last = len(cmd.assigns) - 1
            for i, (name, word) in enumerate(cmd.assigns):
                self.assigned(word)
                flags = 0
                if i == last:
                    flags = ASSIGN_LAST | (0 if self.cond else ASSIGN_ERREXIT) | (
                        ASSIGN_SUBST if subst else 0)
                b.emit(SH["ShAssign"], self.const(name), flags)
            if cmd.redirs:
                for r in cmd.redirs:
                    self.redir(r)
                b.emit(SH["ShRun"], 0, 0 if self.cond else ERREXIT, line)
            return False
        # break/continue inside a loop of this chunk are jumps
        lit = cmd.words[0].literal()
        if lit in ("break", "continue") and self.loops and not cmd.redirs and not cmd.assigns \
                and len(cmd.words) <= 2:
            n = 1
            if len(cmd.words) == 2:
                arg = cmd.words[1].literal()
                if arg is None or not arg.isdigit() or int(arg) < 1:
                    n = 0
                else:
                    n = int(arg)
            if n:
                self.loop_jump(lit == "break", n)
                return False
        if lit in ("[", "test") and not cmd.redirs and not cmd.assigns:
            return self.test(cmd, lit, line, jump)
        # (`command export x=$v` too: an unquoted `command` with no option keeps a
        # declaration utility's assignments whole, as bash does)
        first = 1 if lit != "command" or len(cmd.words) < 2 else 2
        declaration = cmd.words[first - 1].literal() in ("export", "readonly", "local")
        for i, word in enumerate(cmd.words):
            split = _assignment(word) if declaration and i >= first else None
            if split is not None:
                # `export x=$v`: a declaration utility's assignment is not split or globbed
                b.emit(Op.LoadConst, self.const(split[0] + "="))
                self.word_string(split[1])
                b.emit(Op.Concat)
            else:
                self.word_fields(word)
        for r in cmd.redirs:
            self.redir(r)
        for name, word in cmd.assigns:
            self.word_string(word)
            b.emit(SH["ShPrefix"], self.const(name))
        flags = (0 if self.cond else ERREXIT) | (DIRECT if direct else 0)
        if direct and not subst and _pure_command(cmd):
            flags |= PURE_WORDS
        b.emit(SH["ShRun"], len(cmd.words), flags, line)
        return False

    def assignments_redirected(self, cmd: ast.Simple, subst: bool) -> None:
        """Assignments with redirections and no command name (`x=$(cat) <file`): the
        redirections are performed first and the values expanded while they hold (XCU
        2.9.1, steps 3 and 4, as dash does; bash assigns first), then undone. A
        redirection that fails assigns nothing."""
        b = self.b
        fail = b.label()
        b.emit(SH["ShLine"], min(cmd.line, 0xFFFF))  # (the line a failure names)
        for r in cmd.redirs:
            self.redir(r)
        b.emit(Op.WithRedirectsBegin, len(cmd.redirs))
        b.emit(SH["ShRedirCheck"], fail)
        self.scopes += 1
        last = len(cmd.assigns) - 1
        for i, (name, word) in enumerate(cmd.assigns):
            self.assigned(word)
            # (set -e is applied once the redirections are undone: an EXIT trap then
            # writes where the shell's output goes)
            b.emit(SH["ShAssign"], self.const(name),
                   ASSIGN_LAST | (ASSIGN_SUBST if subst else 0) if i == last else 0)
        self.scopes -= 1
        b.emit(Op.WithRedirectsEnd)
        b.bind(fail)
        if not self.cond:
            b.emit(SH["ShErrCheck"])

    def test(self, cmd: ast.Simple, name: str, line: int,
             jump: tuple[Label, bool] | None = None) -> bool:
        """`[ ... ]` / `test ...`, run in place unless redefined (the ops check when they
        run); `a OP b` with each word literal or one parameter is one ShTestCmp, or, with
        `jump` (target, ok), ShTestCmpJump (both read LINENO from the op's line). True
        when that jump is emitted."""
        b = self.b
        flags = (0 if self.cond else ERREXIT) | (TEST_NAME if name == "test" else 0)
        args = cmd.words[1:]
        if name == "[" and args and _static_text(args[-1]) == "]" and not _has_glob(args[-1]):
            inner = args[:-1]
        else:
            inner = args if name == "test" else []
        op = _static_text(inner[1]) if len(inner) == 3 and not _has_glob(inner[1]) else None
        if op in TEST_CMP:
            x, y = _test_operand(inner[0]), _test_operand(inner[2])
            if x is not None and y is not None:
                for (_, param, quoted), p_flag, q_flag in ((x, A_PARAM, A_QUOTED),
                                                           (y, B_PARAM, B_QUOTED)):
                    flags |= (p_flag if param else 0) | (q_flag if quoted else 0)
                if jump is None:
                    b.emit(SH["ShTestCmp"], self.const(x[0]), self.const(y[0]),
                           TEST_CMP.index(op), flags)
                    return False
                target, ok = jump
                b.emit(SH["ShTestCmpJump"], self.const([x[0], y[0]]), TEST_CMP.index(op),
                       flags | (JUMP_OK if ok else 0), target)
                return True
        for word in args:
            self.word_fields(word)
        b.emit(SH["ShTest"], len(args), flags, line)
        return False

    def loop_jump(self, is_break: bool, n: int) -> None:
        b = self.b
        n = min(n, len(self.loops))
        target = self.loops[-n]
        for _ in range(self.scopes - target.scopes):
            b.emit(Op.WithRedirectsEnd)
        for _ in range(n - 1):
            b.emit(SH["ShLoopLeave"])
        b.emit(Op.LoadInt, 0)
        b.emit(Op.SetStatus)
        b.emit(Op.LoadInt, 0)
        b.emit(Op.SetSlot, target.slot)
        b.emit(Op.Jump, target.brk if is_break else target.cont)

    def redir(self, r: ast.Redir) -> None:
        b = self.b
        if isinstance(r.target, ast.HereDoc):
            body = r.target.body if r.target.body is not None else ast.Word([])
            fd = 0 if r.fd is None else r.fd
            static = _static_text(body)
            if fd == 0 and static is not None:
                b.emit(Op.HereDoc, self.const(static))  # a constant document
                return
            last = body.parts[-1] if body.parts else None
            if fd == 0 and isinstance(last, ast.Quoted) and last.text.endswith("\n"):
                # HereString adds the final newline back
                trimmed = [*body.parts[:-1], ast.Quoted(last.text[:-1])]
                self.word_string(ast.Word(trimmed), heredoc=True)
                b.emit(Op.HereString)
                return
            self.word_string(body, heredoc=True)
            b.emit(SH["ShHereDoc"], fd)
            return
        kind = _redir_kinds()[r.op]
        fd = r.fd if r.fd is not None else kind.default_fd
        self.word_string(r.target)
        b.emit(Op.Redirect, fd, kind)

    def and_or(self, cmd: ast.AndOr) -> None:
        b = self.b
        self.cond += 1
        self.command(cmd.first)
        for i, (op, rhs) in enumerate(cmd.rest):
            skip = b.label()
            b.emit(SH["ShJumpStatus"], skip, 0 if op == "&&" else 1)
            last = i == len(cmd.rest) - 1
            if last:
                self.cond -= 1
            self.command(rhs)
            if last:
                self.cond += 1
            b.bind(skip)
        self.cond -= 1

    def pipeline(self, cmd: ast.Pipeline, inline_last: bool = False) -> None:
        """Each stage forks; with `inline_last` (the pipeline is all a forked child runs) the
        last stage runs in that child itself, so `$!` of `a | b &` is b's pid, as in dash."""
        b = self.b
        if cmd.bang:
            self.cond += 1
        if len(cmd.cmds) == 1:
            self.command(cmd.cmds[0])
            if cmd.bang:
                b.emit(SH["ShNot"])
                self.cond -= 1
            return
        for i, stage in enumerate(cmd.cmds):
            if inline_last and i == len(cmd.cmds) - 1:
                b.emit(SH["ShPipeInline"])
                self.forked(stage, direct=True)
                break
            start, stop = b.label(), b.label()
            b.emit(SH["ShPipe"], start, stop)
            b.bind(start)
            self.forked(stage, direct=True)
            b.bind(stop)
        b.emit(SH["ShPipeEnd"], 1 if cmd.bang else 0)
        if cmd.bang:
            self.cond -= 1
        else:
            self._errcheck()

    def subshell(self, cmd: ast.Subshell) -> None:
        b = self.b
        start, stop = b.label(), b.label()
        b.emit(SH["ShSubshell"], start, stop)
        b.bind(start)
        saved = (self.loops, self.scopes)
        self.loops, self.scopes = [], 0
        self.items(cmd.body, direct=True)
        self.loops, self.scopes = saved
        b.bind(stop)
        self._errcheck()

    def cond_list(self, items: list[ast.ListItem]) -> None:
        self.cond += 1
        self.items(items)
        self.cond -= 1

    def cond_jump(self, items: list[ast.ListItem], target: Label, ok: bool) -> None:
        """A condition list, then a jump to `target` when its status is 0 (`ok`) or when
        it is not; a condition that is one `[ a OP b ]` tests and jumps in one op."""
        b = self.b
        cmd = items[0].cmd if len(items) == 1 and not items[0].background else None
        if isinstance(cmd, ast.Simple):
            self.cond += 1
            jumped = self.simple(cmd, jump=(target, ok))
            self.cond -= 1
        else:
            self.cond_list(items)
            jumped = False
        if not jumped:
            b.emit(SH["ShJumpStatus"], target, 1 if ok else 0)

    def if_(self, cmd: ast.If) -> None:
        b = self.b
        end = b.label()
        for cond, body in cmd.arms:
            nxt = b.label()
            self.cond_jump(cond, nxt, False)
            self.items(body)
            b.emit(Op.Jump, end)
            b.bind(nxt)
        if cmd.orelse is not None:
            self.items(cmd.orelse)
        else:
            b.emit(Op.LoadInt, 0)
            b.emit(Op.SetStatus)
        b.bind(end)

    def loop(self, cmd: ast.Loop) -> None:
        b = self.b
        slot = self.new_slots(1)
        top, body, brk = b.label(), b.label(), b.label()
        b.emit(Op.LoadInt, 0)
        b.emit(Op.SetSlot, slot)
        b.emit(SH["ShLoopEnter"], brk, top)
        # the condition after the body, entered by a jump: a turn is the body, the test and
        # the jump back
        b.emit(Op.Jump, top)
        b.bind(body)
        self.loops.append(_Loop(brk, top, slot, self.scopes))
        self.items(cmd.body)
        b.emit(SH["ShSaveStatus"], slot)
        b.bind(top)
        self.cond_jump(cmd.cond, body, not cmd.until)
        self.loops.pop()
        b.bind(brk)
        b.emit(SH["ShLoopLeave"])
        b.emit(Op.GetSlot, slot)
        b.emit(Op.SetStatus)

    def for_(self, cmd: ast.For) -> None:
        b = self.b
        slot = self.new_slots(3)
        top, end = b.label(), b.label()
        b.emit(SH["ShLine"], min(cmd.line, 0xFFFF), line=cmd.line)
        if cmd.words is None:
            b.emit(SH["ShPositional"])
        else:
            for w in cmd.words:
                self.word_fields(w)
            b.emit(SH["ShList"], len(cmd.words))
        b.emit(Op.SetSlot, slot)
        b.emit(Op.LoadInt, 0)
        b.emit(Op.SetSlot, slot + 1)
        b.emit(Op.LoadInt, 0)
        b.emit(Op.SetSlot, slot + 2)
        b.emit(SH["ShLoopEnter"], end, top)
        b.bind(top)
        b.emit(SH["ShForNext"], self.const(cmd.var), slot, end)
        self.loops.append(_Loop(end, top, slot + 2, self.scopes))
        self.items(cmd.body)
        self.loops.pop()
        b.emit(SH["ShSaveStatus"], slot + 2)
        b.emit(Op.Jump, top)
        b.bind(end)
        b.emit(SH["ShLoopLeave"])
        b.emit(Op.GetSlot, slot + 2)
        b.emit(Op.SetStatus)

    def case(self, cmd: ast.Case) -> None:
        b = self.b
        slot = self.new_slots(1)
        end = b.label()
        b.emit(SH["ShLine"], min(cmd.line, 0xFFFF), line=cmd.line)
        self.word_string(cmd.word)
        b.emit(Op.SetSlot, slot)
        for item in cmd.items:
            body, nxt = b.label(), b.label()
            for pat in item.patterns:
                b.emit(Op.GetSlot, slot)
                self.word_pattern(pat)
                b.emit(SH["ShCaseMatch"])
                b.emit(Op.JumpIfTrue, body)
            b.emit(Op.Jump, nxt)
            b.bind(body)
            if not item.body:
                b.emit(Op.LoadInt, 0)
                b.emit(Op.SetStatus)
            self.items(item.body)
            b.emit(Op.Jump, end)
            b.bind(nxt)
        b.emit(Op.LoadInt, 0)
        b.emit(Op.SetStatus)
        b.bind(end)

    def funcdef(self, cmd: ast.FuncDef) -> None:
        sub = compile_function(cmd)
        b = self.b
        b.emit(SH["ShDefun"], self.const(cmd.name), b.add_sub_chunk(sub), line=cmd.line)

    def redirected(self, cmd: ast.Redirected) -> None:
        b = self.b
        fail = b.label()
        # (a redirection that fails names the compound command's first line, as dash's)
        b.emit(SH["ShLine"], min(cmd.line, 0xFFFF), line=cmd.line)
        for r in cmd.redirs:
            self.redir(r)
        b.emit(Op.WithRedirectsBegin, len(cmd.redirs))
        b.emit(SH["ShRedirCheck"], fail)
        self.scopes += 1
        self.command(cmd.cmd)
        self.scopes -= 1
        b.emit(Op.WithRedirectsEnd)
        if self.cond:
            b.bind(fail)
            return
        # A redirection that fails is the command failing: set -e applies (as in bash).
        end = b.label()
        b.emit(Op.Jump, end)
        b.bind(fail)
        b.emit(SH["ShErrCheck"])
        b.bind(end)

    # -- words ----------------------------------------------------------------------------------

    def word_fields(self, word: ast.Word) -> None:
        """Push the word's fields (a list), or one string when it cannot split or glob."""
        static = _static_text(word)
        if static is not None and not _has_glob(word):
            self.b.emit(Op.LoadConst, self.const(static))
            return
        if len(word.parts) == 1 and isinstance(word.parts[0], ast.DQ) \
                and len(word.parts[0].parts) == 1 and isinstance(word.parts[0].parts[0],
                                                                   ast.Param) \
                and word.parts[0].parts[0].name == "@" and word.parts[0].parts[0].op == "":
            self.b.emit(SH["ShPositional"])
            return
        if len(word.parts) == 1 and isinstance(word.parts[0], ast.Param) \
                and word.parts[0].op in ("", "#len") and word.parts[0].name not in ("@", "*"):
            p = word.parts[0]
            self.b.emit(SH["ShParam"], self.const(p.name),
                        FIELDS | (LENGTH if p.op == "#len" else 0))
            return
        if len(word.parts) == 1 and isinstance(word.parts[0], ast.Arith):
            self.arith(word.parts[0], FIELDS)  # a number: one field unless IFS splits it
            return
        if len(word.parts) == 1 and isinstance(word.parts[0], ast.DQ) \
                and len(word.parts[0].parts) == 1 and isinstance(word.parts[0].parts[0],
                                                                   ast.Arith):
            self.arith(word.parts[0].parts[0], RAW)  # "$(( ))": one field
            return
        self.parts(word.parts, False)
        self.b.emit(SH["ShFields"])

    def word_string(self, word: ast.Word, heredoc: bool = False) -> None:
        """Push the word expanded without splitting or globbing (assignments, redirections)."""
        static = _static_text(word)
        if static is not None:
            self.b.emit(Op.LoadConst, self.const(static))
            return
        if len(word.parts) == 1 and not heredoc:
            p = word.parts[0]
            if isinstance(p, ast.Param) and p.op in ("", "#len"):
                self.b.emit(SH["ShParam"], self.const(p.name),
                            RAW | (LENGTH if p.op == "#len" else 0))
                return
            if isinstance(p, ast.Arith):
                self.arith(p, RAW)
                return
        self.parts(word.parts, heredoc)
        self.b.emit(SH["ShStrip"])

    def assigned(self, word: ast.Word) -> None:
        """Push the value of an assignment's word (ShAssign takes the int a lone `$(( ))`
        computes as it is)."""
        if len(word.parts) == 1 and isinstance(word.parts[0], ast.Arith) \
                and self.arith_code(word.parts[0], RAW, False):
            return
        self.word_string(word)

    def arith_code(self, part: ast.Arith, flags: int, to_text: bool) -> bool:
        """Push the value of a `$(( ))` by code compiled now: an int, or with `to_text` the
        word ShArithText `flags` makes of it. False: its text is not static, or does not
        parse (which is reported when it runs). Text that is static but for plain
        parameters (`arithcode.template`) goes to ShArith (with `flags`) when a
        parameter's value is not a plain decimal number."""
        # (the arithmetic compiler and parser load with a script's first `$(( ))`)
        from fusevm.lang.sh import arithcode
        b = self.b
        text = _static_text(part.expr)
        if text is not None:
            tree = arithcode.compile_text(text)
            if tree is None:
                return False
            arithcode.emit(b, tree)
            if to_text:
                b.emit(SH["ShArithText"], flags)
            return True
        found = arithcode.template(part.expr.parts)
        if found is None:
            return False
        tree, params = found
        first = self.new_slots(len(params))
        as_text, done = b.label(), b.label()
        for k, (_, name) in enumerate(params):
            b.emit(SH["ShArithParam"], self.const(name), first + k, as_text)
        arithcode.emit(b, tree, {p: first + k for k, (p, _) in enumerate(params)})
        if to_text:
            b.emit(SH["ShArithText"], flags)
        b.emit(Op.Jump, done)
        b.bind(as_text)
        self.arith_by_text(part, flags)
        b.bind(done)
        return True

    def arith_by_text(self, part: ast.Arith, flags: int) -> None:
        """`$(( ))` evaluated from its expanded text at run time."""
        self.parts(part.expr.parts, True)
        self.b.emit(SH["ShStrip"])
        self.b.emit(SH["ShArith"], flags)

    def arith(self, part: ast.Arith, flags: int) -> None:
        if self.arith_code(part, flags, True):
            return
        text = _static_text(part.expr)
        if text is not None:
            self.b.emit(Op.LoadConst, self.const(text))
            self.b.emit(SH["ShArith"], flags)
        else:
            self.arith_by_text(part, flags)

    def word_pattern(self, word: ast.Word) -> None:
        self.parts(word.parts, False)
        self.b.emit(SH["ShPattern"])

    def parts(self, parts: list[ast.Part], quoted: bool) -> None:
        """Push the concatenation of the parts as one marked string."""
        b = self.b
        n = 0
        for part in parts:
            self.part(part, quoted)
            n += 1
            if n > 1:
                b.emit(Op.Concat)
        if n == 0:
            b.emit(Op.LoadConst, self.const(""))

    def part(self, part: ast.Part, quoted: bool) -> None:
        b = self.b
        if isinstance(part, ast.Lit):
            if quoted:
                text = words.quote(part.text)
            elif part.split:
                text = words.XS + part.text + words.XE
            else:
                text = part.text
            b.emit(Op.LoadConst, self.const(text))
        elif isinstance(part, ast.Quoted):
            b.emit(Op.LoadConst, self.const(words.quote(part.text)))
        elif isinstance(part, ast.DQ):
            if not part.parts:
                b.emit(Op.LoadConst, self.const(words.QS + words.QE))
            else:
                b.emit(Op.LoadConst, self.const(words.QS + words.QE))
                for p in part.parts:
                    self.part(p, True)
                    b.emit(Op.Concat)
        elif isinstance(part, ast.Param):
            self.param(part, quoted)
        elif isinstance(part, ast.CmdSub):
            sub = compile_items(part.body, source="<subst>", direct=True)
            index = b.add_sub_chunk(sub)
            if _pure_output(part.body):
                b.emit(SH["ShSubstInline"], index)
            else:
                b.emit(Op.CmdSubst, index)
            b.emit(SH["ShMark"], 1 if quoted else 0)
        elif isinstance(part, ast.Arith):
            self.arith(part, 1 if quoted else 0)
        elif isinstance(part, ast.Tilde):
            b.emit(SH["ShTilde"], self.const(part.user))
        else:  # pragma: no cover
            raise TypeError(type(part).__name__)

    def param(self, p: ast.Param, quoted: bool) -> None:
        b = self.b
        name = self.const(p.name)
        q = QUOTED if quoted else 0
        if p.op == "":
            b.emit(SH["ShParam"], name, q)
            return
        if p.op == "#len":
            b.emit(SH["ShParam"], name, q | LENGTH)
            return
        if p.op == "bad":
            b.emit(Op.LoadConst, self.const("bad substitution"))
            b.emit(SH["ShParamError"], name, 0)
            b.emit(Op.LoadConst, self.const(""))
            return
        arg = p.arg if p.arg is not None else ast.Word([])
        if p.op in TRIM_CODES:
            self.word_pattern(arg)
            b.emit(SH["ShTrim"], name, TRIM_CODES[p.op], q)
            return
        use_value, end = b.label(), b.label()
        b.emit(SH["ShParamSet"], name, (1 if p.colon else 0) | (2 if quoted else 0))
        if p.op == "+":
            b.emit(Op.JumpIfFalse, use_value)
            self.parts(arg.parts, quoted)
            b.emit(Op.Jump, end)
            b.bind(use_value)
            b.emit(Op.LoadConst, self.const(""))
            b.bind(end)
            return
        b.emit(Op.JumpIfTrue, use_value)
        if p.op == "-":
            self.parts(arg.parts, quoted)
        elif p.op == "=":
            self.parts(arg.parts, quoted)
            b.emit(SH["ShStrip"])
            b.emit(SH["ShParamAssign"], name)
            b.emit(SH["ShParam"], name, q)
        else:  # ?
            self.parts(arg.parts, True)
            b.emit(SH["ShStrip"])
            b.emit(SH["ShParamError"], name, 1 if p.colon else 0)
            b.emit(Op.LoadConst, self.const(""))
        b.emit(Op.Jump, end)
        b.bind(use_value)
        b.emit(SH["ShParam"], name, q)
        b.bind(end)


def _test_operand(word: ast.Word) -> tuple[str, bool, bool] | None:
    """A word ShTestCmp can take, as (text, is a parameter, quoted): literal text, or just
    `$name`, `${name}` or `"$name"` (not `$@` / `$*`, which may make several words)."""
    text = _static_text(word)
    if text is not None:
        return None if _has_glob(word) else (text, False, False)
    quoted = False
    parts = word.parts
    if len(parts) == 1 and isinstance(parts[0], ast.DQ):
        parts = parts[0].parts
        quoted = True
    if len(parts) == 1 and isinstance(parts[0], ast.Param) and parts[0].op == "" \
            and parts[0].name not in ("@", "*"):
        return parts[0].name, True, quoted
    return None


def _pure_parts(parts: list[ast.Part]) -> bool:
    """True if expanding the parts cannot change the shell or end it (no assignment, no
    `${v?}`, no arithmetic, no nested substitution)."""
    for p in parts:
        if isinstance(p, (ast.Lit, ast.Quoted)):
            continue
        if isinstance(p, ast.DQ):
            if not _pure_parts(p.parts):
                return False
        elif isinstance(p, ast.Param):
            if p.op in ("=", "?") or (p.arg is not None and not _pure_parts(p.arg.parts)):
                return False
        else:
            return False
    return True


def _pure_output(body: list[ast.ListItem]) -> bool:
    """A `$(...)` body that is one echo/printf with pure words: it may run in-process."""
    if len(body) != 1 or body[0].background:
        return False
    cmd = body[0].cmd
    if not isinstance(cmd, ast.Simple) or cmd.assigns or cmd.redirs or not cmd.words:
        return False
    if cmd.words[0].literal() not in TEXT_BUILTINS:
        return False
    return all(_pure_parts(w.parts) for w in cmd.words)


def _word_mentions(parts: list[ast.Part]) -> bool:
    for p in parts:
        if isinstance(p, ast.CmdSub):
            return True
        if isinstance(p, ast.Param) and (p.name == "LINENO" or (
                p.arg is not None and _word_mentions(p.arg.parts))):
            return True
        if isinstance(p, ast.DQ) and _word_mentions(p.parts):
            return True
        if isinstance(p, ast.Arith) and _word_mentions(p.expr.parts):
            return True
    return False


def _pure_command(cmd: ast.Simple) -> bool:
    """A simple command without prefix assignments whose words, redirection targets and
    here-documents all expand with no effect on the shell (`_pure_parts`)."""
    return not cmd.assigns and all(_pure_parts(w.parts) for w in _command_words(cmd))


def _command_words(cmd: ast.Simple) -> list[ast.Word]:
    """Every word the command expands: assignments, words, redirection targets and
    here-document bodies."""
    return [w for _, w in cmd.assigns] + list(cmd.words) + [
        r.target if isinstance(r.target, ast.Word) else (r.target.body or ast.Word([]))
        for r in cmd.redirs]


def _mentions_subst_or_lineno(cmd: ast.Simple) -> bool:
    """True if the command has a `$(...)` (whose status it may report) or uses LINENO."""
    return any(_word_mentions(w.parts) for w in _command_words(cmd))


def _static_text(word: ast.Word) -> str | None:
    out: list[str] = []
    for p in word.parts:
        if isinstance(p, (ast.Lit, ast.Quoted)):
            out.append(p.text)
        elif isinstance(p, ast.DQ) and all(isinstance(q, ast.Quoted) for q in p.parts):
            out.extend(q.text for q in p.parts)  # type: ignore[union-attr]
        else:
            return None
    return "".join(out)


def _has_glob(word: ast.Word) -> bool:
    lits = "".join(p.text for p in word.parts if isinstance(p, ast.Lit))
    return any(c in _GLOB for c in lits) and words.could_glob(_static_text(word) or lits)


def compile_items(items: list[ast.ListItem], source: str = "<sh>",
                  direct: bool = False) -> Chunk:
    c = Compiler(ChunkBuilder(source=source))
    c.items(items, direct)
    return c.b.build(fuse=False)


def compile_function(fn: ast.FuncDef) -> Chunk:
    c = Compiler(ChunkBuilder(source=fn.name))
    c.command(fn.body)
    return c.b.build(fuse=False)
