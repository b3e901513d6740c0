"""The `sh` ExtensionSet (ids 0x1400..0x14FF): every op the sh frontend adds, declared as
data (mnemonic, operands, stack effect, flags, formula), and the flag values its operands
carry.

The compiler emits these ops; their handlers are attached by `ops`, which
`fusevm.lang.sh.ops:SH` (the `fusevm.extensions` entry point) loads. The declaration
order fixes the ids.
"""

from __future__ import annotations

from fusevm.ops import F
from fusevm.ops.extension import RESERVED, ExtensionSet

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final

SH: Final = ExtensionSet("sh", first_id=RESERVED["sh"][0], count=RESERVED["sh"][1],
                         deferred=True)
R: Final = F.MAY_RAISE
IO: Final = F.IO | F.MAY_RAISE | F.SPAWN

#: ShParam flags
QUOTED: Final = 1
LENGTH: Final = 2
RAW: Final = 4  # push the plain value (a whole word in string context)
FIELDS: Final = 8  # push the value's fields (a whole unquoted word)
#: ShRun flags
ERREXIT: Final = 1
DIRECT: Final = 2
#: (with DIRECT) its words, redirection targets and here-documents expand with no effect on
#: the shell and it has no prefix assignment (`compiler._pure_command`): a pipeline stage
#: or `$(...)` the shell may expand itself and start without forking (`stages`)
PURE_WORDS: Final = 4
#: ShAssign flags: the command's last assignment sets $? (to the status of its last
#: `$(...)` with ASSIGN_SUBST, else 0) and, with ASSIGN_ERREXIT, applies set -e.
ASSIGN_LAST: Final = 1
ASSIGN_ERREXIT: Final = 2
ASSIGN_SUBST: Final = 4
#: ShTrim modes
TRIM_CODES: Final = {"#": 5, "##": 6, "%": 7, "%%": 8}
#: ShTest / ShTestCmp flags (ERREXIT as for ShRun): the command is `test`, not `[`
TEST_NAME: Final = 4
#: ShTestCmp flags: operand a (b) names a parameter (else it is literal text), expanded
#: in double quotes (else unquoted)
A_PARAM: Final = 8
A_QUOTED: Final = 16
B_PARAM: Final = 32
B_QUOTED: Final = 64
#: ShTestCmpJump flag: jump when the test succeeds (else when it fails)
JUMP_OK: Final = 128
#: ShTestCmp operators, by operand value
TEST_CMP: Final = ("-eq", "-ne", "-lt", "-le", "-gt", "-ge", "=", "!=")
#: The operators of ShArithBin / ShArithK / ShArithVarK and ShArithUn, by operand value
#: (ShArithBin takes no `+ - *`, nor ShArithUn `-`: those are the core Add, Sub, Mul and
#: Negate, which wrap as $(( )) does).
ARITH_BINARY: Final = ("/", "%", "<<", ">>", "&", "|", "^", "==", "!=", "<", "<=", ">", ">=",
                       "+", "-", "*")
ARITH_UNARY: Final = ("!", "~")

SH.declare("ShLine", operands="line:COUNT", effect="--", formula="LINENO = line; a new command")
SH.declare("ShParam", operands="name:CONST flags:U8", effect="-- text", flags=R,
           formula="text = the parameter's value, marked quoted or splittable (flags 1: quoted, "
                   "2: ${#name})")
SH.declare("ShParamSet", operands="name:CONST flags:U8", effect="-- b",
           formula="b = the parameter is set (and, with flags 1, not null: for $@, and "
                   "for $* but in double quotes (flags 2), two or more parameters are)")
SH.declare("ShParamAssign", operands="name:CONST", effect="value --", flags=R,
           formula="${name=value}: assign value (quote-removed) to the variable")
SH.declare("ShParamError", operands="name:CONST colon:U8", effect="message --", flags=R,
           formula="${name?message}: report and fail")
SH.declare("ShTrim", operands="name:CONST code:U8 flags:U8", effect="pattern -- text", flags=R,
           formula="text = ${name#pattern} (code 5 #, 6 ##, 7 %, 8 %%), marked")
