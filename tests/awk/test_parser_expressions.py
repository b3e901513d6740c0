"""Expression parsing: POSIX precedence and associativity, and awk's expression quirks."""

from __future__ import annotations

import pytest

from fusevm.lang.awk import ast
from fusevm.lang.awk.errors import AwkSyntaxError
from fusevm.lang.awk.parser import parse

from .support import parse_expr, show


def shown(source: str) -> str:
    return show(parse_expr(source))


# -- precedence, tightest first ------------------------------------------------------

PRECEDENCE = [
    # $ binds tighter than everything but grouping
    ("x = $i++", "(= x (post++ ($ i)))"),
    ("x = $i^2", "(= x (^ ($ i) 2))"),
    ("x = $NF-1", "(= x (- ($ NF) 1))"),
    ("x = $(NF-1)", "(= x ($ (g (- NF 1))))"),
    ("x = $-1", "(= x ($ (- 1)))"),
    ("x = $++i", "(= x ($ (++pre i)))"),
    ("x = $$0", "(= x ($ ($ 0)))"),
    ("x = $a[1]", "(= x ($ a[1]))"),
    # ++/-- tighter than ^
    ("x = ++i^2", "(= x (^ (++pre i) 2))"),
    ("x = i++^2", "(= x (^ (post++ i) 2))"),
    # ^ is right associative and tighter than unary minus
    ("x = 2^3^2", "(= x (^ 2 (^ 3 2)))"),
    ("x = -2^2", "(= x (- (^ 2 2)))"),
    ("x = 2^-1", "(= x (^ 2 (- 1)))"),
    ("x = 2^-3^2", "(= x (^ 2 (- (^ 3 2))))"),
    ("x = !a^2", "(= x (! (^ a 2)))"),
    # unary tighter than * / %
    ("x = -a * b", "(= x (* (- a) b))"),
    ("x = !a * b", "(= x (* (! a) b))"),
    ("x = a % b * c / d", "(= x (/ (* (% a b) c) d))"),
    # * tighter than +, both left associative
    ("x = a + b * c - d", "(= x (- (+ a (* b c)) d))"),
    # + tighter than concatenation
    ('x = a " " b + 1', '(= x (cat (cat a " ") (+ b 1)))'),
    # concatenation tighter than comparison
    ("x = a b < c", "(= x (< (cat a b) c))"),
    # comparison tighter than ~
    ("x = a < b ~ c", "(= x (~ (< a b) c))"),
    ("x = !a ~ b", "(= x (~ (! a) b))"),
    # ~ tighter than in
    ("x = a ~ b in arr", "(= x (in ((~ a b)) arr))"),
    # in tighter than &&, && tighter than ||
    ("x = k in a && b || c", "(= x (|| (&& (in (k) a) b) c))"),
    ("x = a || b && c", "(= x (|| a (&& b c)))"),
    # ?: right associative, below ||
    ("x = a || b ? c : d ? e : f", "(= x (? (|| a b) c (? d e f)))"),
    # assignment right associative, lowest
    ("a = b = c", "(= a (= b c))"),
    ("a += b -= 2", "(+= a (-= b 2))"),
    ("a = b ~ c", "(= a (~ b c))"),
    ("a = b ? c : d", "(= a (? b c d))"),
]


@pytest.mark.parametrize(("source", "tree"), PRECEDENCE, ids=[s for s, _ in PRECEDENCE])
def test_precedence(source: str, tree: str) -> None:
    assert shown(source) == tree


def test_power_spellings_are_normalised() -> None:
    assert shown("x = a ** b") == "(= x (^ a b))"
    assert shown("x **= 2") == "(^= x 2)"
    assert shown("x ^= 2") == "(^= x 2)"


def test_all_assignment_operators() -> None:
    for op in ("=", "+=", "-=", "*=", "/=", "%=", "^="):
        assert shown(f"a[1] {op} 2") == f"({op} a[1] 2)"
    assert shown("$3 = 1") == "(= ($ 3) 1)"


def test_comparisons_are_non_associative() -> None:
    with pytest.raises(AwkSyntaxError, match="non-associative"):
        parse_expr("x = a < b < c")
    assert shown("x = (a < b) < c") == "(= x (< (g (< a b)) c))"


# -- concatenation and unary minus -----------------------------------------------------


def test_minus_after_an_operand_is_binary() -> None:
    assert shown("x = a -1") == "(= x (- a 1))"
    assert shown('x = a " " -1') == '(= x (cat a (- " " 1)))'
    assert shown('x = -"3" " " +"4x"') == '(= x (cat (- "3") (+ " " "4x")))'


