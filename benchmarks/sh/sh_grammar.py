"""The script generator of `differential.py`: random but valid POSIX sh scripts, one
`Generator` per seed, each script a few independent fragments that print what they
compute (`printf '[%s]'` shows field boundaries). Every loop is bounded and nothing reads a
terminal. The fragments here are the first grammar (`classic`, kept so the scripts of a `--seed` can
be generated again); `sh_wide.py` adds the idioms it did not reach, non-ASCII bytes among
them (the references run in the C locale, where a byte is a character). A fragment that may
exit the shell (`set -e`, `set -u`, `${x:?}`, a special-builtin error, `exit`) runs in a
subshell unless it is the script's last."""

from __future__ import annotations

import random
from collections.abc import Callable

from sh_wide import WideFragments

VALUES = ["", "a", "abc", "a b", " lead", "trail ", "x:y:z", "a  b\tc", "*.txt", "a*",
          "foo.bar.baz", "/usr/local/bin", "--", "-n", "0", "42", "-7", "a\\b", "it's",
          'say "hi"', "$HOME", "[ab]", "a,b,,c", "::", " : ", "aaa", "x.tar.gz"]
PATTERNS = ["*", "?", "a", "a*", "*a", "*.*", ".*", "*.", "[ab]*", "[!a]*", "?b*", "\\*",
            "'*'", "*/", "/*", "b", "x", "z*", '"a"*', "[[:alpha:]]", "[[:digit:]]*", "*[xz]",
            "--", "-"]
IFS_VALUES = [" ", ":", " :", ":,", "", "ab", " \t\n", ": ", "x", ",", "\\", "- "]
GLOBS = ["*", "*.txt", "?.txt", "[ab]*", "[!a]*", "*[0-9]*", "d*/*", "*/f.txt", ".*",
         "nomatch*", "[C]*", "a?.*", "*.{txt,log}", "\\*", "'*'.txt", "[a-c].*", "*/"]
FORMATS = ["%s", "[%s]", "%d", "%5d", "%-5s|", "%05d", "%x", "%X", "%o", "%c", "%.2s",
           "%10.3s|", "%b", "%%", "%+d", "%u", "%#x", "%i", "% d", "%-3d|", "%.0d", "%f",
           "%.2f", "%e", "%g", "%8.3F|", "%.*s|", "\\e", "\\101", "%z", "%5%"]
PRINTF_ARGS = ["1", "42", "-3", "0x1f", "010", "abc", "a\\tb", "'a", "", " 7", "3x",
               "hello world", "\\101", "9999999999", "-0", "+5", "1.5", "-2.25", "1e3",
               "1.5x", "99999999999999999999", "\\e", "\\c"]
TESTS = ["-n", "-z", "=", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "-f", "-d", "-e",
         "-r", "-s", "!"]
ARITH_OPS = ["+", "-", "*", "/", "%", "<<", ">>", "<", "<=", ">", ">=", "==", "!=", "&",
             "^", "|", "&&", "||"]
ASSIGN_OPS = ["=", "+=", "-=", "*=", "/=", "%=", "<<=", ">>=", "&=", "^=", "|="]


def sq(text: str) -> str:
    """`text` single-quoted for the shell."""
    return "'" + text.replace("'", "'\\''") + "'"