SH.declare("ShMark", operands="quoted:U8", effect="s -- text",
           formula="text = s marked quoted (1) or splittable (0)")
SH.declare("ShFields", effect="word -- fields", formula="fields = split, glob and unquote word")
SH.declare("ShStrip", effect="word -- s", formula="s = word with quotes removed")
SH.declare("ShPattern", effect="word -- pattern",
           formula="pattern = word as a shell pattern, quoted characters escaped")
SH.declare("ShArith", operands="quoted:U8", effect="expr -- text", flags=R,
           formula="text = $((expr)), marked as ShParam marks a value (4: plain, 8: its "
                   "fields)")
#: The builtins whose only effect is the text they write (and their status and errors):
#: a `$(...)` of one of them runs in this process (`ShSubstInline`), and so does a
#: pipeline stage (`stages`); each registers how it makes its text (`runtime.WRITERS`).
TEXT_BUILTINS: Final = ("echo", "printf")
SH.declare("ShSubstInline", operands="sub:SUB", effect="-- output", flags=IO,
           formula="output = $(sub) for a body the compiler proved pure (one echo/printf): run "
                   "in this process with stdout captured, unless a function, set -u or set -x "
                   "could make it differ from the forked CmdSubst")
SH.declare("ShTilde", operands="user:CONST", effect="-- text", formula="text = ~user, quoted")
SH.declare("ShAssign", operands="name:CONST flags:U8", effect="value --", flags=R,
           formula="the variable name = value; flags 1: the command's last assignment sets $? "
                   "(4: from its last $(...), else 0; 2: set -e applies)")
SH.declare("ShPrefix", operands="name:CONST", effect="value --",
           formula="queue name=value for the next command's environment")
SH.declare("ShHereDoc", operands="fd:U8", effect="text --",
           formula="queue text as the here-document on fd for the next command")
SH.declare("ShRun", operands="argc:COUNT flags:U8 line:COUNT", effect="args[argc] --", flags=IO,
           formula="LINENO = line; $? = run the simple command (flags 1: errexit applies, "
                   "2: may exec directly, 4: its words expand with no effect on the shell)")
SH.declare("ShLoopEnter", operands="brk:TARGET cont:TARGET", effect="--", flags=F.BRANCH,
           formula="push a loop (break and continue targets) for dynamic break/continue")
SH.declare("ShLoopLeave", effect="--", formula="pop the innermost loop")
SH.declare("ShErrCheck", effect="--", flags=R, formula="exit if set -e and $? != 0")
SH.declare("ShNot", effect="--", formula="$? = !$?")
SH.declare("ShRedirCheck", operands="target:TARGET", effect="--", flags=F.BRANCH,
           formula="if the last WithRedirectsBegin failed: $? = 1, jump to target")
SH.declare("ShSubshell", operands="start:TARGET stop:TARGET", effect="--", flags=F.BRANCH | IO,
           formula="fork: the child runs [start, stop) and exits; the parent waits, sets $?, "
                   "and continues at stop")
SH.declare("ShPipe", operands="start:TARGET stop:TARGET", effect="--", flags=F.BRANCH | IO,
           formula="fork a pipeline stage running [start, stop) with its stdin from the previous "
                   "stage; the stage writes to a new pipe unless stop ends the pipeline "
                   "(ShPipeEnd)")
SH.declare("ShPipeInline", effect="--", flags=IO,
           formula="the pipeline's last stage runs in this (forked) process: stdin = the pipe")
SH.declare("ShPipeEnd", operands="bang:U8", effect="--", flags=IO,
           formula="wait for the pipeline's stages; $? = the last one's status (negated by bang)")
SH.declare("ShJobText", operands="text:CONST", effect="--",
           formula="the source text of the next background job (for `jobs`)")
SH.declare("ShBg", operands="start:TARGET stop:TARGET", effect="--", flags=F.BRANCH | IO,
           formula="fork a background job running [start, stop); $! = its pid; continue at stop")
