"""End-to-end awk programs run in-process: patterns, variables, fields, control flow.

Each case is (program, stdin, expected stdout). The same table is also checked against
`gawk --posix` when it is installed (except length(array), which --posix rejects), so
the expectations are gawk's.
"""

from __future__ import annotations

import pytest

from .awkrun import awk, gawk, needs_gawk

CASES: list[tuple[str, str, str]] = [
    # patterns, ranges, BEGIN/END
    ("BEGIN { print \"hi\" }", "", "hi\n"),
    ("/b/", "a\nb\nabc\n", "b\nabc\n"),
    ("NR==2, NR==3 { print NR }", "a\nb\nc\nd\n", "2\n3\n"),
    ("/s/,/e/", "x\ns\ny\ne\nz\ns\n", "s\ny\ne\ns\n"),
    ("/a/,/a/ { print NR }", "a\nb\na\n", "1\n3\n"),
    ("END { print NR, $0 }", "1\n2\nlast\n", "3 last\n"),
    ("BEGIN { x = 1 } END { print x }", "", "1\n"),
    ("NR % 2", "1\n2\n3\n", "1\n3\n"),
    ("!/x/", "x\ny\n", "y\n"),
    ("$1 > 2 && $2 != \"b\"", "3 a\n1 a\n3 b\n", "3 a\n"),
    ("$1 == 1 || $1 == 3", "1\n2\n3\n", "1\n3\n"),
    # fields
    ("{ print $2, NF }", "a b c\n  d   e  \n", "b 3\ne 2\n"),
    ("{ $2 = \"X\"; print; print NF }", "a b c\n", "a X c\n3\n"),
    ("{ $5 = \"e\"; print; print NF }", "a b\n", "a b   e\n5\n"),
    ("{ NF = 2; print }", "a b c d\n", "a b\n"),
    ("BEGIN { OFS = \"-\" } { $1 = $1; print }", "a b c\n", "a-b-c\n"),
    ("{ $0 = \"x y\"; print NF, $2 }", "a\n", "2 y\n"),
    ("{ print $NF; print $(NF-1) }", "a b c\n", "c\nb\n"),
    ("{ $3 = \"\"; print NF \":\" $0 }", "a b c\n", "3:a b \n"),
    ("{ NF++; $NF = \"z\"; print }", "a b\n", "a b z\n"),
    # FS variants
    ("BEGIN { FS = \":\" } { print $2 }", "a:b:c\n", "b\n"),
    ("BEGIN { FS = \"[0-9]+\" } { print $2 }", "a12b3c\n", "b\n"),
    ("BEGIN { FS = \"|\" } { print $2 }", "a|b|c\n", "b\n"),
    ("BEGIN { FS = \"\\t\" } { print $2 }", "a b\tc\n", "c\n"),
    ("{ FS = \":\"; print $1 }", "a:b c\nd:e f\n", "a:b\nd\n"),
    ("BEGIN { RS = \"\" } { print NR \": \" $1 \"/\" NF }", "\n\na b\nc\n\n\nd\n",
     "1: a/3\n2: d/1\n"),
    ("BEGIN { RS = \"\"; FS = \":\" } { print $2 }", "a:b\nc:d\n", "b\n"),
    ("BEGIN { RS = \";\" } { print NR, $0 }", "a;b;c", "1 a\n2 b\n3 c\n"),
    ("BEGIN { ORS = \"|\" } { print }", "a\nb\n", "a|b|"),
    # variables and values
    ("{ s += $1 } END { print s, s / NR }", "1\n2\n3\n4\n", "10 2.5\n"),
    ("BEGIN { print x + 0, \"[\" x \"]\", length(x) }", "", "0 [] 0\n"),
    ("BEGIN { if (x == 0 && x == \"\") print \"both\" }", "", "both\n"),
    ("{ print ($1 < $2) }", "10 9\n", "0\n"),
    ("{ print ($1 < $2) }", "abc 9\n", "0\n"),
    ("BEGIN { print (\"10\" < \"9\"), (10 < 9) }", "", "1 0\n"),
    ("{ x = $1; print (x == 1.0) }", "1e0\n", "1\n"),
    ("BEGIN { CONVFMT = \"%.2f\"; a = 3.14159; b = a \"\"; print b }", "", "3.14\n"),
    ("BEGIN { OFMT = \"%.2f\"; print 3.14159, 17 }", "", "3.14 17\n"),
    ("BEGIN { x = 0.1 + 0.2; print x }", "", "0.3\n"),
    ("BEGIN { print 1e6, 1e16, 123456789, -3 }", "", "1000000 10000000000000000 123456789 -3\n"),
    ("BEGIN { print 2^10, 2**3, 7 % 3, -7 % 3 }", "", "1024 8 1 -1\n"),
    ("BEGIN { x = 5; x += 2; x -= 1; x *= 3; x /= 2; x %= 5; x ^= 2; print x }", "", "16\n"),
    ("BEGIN { i = 5; print i++, i, ++i, i--, --i }", "", "5 6 7 7 5\n"),
    ("BEGIN { print 1 \" \" 2, 1 2 }", "", "1 2 12\n"),
    ("BEGIN { print -\"3x\", +\"4\", !\"\", !\"a\", !0, !\"0\" }", "", "-3 4 1 0 1 0\n"),
    ("BEGIN { print 1 == 1 ? \"y\" : \"n\" }", "", "y\n"),
    ("BEGIN { print length() }", "", "0\n"),
    ("{ print length }", "hello\n", "5\n"),
    # arrays
    ("{ c[$1]++ } END { print c[\"a\"], c[\"b\"] }", "a\nb\na\n", "2 1\n"),
    ("BEGIN { a[1,2] = 3; for (k in a) { split(k, p, SUBSEP); print p[1], p[2] } }", "",
     "1 2\n"),
    ("BEGIN { a[1] = 1; if ((1,2) in a) print \"no\"; if (1 in a) print \"yes\" }", "",
     "yes\n"),
    ("BEGIN { a[\"x\"]; delete a[\"x\"]; print length(a); a[1]; a[2]; delete a; print length(a) }",
     "", "0\n0\n"),
    ("BEGIN { if (a[\"k\"] == \"\") print (\"k\" in a) }", "", "1\n"),
    ("BEGIN { a[01] = \"x\"; print a[1], a[\"1\"], a[0.5 + 0.5] }", "", "x x x\n"),
    ("BEGIN { n = split(\"a:b:c\", arr, \":\"); print n, arr[1] arr[3] }", "", "3 ac\n"),
    ("BEGIN { SUBSEP = \":\"; a[\"x\", \"y\"] = 1; for (k in a) print k }", "", "x:y\n"),
    # control flow
    ("BEGIN { for (i = 0; i < 3; i++) s = s i; print s }", "", "012\n"),
    ("BEGIN { while (i < 5) { i++; if (i == 2) continue; if (i == 4) break; print i } }", "",
     "1\n3\n"),
    ("BEGIN { do { print \"once\" } while (0) }", "", "once\n"),
    ("{ if ($1 == \"skip\") next; print }", "a\nskip\nb\n", "a\nb\n"),
    ("{ print; exit } END { print \"end\" }", "a\nb\n", "a\nend\n"),
    ("BEGIN { exit } END { print \"end\" }", "", "end\n"),
    ("BEGIN { for (;;) { if (++n > 3) break }; print n }", "", "4\n"),
    ("BEGIN { if (1) ; else print \"no\"; print \"ok\" }", "", "ok\n"),
    # functions
    ("function f(n) { return n <= 1 ? 1 : n * f(n - 1) } BEGIN { print f(10) }", "",
     "3628800\n"),
    ("function fill(arr, n,  i) { for (i = 1; i <= n; i++) arr[i] = i * i }"
     " BEGIN { fill(sq, 4); print sq[3], length(sq), i }", "", "9 4 \n"),
    ("function inc(x) { x++; return x } BEGIN { y = 1; print inc(y), y }", "", "2 1\n"),
    ("function g(a) { a[\"k\"] = 1 } BEGIN { g(arr); print arr[\"k\"] }", "", "1\n"),
    ("function h(a, b) { return a + b } BEGIN { print h(1), h(1, 2) }", "", "1 3\n"),
    ("function r() { return } BEGIN { x = r(); print length(x) }", "", "0\n"),
    ("function fib(n) { return n < 2 ? n : fib(n-1) + fib(n-2) } BEGIN { print fib(15) }", "",
     "610\n"),
    ("function nxt() { next } NR == 1 { nxt() } { print }", "a\nb\n", "b\n"),
    ("function quit() { exit 0 } { quit() } END { print \"end\", NR }", "a\nb\n", "end 1\n"),
    # regexes
    ("$0 ~ /^[[:digit:]]+$/", "12\na1\n", "12\n"),
    ("{ re = \"^a.c$\"; print ($0 ~ re) }", "abc\nabd\n", "1\n0\n"),
    ("/a|b/ && !/c/", "a\nbc\nd\n", "a\n"),
    ("/[]x]/", "]\nx\ny\n", "]\nx\n"),
    ("/a{2}/", "aa\na\n", "aa\n"),
    ("/\\./", "a.b\nab\n", "a.b\n"),
    ("$2 !~ /^x/", "1 xa\n2 ya\n", "2 ya\n"),
    # fields as subscripts: a field's key is its text (a strnum's too), an assigned
    # number's its CONVFMT form, beyond NF the empty string
    ("{ c[$1]++; c[$(1 + 1)]++ } END { for (k in c) s = s \"<\" k \">\" c[k]; print s }",
     "1.0 x\n1.0 1.0\n", "<1.0>3<x>1\n"),
    ("{ $2 = 0.1 + 0.2; a[$2]; a[$9]; a[$0]; a[$1, $2]; n = 0; for (k in a) n++; "
     "print n, (\"0.3\" in a), (\"\" in a), ((\"q\" SUBSEP \"0.3\") in a) }",
     "q r\n", "4 1 1 1\n"),
]


@pytest.mark.parametrize(("program", "stdin", "expected"), CASES)
def test_program(program: str, stdin: str, expected: str) -> None:
    assert awk(program, stdin) == expected


@needs_gawk
@pytest.mark.process
@pytest.mark.parametrize(("program", "stdin", "expected"),
                         [c for c in CASES[::3] if "length(a)" not in c[0]])
def test_matches_gawk(program: str, stdin: str, expected: str) -> None:
    assert gawk(program, stdin) == expected