class Generator(WideFragments):
    """Random POSIX sh scripts; `script()` returns the next one. `classic` leaves out the
    fragments of `sh_wide`."""

    def __init__(self, rng: random.Random, files: list[str], dirs: list[str],
                 classic: bool = False) -> None:
        self.rng = rng
        self.files = files
        self.dirs = dirs
        self.fragments: list[Callable[[], str]] = [
            self.quoting, self.param_ops, self.positional, self.ifs_split, self.globbing,
            self.arith, self.cmdsubst, self.case, self.loops, self.functions,
            self.redirections, self.heredoc, self.lists, self.subshell, self.eval_shift,
            self.set_options, self.trap_exit, self.printf, self.read, self.test,
            self.statuses, self.special_errors, self.while_read, self.nested_quotes,
            self.program, self.program, self.program, self.idioms, self.heredoc_lines,
        ]
        if not classic:
            self.fragments += self.wide_fragments()
        self.counter = 0  # distinct loop counters and file names within a script

    def pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def script(self, fragments: int | None = None) -> str:
        """A script of `fragments` fragments (2 to 5 at random when None)."""
        count = self.rng.randint(2, 5) if fragments is None else fragments
        parts = [self.rng.choice(self.fragments)() for _ in range(count)]
        if self.chance(0.15):
            parts.append(f"exit {self.rng.randint(0, 3)}")
        return "\n".join(parts) + "\n"

    # --- words ---------------------------------------------------------------------

    def value(self) -> str:
        return sq(self.pick(VALUES))

    def assign(self, name: str) -> str:
        if self.chance(0.15):
            return f"unset {name}"
        return f"{name}={self.value()}"

    def piece(self, depth: int = 1) -> str:
        """One part of a word: literal, quoted, escaped or an expansion."""
        r = self.rng.randrange(11)
        if r == 0:
            return self.pick(["a", "b.c", "x", "-", "=", "1", "%"])
        if r == 1:
            return sq(self.pick(VALUES))
        if r == 2:
            inner = self.pick(["$v", "${v}", "\\$v", "\\\"", "\\\\", "'$v'", "$1", "$#",
                               "${v:-d}", "a\\b", "$*", "$@", "x$((1+2))y", "\\`", "`echo q`"])
            return '"' + inner + '"'
        if r == 3:
            return "\\" + self.pick(["$", "'", '"', "\\", " ", "*", "a", "|", "&", ";"])
        if r == 4:
            return self.pick(["$v", "${v}", "$w", "$1", "$2", "$#", "$*", "$@"])
        if r == 5 and depth > 0:
            return "$(printf '%s' " + self.word(depth - 1) + ")"
        if r == 6 and depth > 0:
            return '"$(printf %s ' + self.word(depth - 1) + ')"'
        if r == 7:
            op = self.pick([":-", "-", ":+", "+", "#", "%", "##", "%%"])
            w = self.pick(["d", "'a b'", '"$w"', "*", "?", "\\*", "x y", "'*'", '"${w}"'])
            return "${v" + op + w + "}"
        if r == 8:
            if self.chance(0.4):
                return '"${v' + self.pick(["#", "##", "%", "%%"]) + self.pick(
                    ["$w", '"$w"', "*$w", "$(echo '*')", "'*'", "\\*", "?"]) + '}"'
            return '"${v' + self.pick([":-", "-", ":+", "+"]) + self.pick(
                ["'q'", "d e", '"i"', "$w", "\\}", "*"]) + '}"'
        if r == 9:
            return "$((" + str(self.rng.randint(-3, 9)) + self.pick(["+", "*", "-"]) + "2))"
        return self.pick(["''", '""', "~", "a=b", "\\\n", "'\"'", "\"'\""])

    def word(self, depth: int = 1) -> str:
        w = "".join(self.piece(depth) for _ in range(self.rng.randint(1, 3)))
        return "x" if w == "\\\n" else w

    def setup_vars(self) -> str:
        return f"{self.assign('v')}; {self.assign('w')}; set -- {self.value()} {self.value()}"

    # --- fragments ---------------------------------------------------------------------

    def quoting(self) -> str:
        words = " ".join(self.word() for _ in range(self.rng.randint(1, 4)))
        return f"{self.setup_vars()}\nprintf '<%s>' {words}; echo"

    def nested_quotes(self) -> str:
        w = self.word(2)
        forms = [f'x="$(echo "{w}")"; printf "[%s]\\n" "$x"',
                 f"x=$(printf '%s|' {w}); printf '%s\\n' \"$x\"",
                 f'x="${{v:-"{w}"}}"; printf "[%s]\\n" "$x"',
                 f"x=`printf '%s' {w}`; printf '[%s]\\n' \"$x\"",
                 f"printf '[%s]' ${{v:-{w}}}; echo",
                 f"printf '[%s]' \"${{v+{w}}}\"; echo"]
        return f"{self.setup_vars()}\n{self.pick(forms)}"

    def param_ops(self) -> str:
        lines = [self.assign("v")]
        for _ in range(self.rng.randint(1, 4)):
            op = self.pick([":-", "-", ":=", "=", ":+", "+", "#", "##", "%", "%%", "#len",
                            ":?"])
            if op == "#len":
                lines.append('printf "len %s\\n" "${#v}"')
                continue
            w = self.pick(PATTERNS) if "#" in op or "%" in op else self.pick(
                ["w", "'a b'", '"$v"', "", "x*", '"d e"'])
            expr = "${v" + op + w + "}"
            if op == ":?":
                lines.append(f'(printf "[%s]\\n" "{expr}"); echo "st $?"')
            elif self.chance(0.5):
                lines.append(f'printf "[%s]\\n" "{expr}"')
            else:
                lines.append(f"printf '<%s>' {expr}; echo")
            if op in (":=", "="):
                lines.append('printf "v=[%s]\\n" "${v-unset}"')
        return "\n".join(lines)

    def positional(self) -> str:
        args = " ".join(self.value() for _ in range(self.rng.randint(0, 5)))
        lines = [f"set -- {args}", 'echo "n=$#"']
        for _ in range(self.rng.randint(1, 4)):
            lines.append(self.pick([
                "printf '<%s>' \"$@\"; echo", "printf '<%s>' $@; echo",
                "printf '<%s>' \"$*\"; echo", "printf '<%s>' $*; echo",
                'for a; do printf "(%s)" "$a"; done; echo', 'printf "%s\\n" "${1-none}"',
                'printf "%s|" "${3:-x}" "$2"; echo', "shift 2>/dev/null; echo \"after $#\"",
                'printf "[%s]\\n" "$#$1"', 'x="$@"; printf "[%s]\\n" "$x"',
                'IFS=-; printf "[%s]\\n" "$*"; unset IFS', 'set -- "$@" end; echo "$# ${2-}"']))
        return "\n".join(lines)

    def ifs_split(self) -> str:
        ifs = self.pick(IFS_VALUES)
        val = self.pick(VALUES + ["a:b::c:", " a  b ", "a,b c", "1-2 - 3", "xaxbx"])
        lines = [f"IFS={sq(ifs)}", f"v={sq(val)}",
                 self.pick(["printf '<%s>' $v; echo", "for f in $v; do printf '(%s)' \"$f\"; "
                            "done; echo", "set -- $v; echo \"$#\"; printf '<%s>' \"$*\"; echo",
                            "x=$v; printf '<%s>' \"$x\"; echo",
                            "printf '<%s>' $v\"\"$v; echo", "printf '<%s>' ${v}x; echo",
                            "printf '<%s>' $(printf '%s' \"$v\"); echo"]),
                 "unset IFS"]
        return "\n".join(lines)

    def globbing(self) -> str:
        g = self.pick(GLOBS)
        lines = [f"printf '<%s>' {g}; echo"]
        if self.chance(0.3):
            lines = [f"set -f; printf '<%s>' {g}; set +f; echo"]
        if self.chance(0.3):
            lines.append(f"for f in {self.pick(GLOBS)}; do [ -e \"$f\" ] && echo \"e $f\"; "
                         "done")
        if self.chance(0.2):
            lines.append(f"v={sq(g)}; printf '<%s>' $v \"$v\"; echo")
        return "\n".join(lines)

    def arith_expr(self, depth: int) -> str:
        r = self.rng.random()
        if depth <= 0 or r < 0.25:
            return self.pick([str(self.rng.randint(-9, 20)), "x", "y", "$x", "0", "-1", "7",
                              "010", "0x1f", "-(3)"])
        if r < 0.6:
            op = self.pick(ARITH_OPS)
            left, right = self.arith_expr(depth - 1), self.arith_expr(depth - 1)
            if op in ("/", "%"):
                right = f"(({right})|1)"
            elif op in ("<<", ">>"):
                right = f"(({right})&7)"
            return f"{left} {op} {right}"
        if r < 0.7:
            return f"({self.arith_expr(depth - 1)}) ? {self.arith_expr(depth - 1)} : " \
                   f"{self.arith_expr(depth - 1)}"
        if r < 0.8:
            return self.pick(["-", "!", "~", "+", "- -"]) + self.arith_expr(depth - 1)
        if r < 0.9:
            op = self.pick(ASSIGN_OPS)
            right = self.arith_expr(depth - 1)
            if op in ("/=", "%="):
                right = f"(({right})|1)"
            elif op in ("<<=", ">>="):
                right = f"(({right})&7)"
            return f"{self.pick(['x', 'y'])} {op} {right}"
        return f"({self.arith_expr(depth - 1)})"

    def arith(self) -> str:
        lines = [f"x={self.rng.randint(-5, 12)}; y={self.rng.randint(-3, 6)}"]
        for _ in range(self.rng.randint(1, 4)):
            e = self.arith_expr(3)
            lines.append(f'echo "$(({e}))" "x=$x y=$y"')
        if self.chance(0.3):
            lines.append(self.pick([
                'i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo "$i"',
                'echo $(( 7 / -2 )) $(( -7 % 3 )) $(( -7 / 2 ))',
                'echo $(( 1 << 3 )) $(( -16 >> 2 )) $(( 2 + 3 * 4 - 1 ))',
                'z=3; echo $(( z *= 2, z + 1 )) 2>/dev/null || echo comma',
                'echo $(( (1 + 2) * 3 )) $(( 1 ? 2 : 3 )) $(( 0 ? 1 : 0 ? 2 : 3 ))',
                'n=" 12 "; echo $((n + 1))', 'echo $((x = 5, x)) 2>/dev/null; echo "st $?"',
                'echo $(( 1/0 )) 2>/dev/null; echo "st $?"',
                'e="1+2"; echo $((e * 2)) $(( $e * 2 ))']))
        return "\n".join(lines)

    def cmdsubst(self) -> str:
        return self.pick([
            "x=$(printf 'a\\n\\n\\n'); printf '[%s]\\n' \"$x\"",
            "x=$(printf '\\n\\na b\\n'); printf '[%s]' $x; echo",
            "x=$(echo $(echo $(echo deep))); echo \"$x\"",
            "x=\"$(echo \"$(echo 'in ner')\")\"; echo \"$x\"",
            "x=`echo \\`echo bq\\``; echo \"$x\"",
            "x=$(exit 3); echo \"st $?\"",
            "x=$(false) || echo \"failed $?\"",
            "x=$(printf '%s' \"a)b\"); echo \"$x\"",
            "x=$(case a in a) echo casein;; esac); echo \"$x\"",
            "x=$(echo one; echo two); printf '<%s>' $x; echo",
            "echo \"$(printf 'x\\ny')\" | while read l; do echo \"L:$l\"; done",
            "v=outer; x=$(v=inner; echo $v); echo \"$x $v\"",
            "x=$(cat <<EOF\nhd $((2+2))\nEOF\n); echo \"$x\"",
            "echo $(printf '%s\\n' a b c | wc -l)",
            "x=\"$(printf '\\t t \\n')\"; printf '[%s]\\n' \"$x\"",
        ])

    def case(self) -> str:
        val = self.pick(VALUES + ["foo.c", "Makefile", "x1", "[", "]", "!", "-x"])
        arms = []
        for _ in range(self.rng.randint(1, 4)):
            pats = " | ".join(self.pick(PATTERNS + ["[!0-9]*", "[a-]", "[]]", "[!]]", "?*",
                                                    "foo.*", "*.[ch]", "$w", '"$w"', "x[0-9]"])
                              for _ in range(self.rng.randint(1, 2)))
            arms.append(f"  {pats}) echo {sq('arm ' + pats)} ;;")
        arms.append("  *) echo default ;;")
        return f"v={sq(val)}; w={sq(self.pick(['a*', '*', 'foo', '?']))}\ncase $v in\n" + \
            "\n".join(arms) + "\nesac"

    def loops(self) -> str:
        n = self.rng.randint(0, 4)
        ctl = self.pick(["break", "continue", "break 2", "continue 2", ":", "break 1"])
        cond = self.pick(['[ "$j" -eq 1 ]', '[ "$i" = b ]', 'false', 'true'])
        # (`while :` ends only by a break out of it, or a continue of the loop outside it)
        out_of = self.pick(["break", "break 1", "break 2", "continue 2"])
        loop = self.pick([
            f"for i in a b c; do for j in 0 1 2; do if {cond}; then {ctl}; fi; "
            "printf '%s%s ' \"$i\" \"$j\"; done; done; echo",
            f"i=0; while [ $i -lt {n} ]; do i=$((i+1)); j=$i; if {cond}; then echo \"c$i\"; "
            "fi; echo \"w$i\"; done",
            f"i=0; until [ $i -ge {n} ]; do i=$((i+1)); printf '%s ' $i; done; echo \"st $?\"",
            "for i in; do echo never; done; echo \"empty $?\"",
            f"for i in 1 2 3; do while :; do {out_of}; done; echo \"i$i\"; done 2>&1",
            "i=0; while i=$((i+1)); [ $i -le 3 ]; do echo $i; done",
            "for i in x y; do :; done; echo \"last $i\"",
            f"while false; do :; done; echo \"st $?\"; i=0; while [ $i -lt {n} ]; do "
            "i=$((i+1)); false; done; echo \"st2 $?\"",
        ])
        return loop

    def functions(self) -> str:
        body = self.pick([
            "echo \"f $# $1\"; return $2",
            "g=global; echo \"in $*\"",
            "shift; echo \"rest $*\"; return 0",
            "[ \"$1\" = a ] && return 3; echo \"not a\"",
            "for x in 1 2 3; do [ $x = 2 ] && return $x; done",
            "v=changed; return",
            "echo \"$1\" | tr a-z A-Z",
            "false",
        ])
        calls = []
        for _ in range(self.rng.randint(1, 3)):
            calls.append(f"f {self.value()} {self.rng.randint(0, 4)}; echo \"ret $? "
                         "g=${g-} v=${v-} n=$#\"")
        return "v=orig; g=\nf() {\n  " + body + "\n}\n" + \
            "\n".join(calls) + "\nx=$(f a 1); echo \"sub [$x] $?\""

    def redirections(self) -> str:
        f = self.pick(["out", "o2"])
        return self.pick([
            f"echo one > {f}; echo two >> {f}; cat {f}",
            f"{{ echo a; echo b >&2; }} > {f} 2>&1; cat {f}",
            f"{{ echo a; echo b >&2; }} 2>&1 > {f}; echo \"f: $(cat {f})\"",
            "echo x >&-; echo \"st $?\"",
            f"echo hi > {f}; read l < {f}; echo \"got $l\"",
            f"exec 3> {f}; echo via3 >&3; exec 3>&-; cat {f}",
            "while read a b; do echo \"[$a][$b]\"; done < b.txt",
            f"cat < a.txt > {f}; wc -l < {f}",
            "ls nonexistent 2>/dev/null; echo \"st $?\"",
            f": > {f}; echo \"size $(wc -c < {f})\"",
            f"echo data > {f}; cat < {f} >> {f}.2; cat {f}.2",
            "( echo sub; echo err >&2 ) 2>/dev/null",
            "echo x > /nonexistent/dir/file; echo \"st $?\"",
            "cat < nonexistent; echo \"st $?\"",
            "v=$(echo err >&2) 2>&1; echo \"[$v]\"",
            "exec 4<a.txt; read x <&4; read y <&4; echo \"$x $y\"; exec 4<&-",
            "printf 'a\\nb\\n' | { read x; read y; echo \"$y$x\"; }",
            f"echo one 1>{f} 2>&1; cat {f}",
        ])

    def heredoc(self) -> str:
        delim = self.pick(["EOF", "'EOF'", '"EOF"', "E\\OF", "END"])
        bare = delim.replace("'", "").replace('"', "").replace("\\", "")
        dash = self.chance(0.3)
        lines = [self.pick(["v=val $v", "text with $v and ${v}", "$(echo cs) `echo bq`",
                            "\\$v \\\\ back", "'sq' \"dq\"", "$((1+2))", "tab\there",
                            "trailing\\", "\\`"]) for _ in range(self.rng.randint(1, 3))]
        indent = "\t" if dash else ""
        body = "\n".join(indent + line for line in lines)
        if lines[-1].endswith("\\") and "'" not in delim and '"' not in delim and \
                "\\" not in delim:
            body += "\ncont"
        op = "<<-" if dash else "<<"
        cmd = self.pick(["cat", "while read -r l; do echo \"[$l]\"; done",
                         "read a b; echo \"$b|$a\"", "wc -l"])
        return f"v=V\n{cmd} {op}{delim}\n{body}\n{indent}{bare}\necho after"

    def lists(self) -> str:
        atoms = ["true", "false", "echo t", "! true", "! false", "[ 1 = 2 ]", "test -n x",
                 "(exit 3)", "false | true", "true | false", "! false | false"]
        parts = [self.pick(atoms)]
        for _ in range(self.rng.randint(1, 3)):
            parts.append(self.pick(["&&", "||"]))
            parts.append(self.pick(atoms))
        return " ".join(parts) + "; echo \"st $?\""

    def subshell(self) -> str:
        return self.pick([
            "v=out; (v=in; echo \"$v\"); echo \"$v\"",
            "(exit 4); echo \"st $?\"", "(cd d1 && pwd | sed 's,.*/,,'); basename \"$PWD\" |"
            " sed 's/-.*//'",
            "( set -- x y z; echo $# ); echo $#",
            "f() { echo fn; }; (f; unset -f f); f",
            "x=1; { x=2; }; echo $x; (x=3); echo $x",
            "echo a | (read l; echo \"[$l]\"); echo \"st $?\"",
            "(echo one; exit 2; echo no); echo \"st $?\"",
            "echo pipe | { read x; echo \"in $x\"; }; echo \"x=${x-unset}\"",
        ])

    def eval_shift(self) -> str:
        return self.pick([
            "v='a b'; eval \"w=\\$v\"; echo \"$w\"",
            "eval 'x=1; y=2'; echo $((x+y))",
            "cmd='echo $1'; set -- p q; eval \"$cmd\"",
            "eval 'for i in 1 2; do echo e$i; done'",
            "set -- a b c d; shift 2; echo \"$*\"; shift; echo $#",
            "set -- a; (shift 3); echo \"st $?\"",
            "eval 'echo \"$#\"' ; eval",
            "n=3; eval \"v$n=x\"; eval \"echo \\$v$n\"",
            "eval 'exit 5' ; echo never",
            "eval 'false'; echo \"st $?\"",
            "set -- 1 2 3; while [ $# -gt 0 ]; do printf '%s,' \"$1\"; shift; done; echo",
        ])

    def set_options(self) -> str:
        return self.pick([
            "(set -e; false; echo no); echo \"st $?\"",
            "(set -e; false || true; echo yes); echo \"st $?\"",
            "(set -e; if false; then :; fi; echo yes); echo \"st $?\"",
            "(set -e; ! true; echo yes); echo \"st $?\"",
            "(set -e; f() { false; echo inf; }; f; echo no); echo \"st $?\"",
            "(set -e; x=$(false); echo no); echo \"st $?\"",
            "(set -e; false && true; echo yes); echo \"st $?\"",
            "(set -u; echo \"${unsetvar-d}\"; echo \"$unsetvar\"; echo no) 2>/dev/null; "
            "echo \"st $?\"",
            "(set -u; echo $#; echo \"$@\"; echo ok); echo \"st $?\"",
            "set -f; echo *; set +f; echo *.txt",
            "(set -e; (false); echo no); echo \"st $?\"",
            "(set -e; while false; do :; done; echo yes); echo \"st $?\"",
            "set -- a b; (set -u; echo \"${3:-none}\"); echo \"st $?\"",
            "(set -e; v=1; false | true; echo yes); echo \"st $?\"",
            "set -a; exp=1; set +a; sh -c 'echo \"[${exp-}]\"' 2>/dev/null || echo none",
        ])

    def trap_exit(self) -> str:
        return self.pick([
            "(trap 'echo bye' EXIT; echo body); echo \"st $?\"",
            "(trap 'echo bye $?' EXIT; exit 3); echo \"st $?\"",
            "(trap 'echo bye' 0; false); echo \"st $?\"",
            "(trap 'echo one' EXIT; trap 'echo two' EXIT; :)",
            "(trap 'echo t' EXIT; trap - EXIT; echo x)",
            "(trap 'echo \"in $v\"' EXIT; v=late)",
            "(set -e; trap 'echo cleanup' EXIT; false; echo no); echo \"st $?\"",
            "trap 'echo final' EXIT",
            "(trap 'exit 7' EXIT; exit 1); echo \"st $?\"",
            "trap 'echo hi' EXIT; trap | sed 's/^/T:/'; trap - EXIT",
        ])

    def printf(self) -> str:
        fmt = "".join(self.pick(FORMATS) for _ in range(self.rng.randint(1, 3)))
        args = " ".join(sq(self.pick(PRINTF_ARGS)) for _ in range(self.rng.randint(0, 4)))
        fmt = sq(fmt + "\\n")
        return f"printf {fmt} {args} 2>/dev/null; echo \"st $?\""

    def read(self) -> str:
        inp = self.pick(["a b c", "  lead  trail  ", "a\\ b c", "x:y:z", "one", "",
                         "a\\\\b", "back\\", "t\tab", "a:b c:d", "x:y:", ":x:y:", "x:y::",
                         "a, b,", "x:", " x : y : ", "a\\:b:c"])
        ifs = self.pick(["", "IFS=: ", "IFS= ", "IFS=' :' ", "IFS=, "])
        r = self.pick(["", "-r "])
        names = self.pick(["x", "x y", "x y z"])
        feed = self.pick([f"printf '%s\\n' {sq(inp)}", f"printf '%s' {sq(inp)}",
                          f"printf '%s\\ncont\\n' {sq(inp)}"])
        show = " ".join(f"[${n}]" for n in names.split())
        return f"{feed} | {{ {ifs}read {r}{names}; echo \"st $? {show}\"; }}"

    def test(self) -> str:
        lines = []
        for _ in range(self.rng.randint(1, 4)):
            op = self.pick(TESTS)
            a, b = self.pick(["1", "2", "-1", "", "a", "abc", "010", "10"]), \
                self.pick(["1", "2", "10", "", "a"])
            if op in ("-n", "-z"):
                expr = f"{op} {sq(a)}"
            elif op in ("-f", "-d", "-e", "-r", "-s"):
                expr = f"{op} {self.pick(self.files + self.dirs + ['nope', '.'])}"
            elif op == "!":
                expr = f"! {sq(a)} = {sq(b)}"
            elif op.startswith("-"):
                a = self.pick(["1", "2", "-1", "010", "10", "0"])
                expr = f"{a} {op} {self.pick(['1', '2', '10', '-3'])}"
            else:
                expr = f"{sq(a)} {op} {sq(b)}"
            form = self.pick(["[ {} ]", "test {}"])
            extra = self.pick(["", " -a -n x", " -o -z x", ""])
            lines.append(f"{form.format(expr + extra)}; echo \"{expr.replace(chr(39), '')}"
                         " -> $?\"")
        if self.chance(0.3):
            lines.append(self.pick(["[ ]; echo \"empty $?\"", "[ x ]; echo \"one $?\"",
                                    "[ -n ]; echo \"-n $?\"", "[ a = ]; echo \"bad $?\" 2>&1",
                                    "[ 1 -eq x ] 2>/dev/null; echo \"nonnum $?\"",
                                    "[ \\( 1 = 1 \\) ]; echo \"paren $?\""]))
        return "\n".join(lines)

    def statuses(self) -> str:
        return self.pick([
            "false; echo \"st $?\"", "true; echo \"st $?\"",
            "nonexistent_cmd_xyz 2>/dev/null; echo \"st $?\"",
            "./a.txt 2>/dev/null; echo \"st $?\"",
            "! false; echo \"st $?\"", "(exit 255); echo \"st $?\"",
            "(exit 256) ; echo \"st $?\"", "sh -c 'exit 9'; echo \"st $?\"",
            "false | false | true; echo \"st $?\"", "true | false; echo \"st $?\"",
            "v=$(exit 7); echo \"st $?\"", "x=1 false; echo \"st $? $x\"",
            "if false; then :; fi; echo \"st $?\"", "case x in y) ;; esac; echo \"st $?\"",
            "f() { return 5; }; f; echo \"st $?\"",
            "cd /nonexistent 2>/dev/null; echo \"failed $(($? > 0))\"",
            "kill -0 $$; echo \"st $?\"", "command -v cat >/dev/null; echo \"st $?\"",
            "command -v nosuchcmd; echo \"failed $(($? > 0))\"",
            "{ sh -c 'kill -TERM $$'; } 2>/dev/null; echo \"st $?\"",
        ])

    def special_errors(self) -> str:
        # POSIX asks only for a non-zero status here: dash says 2, bash 1 or goes on
        return self.pick([
            "(shift 5; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(readonly r=1; r=2; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(set -o nosuchoption; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(exit 2 3; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(. ./nonexistent_file; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(break; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(return 2>/dev/null; echo after); echo \"failed $(($? > 0))\"",
            "(unset -v 1bad; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(readonly q=1; unset q; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(export 'a b=1'; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(trap 'echo x' NOSUCHSIG; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(: $((1+)); echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
            "(eval 'if'; echo after) 2>/dev/null; echo \"failed $(($? > 0))\"",
        ])

    def while_read(self) -> str:
        f = self.pick(self.files)
        return self.pick([
            f"while IFS= read -r l; do printf '[%s]\\n' \"$l\"; done < {f}",
            f"n=0; while read l; do n=$((n+1)); done < {f}; echo \"lines $n\"",
            f"cat {f} | while read a b; do echo \"$b $a\"; done; echo \"st $?\"",
            "while IFS=: read a b c; do echo \"$c|$b|$a\"; done < ab.log",
            "while IFS== read k v; do echo \"<$k><$v>\"; done < data",
        ])

    # --- random nesting of compound commands --------------------------------------------

    def program(self) -> str:
        """A random nest of compound commands (`stmt`), after a function that uses one."""
        self.counter += 1
        body = self.stmt(3, loops=0, in_fn=True)
        head = f"fn{self.counter}() {{\n{body}\n}}\n"
        call = f"fn{self.counter} {self.value()} b; echo \"ret $?\""
        main = self.stmt(3, loops=0, in_fn=False)
        if self.chance(0.3):
            main = f"(set -e\n{main}\necho end); echo \"st $?\""
        return head + call + "\n" + main

    def stmt(self, depth: int, loops: int, in_fn: bool) -> str:
        """One command; `loops` is how many loops enclose it (for break/continue N),
        `in_fn` whether `return` may end a function here."""
        if depth <= 0 or self.chance(0.3):
            return self.simple(loops, in_fn)
        self.counter += 1
        k = self.counter
        sub = lambda: self.stmt(depth - 1, loops, in_fn)  # noqa: E731
        inner = lambda: self.stmt(depth - 1, loops + 1, in_fn)  # noqa: E731
        r = self.rng.randrange(12)
        if r == 0:
            return f"if {self.cond(depth)}; then\n{sub()}\nelif {self.cond(depth)}; then " \
                   f"{sub()}\nelse {sub()}; fi"
        if r == 1:
            return f"n{k}=0; while [ $n{k} -lt {self.rng.randint(0, 3)} ]; do " \
                   f"n{k}=$((n{k}+1))\n{inner()}\ndone"
        if r == 2:
            return f"n{k}=0; until [ $n{k} -ge {self.rng.randint(0, 3)} ]; do " \
                   f"n{k}=$((n{k}+1)); {inner()}; done"
        if r == 3:
            words = self.pick(["a b", "1 2 3", "$v", '"$v"', "*.txt", ""])
            return f"for i{k} in {words}; do echo \"i=$i{k}\"; {inner()}; done"
        if r == 4:
            arms = "\n".join(f"  {self.pick(PATTERNS)}) {sub()} ;;"
                             for _ in range(self.rng.randint(1, 3)))
            subject = self.pick(["$v", '"$v"', "$?", "abc", "$1"])
            return f"case {subject} in\n{arms}\nesac"
        if r == 5:
            return "{ " + sub() + "\n" + sub() + "; }" + self.pick(["", f" > o{k}; cat o{k}",
                                                                  " 2>&1", " | cat"])
        if r == 6:
            return f"( {sub()}\n{sub()} ); echo \"sub $?\""
        if r == 7:
            return f"{sub()} {self.pick(['&&', '||'])} {sub()}"
        if r == 8:
            return f"x{k}=$( {sub()} ); printf '[%s]\\n' \"$x{k}\""
        if r == 9:
            return f"{self.pick(['! ', ''])}{{ {sub()}; }} | {self.pick(['cat', 'wc -l', 'sort'])}"
        if r == 10:
            return f"eval {sq(sub())}"
        return f"{sub()}\n{sub()}"

    def cond(self, depth: int) -> str:
        return self.pick(['[ "$v" = a ]', "true", "false", '[ -n "$v" ]', "! false",
                          '[ "$1" ]', "test $# -gt 1", "[ -f a.txt ]", "(exit 1)",
                          '[ "$(echo x)" = x ]', "case $v in a*) true;; *) false;; esac"])

    def simple(self, loops: int, in_fn: bool) -> str:
        options = ['echo "v=[$v] st=$? n=$#"', "v=$v.", 'v="${v:-d}x"', "false", "true",
                   "printf '%s|' $v; echo", 'set -- "$@" z', "shift 2>/dev/null || echo noshift",
                   'echo "$1${2-}"', "v=$((${#v} % 3))", "echo $(( ${#v} * 2 ))",
                   "{ cat <<E\nhd $v\nE\n}", '{ read v <<E\nr $v\nE\n}',
                   "w=$(echo \"$v\" | tr a-z A-Z)",
                   '[ "$v" ] && echo nonempty', "(exit 3)", ": ${v:=init}", "unset v"]
        if loops:
            n = self.rng.randint(1, loops)
            options += [f"break {n}" if n > 1 else "break",
                        f"continue {n}" if n > 1 else "continue"]
        if in_fn:
            options += [f"return {self.rng.randint(0, 3)}", "return"]
        return self.pick(options)

    def heredoc_lines(self) -> str:
        """Here-documents whose lines end in backslashes, hold the delimiter, or are tabbed."""
        delim = self.pick(["EOF", "'EOF'", "E"])
        bare = delim.strip("'")
        lines = [self.pick(["a\\", "b\\\\", "\\", bare, "\t" + bare, "\tx", "$v\\", "end"])
                 for _ in range(self.rng.randint(1, 4))]
        op = self.pick(["<<", "<<-"])
        return f"v=V\ncat {op}{delim}\n" + "\n".join(lines) + f"\n{bare}\necho after"

    def idioms(self) -> str:
        """Builtins and idioms scripts lean on: getopts, signals and traps, jobs, `.`,
        export to a child, exec and fds, command and type."""
        opts = self.pick(["-a", "-b x", "-bx", "-ab y", "-c", "-a -- -b", "-b", "x -a", ""])
        spec = self.pick(["ab:", ":ab:", "a", "b:c"])
        sig = self.pick(["TERM", "INT", "USR1"])
        n = self.rng.randint(0, 9)
        return self.pick([
            f"set -- {opts}; while getopts {spec} o; do echo \"o=$o a=${{OPTARG-u}}\";"
            " done 2>/dev/null; echo \"ind=$OPTIND\"; shift $((OPTIND-1)); echo \"rest=$*\"",
            "trap 'echo got' USR1; kill -USR1 $$; echo after",
            "trap '' TERM; kill -TERM $$; echo ignored",
            f"(trap 'echo t$?' EXIT; kill -{sig} $$); echo \"st $?\"",
            "sleep 0.01 & wait $!; echo \"bg $?\"; (exit 4) & wait $!; echo \"bg $?\"",
            "false & true & wait; echo \"all $?\"",
            f"echo 'x={n}; return 3; echo no' > s.sh; . ./s.sh; echo \"$? $x\"",
            "export ex=1; ne=2; sh -c 'echo \"${ex-u} ${ne-u}\"'; ne=3 sh -c 'echo $ne'",
            "exec 3>o3; echo to3 >&3; exec 3>&-; cat o3; echo x >&3 2>/dev/null || echo closed",
            "exec 4<a.txt; read l <&4; exec 4<&-; echo \"$l\"",
            "command -v echo; command -v nosuch || echo \"none $?\"; type cd >/dev/null; echo $?",
            "alias al='echo ali'\nal x",
            "f() { echo fn; }; unset -f f; f 2>/dev/null || echo \"gone $?\"",
            "x=1; readonly x; (x=2) 2>/dev/null; echo \"ro $?\"",
            "set -- 1 2 3; f() { echo $#; shift; echo $#; }; f a b; echo $#",
            "(set -C; : > nc; : > nc) 2>/dev/null; echo \"noclobber $?\"",
            "umask 027; umask; (umask 0; umask); umask",
            f"cd {self.pick(['//', '///', '//usr/..', '/usr/./bin/..', 'd1/../dir2', '.'])};"
            " pwd | sed 's,.*shdiff[^/]*/[^/]*,SCRATCH,'; cd - >/dev/null; echo \"st $?\"",
        ])