def test_not_can_start_a_concatenated_operand() -> None:
    assert shown("x = 1 !a") == "(= x (cat 1 (! a)))"


def test_concatenation_of_groups_and_calls() -> None:
    assert shown('x = (a)(b) f(1) substr("ab", 2) $1') == (
        '(= x (cat (cat (cat (cat (g a) (g b)) (call f 1)) (substr "ab" 2)) ($ 1)))'
    )


def test_postfix_increment_binds_to_the_left_operand() -> None:
    assert shown("x = a ++b") == "(= x (cat (post++ a) b))"


# -- regexes as values -------------------------------------------------------------------


def test_bare_regex_is_a_match_against_the_record() -> None:
    assert shown("x = /re/") == "(= x ($0~ /re/))"
    assert shown("x = !/re/") == "(= x (! ($0~ /re/)))"
    assert shown("x = /a/ + /b/") == "(= x (+ ($0~ /a/) ($0~ /b/)))"


def test_regex_on_the_right_of_match_operators_stays_a_regex() -> None:
    assert shown("x = $1 ~ /re/") == "(= x (~ ($ 1) /re/))"
    assert shown("x = $1 !~ /re/") == "(= x (!~ ($ 1) /re/))"
    assert shown('x = $1 ~ "a" "b"') == '(= x (~ ($ 1) (cat "a" "b")))'


def test_regex_arguments_of_builtins_stay_regexes() -> None:
    assert shown("n = split(s, a, /,/)") == "(= n (split s a /,/))"
    assert shown('sub(/a/, "b")') == '(sub /a/ "b")'
    assert shown('gsub(/a/, "b", s)') == '(gsub /a/ "b" s)'
    assert shown("x = match(s, /a+/)") == "(= x (match s /a+/))"


def test_regex_arguments_elsewhere_are_record_matches() -> None:
    assert shown("x = f(/re/)") == "(= x (call f ($0~ /re/)))"
    assert shown("x = index(/a/, s)") == "(= x (index ($0~ /a/) s))"


def test_division_token_in_operand_position_is_rescanned_as_regex() -> None:
    # `$` expects an operand; the ERE starts with `=`.
    assert shown("x = $/=1/") == "(= x ($ ($0~ /=1/)))"


def test_divide_assign_after_a_concatenated_operand_opens_a_regex() -> None:
    # gawk's and onetrue-awk's grammar: `c /= d/` cannot assign inside a concatenation.
    program = parse("{ print $/= b/ c /= d/ }")
    (item,) = program.items
    assert isinstance(item, ast.PatternAction) and item.body is not None
    (stmt,) = item.body.body
    assert isinstance(stmt, ast.Print)
    assert show(stmt.args[0]) == "(cat (cat ($ ($0~ /= b/)) c) ($0~ /= d/))"


# -- assignment after an lvalue inside a lower-precedence operand ---------------------------


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ('x = gsub(/./, "@") && $0 = $1', '(= x (&& (gsub /./ "@") (= ($ 0) ($ 1))))'),
        ("x = 0 || y += 2", "(= x (|| 0 (+= y 2)))"),
        ("x = a != a = 1", "(= x (!= a (= a 1)))"),
        ("x = s ~ s = 1", "(= x (~ s (= s 1)))"),
    ],
)
def test_assignment_binds_to_an_lvalue_opening_an_operand(source: str, tree: str) -> None:
    assert shown(source) == tree


def test_assignment_to_a_non_lvalue_is_an_error() -> None:
    with pytest.raises(AwkSyntaxError, match="non-lvalue"):
        parse_expr("(a) = 1")
    with pytest.raises(AwkSyntaxError, match="non-lvalue"):
        parse_expr("a b = 1")


# -- arrays, in, fields --------------------------------------------------------------------


def test_multi_dimensional_subscripts() -> None:
    assert shown("a[i, j+1] = 1") == "(= a[i,(+ j 1)] 1)"
    assert shown("a [1] = 2") == "(= a[1] 2)"


def test_parenthesised_list_in() -> None:
    assert shown("x = (i, j) in arr") == "(= x (in (i,j) arr))"
    assert shown("x = (i) in arr") == "(= x (in ((g i)) arr))"


def test_parenthesised_list_needs_in() -> None:
    with pytest.raises(AwkSyntaxError, match="'in'"):
        parse_expr("x = (i, j)")


def test_nested_field_postfix_belongs_to_the_inner_field() -> None:
    assert shown("x = $$a++") == "(= x ($ (post++ ($ a))))"
    assert shown("x = $$a++++") == "(= x (post++ ($ (post++ ($ a)))))"


