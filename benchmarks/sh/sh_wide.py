"""The widened half of the differential's grammar: fragments for what real scripts lean on
and the first grammar (`sh_grammar.py`) did not reach. `getopts` loops, traps on signals
and on EXIT inside functions and subshells, `set -e` inside `&&`/`||`/`if`/`!`/pipelines
and functions, `set -u` with its `${x-}` escapes, `unset` of functions, `readonly` errors,
`export` and a command's own environment, `command -v`/`type`, `exec` redirections, `read`
with backslashes and IFS whitespace/non-whitespace mixes, here-documents inside functions,
loops and command substitutions, nested quoting in `${x:-"a b"}` and `"${x#"$p"}"`, `case`
arms with `|`, brackets, stars, question marks and quoted parts, octal/hex arithmetic and
assignment operators, `printf` `%b`/`%c`/widths/escapes, `echo` without backslashes (dash
and bash --posix read those differently), `wait` with `$!` and statuses, `kill -0`,
`umask`, `cd -`, `pwd -P`, `${#@}`-like forms (not `$LINENO`: dash leaves it empty in a
`-c` script), and non-ASCII bytes in words,
patterns and `${#x}` (the references run in the C locale: a byte is a character).

Each fragment picks its parts at random, so one template gives many scripts; everything
prints what it computes, and whatever may end the shell runs in a subshell."""

from __future__ import annotations

import random
from collections.abc import Callable

#: Words with bytes outside ASCII: UTF-8 sequences (2, 3 and 4 bytes) and, by `printf`
#: octal escapes in `byte_word`, bytes that are no UTF-8 at all.
WIDE_VALUES = ["é", "héllo", "naïve", "€uro", "x€y", "日本", "a😀b", "ü ü", "Ä:ö", "ß*"]
#: Inputs for `read`: backslashes before ordinary characters, IFS characters and newlines,
#: white space at the ends, empty fields between non-white-space separators.
READ_INPUTS = ["a\\ b c", "a\\\\b c", "\\a\\b", "x\\:y:z", " a : b : c ", "a::b", ":a:b",
               "a:b:", "a : : b", "\t a\tb \t", "a,b, c ,d", "  x  ", "a\\", "é :ü",
               "one two three four", "a b\\", "\\ lead", "x:y::"]
READ_IFS = ["", " ", ":", " :", ": ", ",", " ,", "\t", " \t:", "x"]
CASE_WORDS = ["a", "ab", "abc", "a.c", "-", "[", "]", "*", "?", "!", "x y", "a|b", "A1",
              "é", "Ü", "a\\b", "", "1.5", "--x", "é.c"]
CASE_PATTERNS = ["a", "a*", "*b", "?", "??", "???", "[ab]", "[!ab]*", "[a-c]?", "\\*", "'*'",
                 '"?"', "[[:upper:]]*", "[[:digit:]].*", "*.[ch]", "[]]", "[!]]", "[-]",
                 "[a-]", "'a|b'", "x\\ y", '"x "*', "a\\\\b", "*'.'*", "[*?]", "é", "?.c",
                 "[é]", "*[!a-z]*", "\"\"", "--*", "[\\!]"]
ECHO_WORDS = ["a", "'a  b'", "-", "--", "-x", "'-n x'", "\"$v\"", "$v", "''", "'*'",
              "\"a\"b'c'", "é"]


def sq(text: str) -> str:
    """`text` single-quoted for the shell."""
    return "'" + text.replace("'", "'\\''") + "'"