SH.declare("ShDefun", operands="name:CONST sub:SUB", effect="--", flags=R,
           formula="define function name with body sub_chunks[sub]")
SH.declare("ShList", operands="n:COUNT", effect="items[n] -- list",
           formula="list = the items, arrays spliced")
SH.declare("ShPositional", effect="-- list", formula="list = the positional parameters")
SH.declare("ShForNext", operands="var:CONST slot:SLOT target:TARGET", effect="--",
           flags=F.BRANCH | R,
           formula="i = slots[slot+1]; if i == len(slots[slot]): jump target; "
                   "else var = slots[slot][i], slots[slot+1] = i + 1")
SH.declare("ShCaseMatch", effect="subject pattern -- b", formula="b = subject matches pattern")
SH.declare("ShStatusTrue", effect="-- b", formula="b = ($? == 0)")
SH.declare("ShTest", operands="argc:COUNT flags:U8 line:COUNT", effect="args[argc] --", flags=IO,
           formula="LINENO = line; $? = `[ args` (or `test args` with flags 4) run in place; "
                   "traced (set -x), not run (set -n) or redefined as a function it is ShRun's "
                   "command; flags 1: errexit applies")
SH.declare("ShArithGet", operands="name:CONST", effect="-- n", flags=R,
           formula="n = the variable's value as a $(( )) operand (unset, empty or blank: 0)")
SH.declare("ShArithPut", operands="name:CONST", effect="n -- n", flags=R,
           formula="the variable name = n in decimal (n stays: an assignment's value)")
SH.declare("ShArithBin", operands="op:U8", effect="a b -- r", flags=R,
           formula="r = a OP b as $(( )) computes it, OP = ('/', '%', '<<', '>>', '&', '|', "
                   "'^', '==', '!=', '<', '<=', '>', '>=', '+', '-', '*')[op]")
SH.declare("ShArithUn", operands="op:U8", effect="a -- r",
           formula="r = OP a, OP = ('!', '~')[op]")
SH.declare("ShArithText", operands="quoted:U8", effect="n -- text",
           formula="text = n in decimal, marked as ShArith marks it (4: plain, 8: its "
                   "fields)")
SH.declare("ShTestCmp", operands="a:CONST b:CONST op:U8 flags:U8", effect="--",
           flags=IO,
           formula="LINENO = the op's line; ShTest of the three words `a OP b` (OP = ('-eq', "
                   "'-ne', '-lt', '-le', '-gt', '-ge', '=', '!=')[op]), each literal text or a "
                   "parameter (flags 8 and 32), expanded quoted (16, 64) or unquoted")
SH.declare("ShJumpStatus", operands="target:TARGET ok:U8", effect="--", flags=F.BRANCH,
           formula="if ($? == 0) == ok: jump to target")
SH.declare("ShSaveStatus", operands="slot:SLOT", effect="--",
           formula="slots[slot] = $? (an Int)")
SH.declare("ShArithK", operands="op:U8 k:CONST", effect="a -- r", flags=R,
           formula="r = a OP consts[k] (an int), OP as for ShArithBin")
SH.declare("ShArithVarK", operands="op:U8 name:CONST k:CONST", effect="-- r", flags=R,
           formula="r = (the variable name, as ShArithGet reads it) OP consts[k] (an int), "
                   "OP as for ShArithBin")
SH.declare("ShTestCmpJump", operands="ab:CONST op:U8 flags:U8 target:TARGET", effect="--",
           flags=F.BRANCH | IO,
           formula="ShTestCmp of a OP b, [a, b] = consts[ab]; then "
                   "ShJumpStatus target ok, ok = flags 128: a condition that is one `[ a OP b ]`")
SH.declare("ShArithParam", operands="name:CONST slot:SLOT target:TARGET", effect="--",
           flags=F.BRANCH,
           formula="slots[slot] = the parameter's value when it is a decimal number without "
                   "sign or leading zero (a $(( )) operand as its text would be); else jump "
                   "to target")