def test_pre_increment_needs_an_lvalue() -> None:
    assert shown("++a[1]") == "(++pre a[1])"
    assert shown("--$2") == "(--pre ($ 2))"
    with pytest.raises(AwkSyntaxError, match="needs a variable"):
        parse_expr("++1")


# -- function calls ---------------------------------------------------------------------------


def test_user_call_requires_paren_right_after_the_name() -> None:
    program = parse("function f(a) { return a }\nBEGIN { x = f(1) }")
    begin = program.begins[0]
    (stmt,) = begin.body.body
    assert isinstance(stmt, ast.ExprStmt)
    assert show(stmt.expr) == "(= x (call f 1))"
    assert shown("x = g (1)") == "(= x (cat g (g 1)))"


def test_calls_with_no_arguments() -> None:
    assert shown("x = f()") == "(= x (call f))"
    assert shown("x = rand()") == "(= x (rand))"


def test_length_without_parentheses() -> None:
    assert shown("x = length") == "(= x (length))"
    assert shown("x = length()") == "(= x (length))"
    assert shown("x = length 1") == "(= x (cat (length) 1))"
    assert shown("x = length(s) length (t)") == "(= x (cat (length s) (length t)))"
    assert shown("x = length > 3") == "(= x (> (length) 3))"


def test_builtins_allow_a_space_before_the_paren() -> None:
    assert shown('x = substr ("abc", 2)') == '(= x (substr "abc" 2))'


@pytest.mark.parametrize(
    "source", ["x = substr(s)", "x = index(s)", "x = rand(1)", "x = atan2(1)", "x = split(s)"]
)
def test_builtin_arity_is_checked(source: str) -> None:
    with pytest.raises(AwkSyntaxError, match="wrong number of arguments"):
        parse_expr(source)


def test_builtin_other_than_length_needs_parentheses() -> None:
    with pytest.raises(AwkSyntaxError, match="expected '\\(' after substr"):
        parse_expr("x = substr")


# -- getline forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "tree"),
    [
        ("getline", "(getline-simple _ _)"),
        ("getline x", "(getline-simple x _)"),
        ("getline a[1]", "(getline-simple a[1] _)"),
        ("getline $2", "(getline-simple ($ 2) _)"),
        ('getline < "f"', '(getline-file _ "f")'),
        ('getline x < "f"', '(getline-file x "f")'),
        ('"cmd" | getline', '(getline-command _ "cmd")'),
        ('"cmd" | getline x', '(getline-command x "cmd")'),
        ('"cmd" | getline $0', '(getline-command ($ 0) "cmd")'),
    ],
)
def test_getline_forms(source: str, tree: str) -> None:
    assert shown(source) == tree


def test_getline_file_result_compares() -> None:
    assert shown('x = getline line < "f" > 0') == '(= x (> (getline-file line "f") 0))'
    assert shown('x = (getline line < "f") > 0') == '(= x (> (g (getline-file line "f")) 0))'


def test_getline_file_operand_is_additive_not_concatenated() -> None:
    assert shown('x = getline < "a" "b"') == '(= x (cat (getline-file _ "a") "b"))'
    assert shown('x = getline < "a" + 0') == '(= x (getline-file _ (+ "a" 0)))'


def test_command_getline_takes_the_whole_concatenation() -> None:
    assert shown('x = "echo " y | getline > 0') == (
        '(= x (> (getline-command _ (cat "echo " y)) 0))'
    )


def test_command_getline_result_is_an_arithmetic_operand() -> None:
    assert shown('x = "cmd" | getline y + 1') == '(= x (+ (getline-command y "cmd") 1))'


def test_getline_in_a_while_condition() -> None:
    stmt = parse_expr_stmt('while (("cmd" | getline line) > 0) n++')
    assert isinstance(stmt, ast.While)
    assert show(stmt.test) == '(> (g (getline-command line "cmd")) 0)'


def parse_expr_stmt(source: str) -> ast.Stmt:
    program = parse(f"BEGIN {{ {source} }}")
    (stmt,) = program.begins[0].body.body
    return stmt


# -- lines ----------------------------------------------------------------------------------------


def test_nodes_record_their_line() -> None:
    program = parse("BEGIN {\n  x = 1 +\\\n  2\n  y = 3\n}")
    first, second = program.begins[0].body.body
    assert isinstance(first, ast.ExprStmt) and isinstance(first.expr, ast.Assign)
    assert (first.line, first.expr.value.line) == (2, 2)
    binary = first.expr.value
    assert isinstance(binary, ast.Binary)
    assert binary.right.line == 3
    assert second.line == 4