class WideFragments:
    """Fragments mixed into `sh_grammar.Generator` (which gives `rng`)."""

    rng: random.Random

    def wide_fragments(self) -> list[Callable[[], str]]:
        return [self.getopts_loop, self.signal_traps, self.errexit_places, self.nounset_forms,
                self.unset_readonly, self.export_env, self.command_type, self.exec_fds,
                self.read_fields, self.heredoc_places, self.nested_param_quotes,
                self.case_patterns, self.arith_bases, self.printf_wide, self.echo_plain,
                self.jobs_wait, self.env_builtins, self.param_counts, self.bytes_words,
                self.bytes_words, self.wide_program, self.wide_program]

    def _pick(self, items: list[str]) -> str:
        return self.rng.choice(items)

    # --- builtins and options ----------------------------------------------------------

    def getopts_loop(self) -> str:
        spec = self._pick(["ab:c", ":ab:c", "a:", ":x", "abc", "v:q", ":a:b:"])
        args = " ".join(self._pick(["-a", "-b", "-bval", "-b v", "-c", "-ac", "-ab x", "-x",
                                    "--", "-", "arg", "'-a b'", "-cb"])
                        for _ in range(self.rng.randint(0, 4)))
        body = self._pick([
            'case $o in a|c) echo "flag $o";; b) echo "b=$OPTARG";; \\?) echo "bad '
            '${OPTARG-none}";; :) echo "miss $OPTARG";; *) echo "other $o";; esac',
            'printf "%s:%s:%s " "$o" "${OPTARG-u}" "$OPTIND"'])
        where = self._pick(["main", "func", "reset"])
        loop = f"while getopts {spec} o; do {body}; done 2>/dev/null"
        tail = 'echo "ind=$OPTIND st=$?"; shift $((OPTIND - 1)); echo "rest=$#:$*"'
        if where == "func":
            return f"f() {{ OPTIND=1; {loop}; {tail}; }}\nf {args}\nf -a -b z"
        if where == "reset":
            return f"set -- {args}\n{loop}\nOPTIND=1; set -- -a -b q r\n{loop}\n{tail}"
        return f"set -- {args}\n{loop}\n{tail}"

    def signal_traps(self) -> str:
        sig = self._pick(["TERM", "INT", "USR1", "USR2", "HUP"])
        act = self._pick(["echo caught", "echo \"got $?\"", "", "echo in; exit 3", "-"])
        # `$$` in a subshell is the script's shell: a subshell signals itself through a
        # child's $PPID (signalling the script's shell would race the harness's clean-up)
        me = f"sh -c 'kill -{sig} $PPID'"
        where = self._pick([
            f"trap {sq(act)} {sig}; kill -{sig} $$; echo \"after $?\"",
            f"(trap {sq(act)} {sig}; {me}; echo \"sub $?\"); echo \"st $?\"",
            f"f() {{ trap 'echo fexit $?' EXIT; "
            f"{self._pick(['return 2', 'false', 'echo body'])}; }}; (f; echo \"ret $?\"); "
            "echo \"st $?\"",
            f"(trap 'echo outer' EXIT; (trap 'echo inner $?' EXIT; exit {self.rng.randint(0, 4)})"
            "; echo \"mid $?\"); echo \"st $?\"",
            "(trap 'echo bye' EXIT; x=$(echo sub); echo \"$x\")",
            f"(trap 'echo t' {sig}; trap - {sig}; {me}; echo no); echo \"st $?\"",
            f"(trap '' {sig}; ({me}; echo child); echo parent); echo \"st $?\"",
            f"(trap 'echo x' {sig}; f() {{ {me}; echo inf; }}; f; echo done)",
            "(trap 'echo e$?' EXIT; set -e; false; echo no); echo \"st $?\"",
            "(trap 'echo \"exit $?\"' EXIT; sh -c 'exit 6'); echo \"st $?\"",
            f"(trap 'echo first' {sig}; trap 'echo second' {sig}; {me}; :)",
            f"(trap 'echo a' EXIT {sig}; {me}; echo b)",
            f"trap 'echo top' {sig}; f() {{ kill -{sig} $$; echo \"f $?\"; }}; f; trap - {sig}",
            "for i in 1 2; do (trap \"echo t$i\" EXIT; echo b$i); done",
        ])
        return where

    def errexit_places(self) -> str:
        fail = self._pick(["false", "(exit 3)", "[ a = b ]", "! true", "f", "{ false; }",
                           "sh -c 'exit 4'"])
        form = self._pick([
            "{f} && echo and", "{f} || echo or", "if {f}; then echo t; else echo e; fi",
            "! {f}", "{f} | cat", "true | {f}", "while {f}; do :; done",
            "until ! {f}; do echo u; break; done", "echo x | {f}; echo pipe",
            "{f}; echo never", "g() {{ {f}; echo ing; }}; g", "g() {{ {f}; echo ing; }}; g || :",
            "g() {{ {f}; echo ing; }}; if g; then :; fi", "x=$({f}; echo cs); echo \"[$x]\"",
            "({f}); echo sub", "{{ {f}; echo grp; }} && :", 'eval "{f}"; echo ev',
            "for i in 1; do {f}; done; echo loop", "case x in x) {f};; esac; echo c",
            "{f} && true; echo andlast", "true && {f}; echo tail",
        ])
        body = form.format(f=fail)
        return f"(set -e; f() {{ return 1; }}\n{body}\necho end); echo \"st $?\""

    def nounset_forms(self) -> str:
        form = self._pick([
            'echo "[${u-}]" "[${u:-d}]" "[${u+s}]" "[${u:+t}]"',
            'echo "${#u}"', "echo \"$u\"", 'echo "${u#x}"', "echo \"${u%x}\"",
            'x=; echo "[$x]" "[${x:-e}]"', 'echo "$# ${1-none}"', 'echo "$@" "$*" ok',
            'echo "${2}"', 'echo "$((u + 1))"', ': "${u=dflt}"; echo "$u"',
            'echo "${u:=x}"', 'unset x; echo "${x-gone}"', 'for a in "$@"; do echo "$a"; done',
            'f() { echo "${1-no}"; }; f', 'echo "$!"', 'echo "${u?}"',
        ])
        args = self._pick(["", "a", "a b"])
        return f"(set -u; set -- {args}; {form}; echo ok) 2>/dev/null; echo \"st $(($? > 0))\""

    def unset_readonly(self) -> str:
        return self._pick([
            "f() { echo fn; }; unset -f f; f 2>/dev/null; echo \"gone $?\"",
            "f() { echo fn; }; f=var; unset f; echo \"${f-unset}\"; f",
            "f() { echo fn; }; unset -v f; f",
            "x=1; unset x; echo \"${x-unset}\"; unset x; echo \"again $?\"",
            "unset nosuch; echo \"st $?\"; unset -f nosuchf; echo \"st $?\"",
            "readonly r=1; (r=2) 2>/dev/null; echo \"assign $(($? > 0))\"; echo \"$r\"",
            "readonly r=1; (unset r) 2>/dev/null; echo \"unset $(($? > 0))\"; echo \"$r\"",
            "readonly r=1; (readonly r=2) 2>/dev/null; echo \"again $(($? > 0))\"",
            "readonly r; (r=1) 2>/dev/null; echo \"st $(($? > 0))\"; echo \"${r-unset}\"",
            "readonly a=1 b=2; echo \"$a$b\"; (b=3 2>/dev/null) 2>/dev/null; echo \"$(($? > 0))\"",
            "(readonly r=1; r=2; echo after) 2>/dev/null; echo \"st $(($? > 0))\"",
            "(readonly r=1; for r in a b; do echo $r; done) 2>/dev/null; echo \"st $(($? > 0))\"",
            "(readonly r=1; read r <<E\nx\nE\necho \"after $?\") 2>/dev/null; echo \"$(($? > 0))\"",
            "x=5; readonly x; readonly -p | grep -c ' x='",
            "f() { local_v=in; }; f; echo \"$local_v\"; unset local_v; echo \"${local_v-u}\"",
        ])

    def export_env(self) -> str:
        return self._pick([
            "x=1; sh -c 'echo \"[${x-unset}]\"'; export x; sh -c 'echo \"[${x-unset}]\"'",
            "x=outer; x=inner sh -c 'echo $x'; echo \"$x\"",
            "f() { echo \"f sees ${y-unset}\"; }; y=5 f; echo \"after ${y-unset}\"",
            "y=5 :; echo \"${y-unset}\"; y=6 true; echo \"${y-unset}\"",
            "y=7 eval 'echo $y'; echo \"${y-unset}\"",
            "export e1=a e2; e2=b; sh -c 'echo \"$e1 $e2\"'",
            "export e3='a b'; env | grep '^e3='",
            "e4=1; export e4; unset e4; sh -c 'echo \"[${e4-unset}]\"'",
            "export e5=1; e5=2; sh -c 'echo $e5'",
            "(export e6=sub); sh -c 'echo \"[${e6-unset}]\"'",
            "e7=x env | grep -c '^e7=x'; echo \"[${e7-unset}]\"",
            "PATH=/nonexistent sh -c 'echo hi' 2>/dev/null; echo \"st $?\"",
            "z=1 z=2 sh -c 'echo $z'",
            "a=1; a=2 b=$a sh -c 'echo $a $b'",
            "set -a; sa=1; set +a; sh -c 'echo \"[${sa-u}]\"'",
            "export -p | grep -c '^export HOME='",
        ])

    def command_type(self) -> str:
        name = self._pick(["cd", "echo", "cat", "true", "f", "nosuchcmd", "printf", ":",
                           "if", "sh", "[", "test", "export"])
        return self._pick([
            f"f() {{ :; }}; command -v {name} >/dev/null; echo \"v $?\"",
            f"f() {{ :; }}; type {name} >/dev/null 2>&1; echo \"type $?\"",
            "command -v cat; command -v cd; command -v :",
            "f() { echo fn; }; command f 2>/dev/null; echo \"st $?\"",
            "echo() { printf 'mine\\n'; }; echo x; command echo y; unset -f echo; echo z",
            "command -v ls | sed 's,.*/,,'",
            "type cd; type :",
            "command false; echo \"st $?\"; command nosuch 2>/dev/null; echo \"st $?\"",
            "command -p echo p",
            "f() { echo fn; }; command -v f",
            "command exec 2>/dev/null; echo \"st $?\"",
        ])

    def exec_fds(self) -> str:
        fd = self.rng.randint(3, 9)
        return self._pick([
            f"exec {fd}>o; echo a >&{fd}; echo b >&{fd}; exec {fd}>&-; cat o",
            f"exec {fd}>o; exec {fd}>&-; echo x >&{fd} 2>/dev/null; echo \"closed $?\"",
            f"exec {fd}<a.txt; read x <&{fd}; read y <&{fd}; exec {fd}<&-; echo \"$y $x\"",
            f"exec {fd}>>o; echo 1 >&{fd}; exec {fd}>>o; echo 2 >&{fd}; exec {fd}>&-; cat o",
            f"exec {fd}<>o; echo rw >&{fd}; exec {fd}>&-; cat o",
            f"{{ exec {fd}>o; }}; echo g >&{fd}; cat o",
            f"(exec {fd}>o; echo sub >&{fd}); echo x >&{fd} 2>/dev/null || echo \"not here\"",
            f"exec {fd}>&1; echo via >&{fd}; exec {fd}>&-",
            f"exec {fd}>o; f() {{ echo infn >&{fd}; }}; f; exec {fd}>&-; cat o",
            "exec 3>o 4>&3; echo a >&4; exec 3>&- 4>&-; cat o",
            "exec 2>/dev/null; ls nosuchfile; echo \"st $?\"",
            "exec >o; echo hidden; exec >&2; cat o >&2; echo done",
            f"exec {fd}<a.txt; cat <&{fd}; exec {fd}<&-",
            "exec </dev/null; read x; echo \"eof $?\"",
            f"exec {fd}>o; echo x >&{fd}; exec {fd}<o; read l <&{fd}; echo \"[$l]\"",
        ])

    def read_fields(self) -> str:
        inp = self._pick(READ_INPUTS)
        ifs = self._pick(READ_IFS)
        names = self._pick(["x", "x y", "x y z", "x y z w"])
        raw = self._pick(["", "-r "])
        show = "".join(f"[${n}]" for n in names.split())
        feed = self._pick([f"printf '%s\\n' {sq(inp)}", f"printf '%s' {sq(inp)}",
                           f"printf '%s\\nnext\\n' {sq(inp)}"])
        return f"{feed} | {{ IFS={sq(ifs)} read {raw}{names}; echo \"st $? {show}\"; }}"

    def heredoc_places(self) -> str:
        delim = self._pick(["EOF", "'EOF'", "\\EOF", "E"])
        bare = delim.strip("'\\")
        line = self._pick(["v=$v", "${v:-d} $1", "$(echo cs)", "`echo bq`", "\\$v", "$((2*3))",
                           "'q' \"d\"", "tail\\\\"])
        hd = f"<<{delim}\n{line}\n{bare}"
        return self._pick([
            f"v=V; f() {{ cat {hd}\n}}; f a; f b",
            f"v=V; for i in 1 2; do cat {hd}\ndone",
            f"v=V; x=$(cat {hd}\n); echo \"[$x]\"",
            f"v=V; while read -r l; do echo \"<$l>\"; done {hd}\necho after",
            f"v=V; if true; then cat {hd}\nfi",
            f"v=V; cat <<{delim} | tr a-z A-Z\n{line}\n{bare}",
            f"v=V; (cat {hd}\n); echo \"st $?\"",
            f"v=V; f() {{ cat; }}; f {hd}",
            f"v=V; cat <<A; cat <<{delim}\na\nA\n{line}\n{bare}",
            f"v=V; x=`cat {hd}\n`; echo \"[$x]\"",
            f"v=V; case x in x) cat {hd}\n;; esac",
            "v=V; eval \"cat <<X\n$v in eval\nX\"",
        ])

    def nested_param_quotes(self) -> str:
        val = sq(self._pick(["", "a b", "a*b", "x.y.z", "*", "a\\b", " sp ", "é-é"]))
        pat = sq(self._pick(["a", "*", "?", "a*", "\\", "x.", ".*", "b", "é"]))
        form = self._pick([
            'printf "[%s]" "${v:-"a b"}" ${v:-"c  d"} "${v:+"$v"}"; echo',
            'printf "[%s]" "${v#"$p"}" "${v#$p}" "${v%"$p"}" "${v%%$p}"; echo',
            'printf "[%s]" "${v##"$p"*}" "${v%%*"$p"}"; echo',
            "printf '[%s]' \"${v:-'q r'}\" ${v:-'q  r'} \"${u:-'s'}\"; echo",
            'printf "[%s]" "${u:-"${v:-"in ner"}"}" ${u-${v-x}}; echo',
            "printf '[%s]' \"${u:-\\\"}\" \"${u:-\\$v}\" \"${u:-a\\}b}\"; echo",
            'printf "[%s]" "${v:+x"$v"y}" ${v:+x"$v"y}; echo',
            'printf "[%s]" "${u=$v}" "$u"; echo',
            'printf "[%s]" "${#v}" "${v#"${v%?}"}"; echo',
            'x="${v#"$p"}"; y=${v%"$p"}; printf "[%s]" "$x" "$y"; echo',
            'printf "[%s]" "${v#\\*}" "${v%[!a]}" "${v#[$p]}"; echo',
            "case \"${v#\"$p\"}\" in *\"$p\"*) echo has;; *) echo not;; esac",
        ])
        return f"v={val}; p={pat}; unset u\n{form}"

    def case_patterns(self) -> str:
        word = self._pick(CASE_WORDS)
        arms = []
        for _ in range(self.rng.randint(2, 5)):
            pats = "|".join(self._pick(CASE_PATTERNS) for _ in range(self.rng.randint(1, 3)))
            arms.append(f"  {pats}) echo {sq('arm ' + pats)};;")
        subject = self._pick(["$w", '"$w"', "${w}x", "\"$w\"'.'c"])
        return f"w={sq(word)}\ncase {subject} in\n" + "\n".join(arms) + \
            "\n  *) echo none;;\nesac"

    def arith_bases(self) -> str:
        num = lambda: self._pick(["010", "0x10", "0X1f", "07", "0", "00", "0xff", "1",  # noqa: E731
                                  "-010", "0x7fffffffffffffff", "12", "x", "y"])
        op = self._pick(["+", "-", "*", "<", "<=", ">", ">=", "==", "!=", "&&", "||", "&", "|",
                         "^", "+=", "-=", "*=", "|=", "&=", "^="])
        left = self._pick(["x", "y"]) if op.endswith("=") and op not in ("<=", ">=", "==",
                                                                         "!=") else num()
        forms = [f'echo "$(({left} {op} {num()}))" "x=$x y=$y"',
                 f'echo "$(( ({left} {op} {num()}) ? 1 : 0 ))"',
                 'echo $((x+=1)) $((x+=1)) $x', 'echo $((x++)) 2>/dev/null; echo "pp $?"',
                 'echo $(( x == 8 )) $(( y != 16 )) $(( !x )) $(( ~y ))',
                 'i=0; while [ $((i+=1)) -le 3 ]; do printf "%s " $i; done; echo',
                 'echo $(( -x )) $(( x - -1 )) $(( x-- - 1 )) 2>/dev/null; echo "st $?"',
                 'z=0x10; echo $((z + 1)) $(($z)); z=010; echo $((z * 2))',
                 'echo $((0x7fffffffffffffff + 1)) $((-9223372036854775807 - 1))',
                 'echo $(( 1 < 2 < 3 )) $(( 3 > 2 > 1 )) $(( 2 == 2 == 1 ))']
        x, y = self._pick(['010', '0x10', '7', '-3', '0']), self._pick(['8', '0x8'])
        return f"x={x}; y={y}\n" + self._pick(forms)

    def printf_wide(self) -> str:
        fmt = self._pick(["%b|", "%c|", "%5s|", "%-5s|", "%*s|", "%-*s|", "%.1s|", "%5c|",
                          "%b%b|", "\\t%s\\n", "%s\\\\|", "\\101\\0102|", "%3b|", "%-4b|",
                          "%c%c|", "\\x41|", "%s\\c|", "\\'%s\\\"|", "%.3b|", "\\a\\v\\f|"])
        args = " ".join(sq(self._pick(["a\\tb", "\\0101", "\\101", "x\\cy", "abc", "3", "-3",
                                       "é", "\\\\", "\\n", "", "12", "\\x41", "'"]))
                        for _ in range(self.rng.randint(0, 3)))
        return f"printf {sq(fmt)} {args} 2>/dev/null | od -An -c | tr -s ' '; echo \"st $?\""

    def echo_plain(self) -> str:
        words = " ".join(self._pick(ECHO_WORDS) for _ in range(self.rng.randint(0, 4)))
        return f"v={sq(self._pick(['x', 'a  b', '', '*']))}; echo {words}; echo \"st $?\""

    def jobs_wait(self) -> str:
        n = self.rng.randint(0, 5)
        return self._pick([
            f"(exit {n}) & p=$!; wait $p; echo \"st $?\"",
            f"(exit {n}) & a=$!; (exit 2) & b=$!; wait $b; echo \"b $?\"; wait $a; echo \"a $?\"",
            "sleep 5 & p=$!; kill $p; wait $p; echo \"killed $?\"",
            "sleep 5 & p=$!; kill -0 $p; echo \"alive $?\"; kill -9 $p; wait $p; echo \"st $?\"",
            f"false & true & (exit {n}) & wait; echo \"all $?\"",
            "wait; echo \"none $?\"",
            "echo bg > o & wait $!; cat o",
            "x=1; { x=2; echo \"in $x\"; } & wait; echo \"out $x\"",
            "kill -0 $$; echo \"self $?\"; kill -0 99999 2>/dev/null; echo \"gone $(($? > 0))\"",
            "f() { return 7; }; f & wait $!; echo \"fn $?\"",
            "sh -c 'kill -TERM $$' & wait $!; echo \"sig $?\"",
            "(sleep 0.05; echo late) & echo early; wait",
            "for i in 1 2 3; do (exit $i) & done; wait $!; echo \"last $?\"",
        ])

    def env_builtins(self) -> str:
        return self._pick([
            f"umask {self._pick(['022', '077', '0', '7', '777', '0027'])}; umask; "
            ": > um; ls -l um | cut -c1-10",
            "umask 022; umask -S; umask u=rwx,g=,o=; umask; umask g+r; umask",
            "(umask 077; umask); umask",
            "cd d1; echo \"${PWD##*/}\"; cd - >/dev/null; case $PWD in */d1) echo d1;; "
            "*) echo back;; esac",
            "cd d1; cd ..; cd - | sed 's,.*/,,'; echo \"st $?\"",
            "cd /usr; cd /; cd -; cd - >/dev/null; pwd; cd - >/dev/null",
            "OLDPWD=/usr; cd - >/dev/null; pwd",
            "cd /usr/../; pwd; pwd -P; pwd -L",
            "ln -s d1 lk; cd lk; pwd | sed 's,.*/,,'; pwd -P | sed 's,.*/,,'; "
            "cd ..; cd -P lk; pwd | sed 's,.*/,,'",
            "cd nosuchdir 2>/dev/null; echo \"failed $(($? > 0))\"; [ \"$PWD\" = \"$(pwd)\" ]; "
            "echo \"same $?\"",
            "unset OLDPWD; cd - >/dev/null 2>&1; echo \"failed $(($? > 0))\"",
            "HOME=/usr; cd; pwd; cd ~/bin; pwd",
        ])

    def param_counts(self) -> str:
        args = " ".join(sq(self._pick(["a", "b c", "", "ddd"])) for _ in range(
            self.rng.randint(0, 4)))
        # ($LINENO is left out: dash leaves it empty in a `-c` script, bash counts lines)
        return self._pick([
            f"set -- {args}; echo \"${{#1}}\" \"$#\" \"${{#}}\"",
            f"set -- {args}; echo \"${{1:+x}}${{#*}}\" 2>/dev/null; echo ok",
            f"set -- {args}; for a do echo \"[${{#a}}]\"; done",
        ])

    # --- bytes outside ASCII (the C locale) --------------------------------------------

    def byte_word(self) -> str:
        if self.rng.random() < 0.3:
            return '"$(printf ' + sq(self._pick(["\\351", "a\\377b", "\\303", "\\200x"])) + ')"'
        return sq(self._pick(WIDE_VALUES))

    def bytes_words(self) -> str:
        v = self.byte_word()
        form = self._pick([
            'echo "${#v}"', 'printf "[%s]\\n" "${v#?}" "${v%?}" "${v##*?}"',
            'case $v in ?) echo 1;; ??) echo 2;; ???) echo 3;; *) echo many;; esac',
            'printf "%.2s|%5s|%-4s|\\n" "$v" "$v" "$v" | od -An -tx1',
            'printf "%c" "$v" | od -An -tx1', "printf '%d\\n' \"'$v\"",
            'IFS=$(printf "\\303"); set -- $v; echo "$#"',
            'printf "%s\\n" "$v" | { read -r x; echo "${#x}"; }',
            'x=$(printf "%s" "$v"); echo "$(( ${#x} + 0 ))"',
            ': > "$v.f"; for f in ?.f ??.f ???.f; do [ -e "$f" ] && echo "match $f" | '
            'od -An -c | tr -s " "; done',
            'case $v in *[!a-z]*) echo nonalpha;; *) echo alpha;; esac',
            'printf "%s" "$v" | wc -c; echo "${#v}"',
            '[ "$v" \\< z ]; echo "lt $?"; [ "${#v}" -gt 1 ]; echo "gt $?"',
            'w=${v%"${v#?}"}; printf "%s" "$w" | od -An -tx1',
            'set -- $v; echo "$# ${#1}"',
            'case $v in [é]*) echo e;; *[!é]) echo not-e;; *) echo other;; esac',
            'IFS=é; set -- x${v}y; unset IFS; echo "$#"; printf "<%s>" "$@" | od -An -c',
            'printf "%s:%s\\n" "$v" "$v" | { IFS=: read -r a b; echo "${#a} ${#b}"; }',
            ': > "$v"; : > z; : > a; printf "<%s>" * | od -An -c | tr -s " "',
            'E="$v" sh -c \'echo "${#E}"\'; f() { echo "$#:${#1}"; }; f "$v"',
            'cat <<E | od -An -c | tr -s " "\n$v ${#v} ${v#?}\nE',
        ])
        return f"v={v}\n{form}"

    # --- random nests with redirections, traps and options ----------------------------

    def wide_program(self) -> str:
        """A random nest (`wide_stmt`) inside a function, called with a redirection or in
        a pipeline, and one at the top level, each under `set -e` now and then."""
        body = self.wide_stmt(3, 0, True)
        call = self._pick(["f a b", "f a b > fo; cat fo", "f a b 2>&1 | cat", "x=$(f a b); "
                           "printf '[%s]\\n' \"$x\"", "f a b < a.txt", "f a b || echo \"or $?\""])
        top = self.wide_stmt(3, 0, False)
        if self.rng.random() < 0.3:
            top = f"(set -e\n{top}\necho end); echo \"st $?\""
        return f"v=x; i=0\nf() {{\n{body}\n}}\n{call}; echo \"ret $?\"\n{top}"

    def wide_stmt(self, depth: int, loops: int, in_fn: bool) -> str:
        if depth <= 0 or self.rng.random() < 0.3:
            return self.wide_simple(loops, in_fn)
        sub = lambda: self.wide_stmt(depth - 1, loops, in_fn)  # noqa: E731
        inner = lambda: self.wide_stmt(depth - 1, loops + 1, in_fn)  # noqa: E731
        redir = self._pick(["", "", " > o; cat o", " 2>&1", " < b.txt", " 2>/dev/null",
                            " >> o2; cat o2", " | cat", " | sort"])
        r = self.rng.randrange(10)
        if r == 0:
            return f"while read -r l; do echo \"<$l>\"; {inner()}; done{redir or ' < a.txt'}"
        if r == 1:
            return f"for i in a b; do {inner()}\ndone{redir}"
        if r == 2:
            cond = self._pick(["read -r l", '[ -n "$v" ]', "false", "! :"])
            return f"if {cond}; then {sub()}; else {sub()}; fi{redir}"
        if r == 3:
            return f"case $v in x|y) {sub()};; *) {sub()};; esac{redir}"
        if r == 4:
            return f"{{ {sub()}\n{sub()}; }}{redir}"
        if r == 5:
            return f"( {sub()}; {sub()} ){redir}; echo \"sub $?\""
        if r == 6:
            return f"printf '%s\\n' \"$v one\" two | while read -r l; do echo \"[$l]\"; " \
                   f"{inner()}; done"
        if r == 7:
            return f"g() {{ {sub()}; }}; g{redir}; echo \"g $?\""
        if r == 8:
            return f"(trap 'echo \"t $?\"' EXIT; {sub()})"
        return f"{sub()} {self._pick(['&&', '||', ';', '|'])} {sub()}"

    def wide_simple(self, loops: int, in_fn: bool) -> str:
        options = ['echo "v=$v i=$i n=$# st=$?"', "v=$v.", "i=$((i+1))", "false", "true",
                   "read -r l; echo \"r $? $l\"", "echo err >&2", "(exit 3)",
                   "printf '%s\\n' \"$@\"", "set -- \"$@\" z", ": ${v:=d}", "unset v",
                   "exec 3>&1; echo to3 >&3; exec 3>&-", "x=$(echo \"$v\" | tr x y); echo \"$x\"",
                   "[ $i -gt 1 ] && echo big", "test -n \"$1\"", "command true",
                   "{ cat <<E\nh $v $i\nE\n}", "getopts ab o -a; echo \"o=$o\"",
                   "trap 'echo tr' USR1; sh -c 'kill -USR1 $PPID'; :", "eval 'echo \"e $v\"'"]
        if loops:
            n = self.rng.randint(1, loops)
            options += [f"break {n}" if n > 1 else "break",
                        f"continue {n}" if n > 1 else "continue",
                        f"[ $i -gt 2 ] && break {n}"]
        if in_fn:
            options += [f"return {self.rng.randint(0, 3)}", "return", "shift; echo \"$#\""]
        return self._pick(options)
