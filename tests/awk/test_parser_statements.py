"""Statement and program parsing: items, control flow, print redirection, terminators."""

from __future__ import annotations

import pytest

from fusevm.lang.awk import ast
from fusevm.lang.awk.parser import parse

from .support import parse_stmt, show

# -- program items ---------------------------------------------------------------------


def test_item_kinds_in_source_order() -> None:
    program = parse(
        "BEGIN { a = 1 }\n"
        "/x/\n"
        "NR == 1, NR == 3 { print }\n"
        "{ print 2 }\n"
        "function f(p, q) { return p }\n"
        "END { print 3 }\n"
        "BEGIN { b = 2 }\n"
    )
    assert [type(i).__name__ for i in program.items] == [
        "BeginAction", "PatternAction", "RangePattern", "PatternAction", "Function",
        "EndAction", "BeginAction",
    ]  # fmt: skip
    assert len(program.begins) == 2 and len(program.ends) == 1
    assert len(program.rules) == 3
    assert program.functions["f"].params == ("p", "q")


def test_pattern_without_action_has_no_body() -> None:
    (item,) = parse("/x/").items
    assert isinstance(item, ast.PatternAction)
    assert item.body is None
    assert show(item.pattern) == "($0~ /x/)"


def test_action_without_pattern() -> None:
    (item,) = parse("{ print }").items
    assert isinstance(item, ast.PatternAction) and item.pattern is None


def test_pattern_then_newline_then_brace_is_two_items() -> None:
    program = parse("NR == 1\n{ print }")
    assert len(program.items) == 2
    first = program.items[0]
    assert isinstance(first, ast.PatternAction) and first.body is None


def test_range_pattern_allows_newline_after_comma() -> None:
    (item,) = parse("/a/,\n/b/ { print }").items
    assert isinstance(item, ast.RangePattern)
    assert (show(item.start), show(item.stop)) == ("($0~ /a/)", "($0~ /b/)")


def test_items_on_one_line_and_separated_by_semicolons() -> None:
    assert len(parse("BEGIN { print 1 } END { print 2 }").items) == 2
    assert len(parse("BEGIN { print 1 } ; ; END { print 2 }").items) == 2
    assert len(parse("NR==1; NR==2").items) == 2
    assert len(parse("\n\n;BEGIN{}\n\n").items) == 1


def test_empty_program() -> None:
    assert parse("").items == ()
    assert parse("# only a comment\n").items == ()


def test_function_definitions() -> None:
    program = parse("func f(a,\n b) \n { return a + b }\nfunction g() { return }")
    f = program.functions["f"]
    assert f.params == ("a", "b")
    (ret,) = f.body.body
    assert isinstance(ret, ast.Return) and show(ret.value) == "(+ a b)"
    (bare,) = program.functions["g"].body.body
    assert isinstance(bare, ast.Return) and bare.value is None


def test_function_name_may_be_followed_by_space_in_definition() -> None:
    assert "f" in parse("function f (a) { return a }").functions


def test_parameter_may_shadow_a_function_name() -> None:
    # onetrue-awk accepts this (gawk does not); the parameter wins inside the body
    parse("function foo(x) { return x }\nfunction bar(foo) { return foo }")


# -- simple statements ---------------------------------------------------------------------


def test_print_forms() -> None:
    stmt = parse_stmt("print")
    assert isinstance(stmt, ast.Print) and stmt.args == () and stmt.redirect is None
    stmt = parse_stmt("print a, b c")
    assert isinstance(stmt, ast.Print)
    assert [show(a) for a in stmt.args] == ["a", "(cat b c)"]


@pytest.mark.parametrize(
    ("source", "args", "mode", "target"),
    [
        ('print > "f"', [], ">", '"f"'),
        ('print a, b > "f"', ["a", "b"], ">", '"f"'),
        ('print a >> "f"', ["a"], ">>", '"f"'),
        ('print a | "sort"', ["a"], "|", '"sort"'),
        ('print a > "out" ".txt"', ["a"], ">", '(cat "out" ".txt")'),
        ('print (a, b) > "f"', ["a", "b"], ">", '"f"'),
        ('print (a)(b) > "f"', ["(cat (g a) (g b))"], ">", '"f"'),
        ('print (a > b) > "f"', ["(g (> a b))"], ">", '"f"'),
        ('print a[b > c] > "f"', ["a[(> b c)]"], ">", '"f"'),
        ('print f(a > b) > "f"', ["(call f (> a b))"], ">", '"f"'),
        ('printf "%d\\n", x > "/dev/stderr"', ['"%d\n"', "x"], ">", '"/dev/stderr"'),
        ('printf("%s", a) | "cat"', ['"%s"', "a"], "|", '"cat"'),
    ],
)
def test_print_redirection(source: str, args: list[str], mode: str, target: str) -> None:
    stmt = parse_stmt(source)
    assert isinstance(stmt, ast.Print | ast.Printf)
    assert [show(a) for a in stmt.args] == args
    assert stmt.redirect is not None
    assert (stmt.redirect.mode, show(stmt.redirect.target)) == (mode, target)


def test_other_comparisons_inside_print_are_comparisons() -> None:
    stmt = parse_stmt("print a >= b, c < d")
    assert isinstance(stmt, ast.Print)
    assert [show(a) for a in stmt.args] == ["(>= a b)", "(< c d)"]


def test_print_parenthesised_start_continues_as_an_expression() -> None:
    stmt = parse_stmt('print ($1 == 1) ? "yes" : "no"')
    assert isinstance(stmt, ast.Print)
    assert show(stmt.args[0]) == '(? (g (== ($ 1) 1)) "yes" "no")'
    stmt = parse_stmt("print (1)+2, 3")
    assert isinstance(stmt, ast.Print)
    assert [show(a) for a in stmt.args] == ["(+ (g 1) 2)", "3"]


def test_print_parenthesised_list_followed_by_in() -> None:
    stmt = parse_stmt("print (a, b) in arr")
    assert isinstance(stmt, ast.Print)
    assert [show(a) for a in stmt.args] == ["(in (a,b) arr)"]


def test_printf_without_arguments_is_accepted() -> None:
    stmt = parse_stmt("printf")
    assert isinstance(stmt, ast.Printf) and stmt.args == ()


def test_delete_element_and_whole_array() -> None:
    stmt = parse_stmt("delete a[1, 2]")
    assert isinstance(stmt, ast.Delete)
    assert (stmt.name, [show(s) for s in stmt.subscripts or ()]) == ("a", ["1", "2"])
    stmt = parse_stmt("delete a")
    assert isinstance(stmt, ast.Delete) and stmt.subscripts is None


def test_exit_with_and_without_status() -> None:
    stmt = parse_stmt("exit")
    assert isinstance(stmt, ast.Exit) and stmt.status is None
    stmt = parse_stmt("exit 3")
    assert isinstance(stmt, ast.Exit) and show(stmt.status) == "3"


def test_next_and_nextfile_in_rules() -> None:
    (item,) = parse("{ next; nextfile }").items
    assert isinstance(item, ast.PatternAction) and item.body is not None
    assert [type(s) for s in item.body.body] == [ast.Next, ast.NextFile]


# -- control flow ----------------------------------------------------------------------------


def test_if_else_across_lines_and_semicolons() -> None:
    for source in (
        "if (x) print 1; else print 2",
        "if (x)\n print 1\n else\n print 2",
        "if (x) { print 1 }\n\n else { print 2 }",
        "if (x) print 1\n else print 2",
    ):
        stmt = parse_stmt(source)
        assert isinstance(stmt, ast.If), source
        assert stmt.otherwise is not None, source


def test_else_binds_to_the_nearest_if() -> None:
    stmt = parse_stmt("if (a) if (b) x = 1; else x = 2")
    assert isinstance(stmt, ast.If) and stmt.otherwise is None
    assert isinstance(stmt.then, ast.If) and stmt.then.otherwise is not None


def test_if_without_else_followed_by_statements() -> None:
    program = parse("BEGIN { if (a) x = 1\n y = 2 }")
    first, second = program.begins[0].body.body
    assert isinstance(first, ast.If) and first.otherwise is None
    assert isinstance(second, ast.ExprStmt)


def test_empty_statement_bodies() -> None:
    stmt = parse_stmt("while (x--) ;")
    assert isinstance(stmt, ast.While) and stmt.body == ast.Block(1, ())
    stmt = parse_stmt("for (;;) ;")
    assert isinstance(stmt, ast.For) and isinstance(stmt.body, ast.Block)
    stmt = parse_stmt("if (x) ; else y = 1")
    assert isinstance(stmt, ast.If) and stmt.then == ast.Block(1, ())


def test_for_loop_parts() -> None:
    stmt = parse_stmt("for (i = 0; i < n; i++) s += i")
    assert isinstance(stmt, ast.For)
    assert isinstance(stmt.init, ast.ExprStmt) and show(stmt.init.expr) == "(= i 0)"
    assert show(stmt.test) == "(< i n)"
    assert isinstance(stmt.step, ast.ExprStmt) and show(stmt.step.expr) == "(post++ i)"
    stmt = parse_stmt("for (;;) break")
    assert isinstance(stmt, ast.For)
    assert (stmt.init, stmt.test, stmt.step) == (None, None, None)
    assert isinstance(stmt.body, ast.Break)


def test_for_header_allows_newlines_after_semicolons() -> None:
    stmt = parse_stmt("for (i = 0;\n i < 3;\n i++)\n x++")
    assert isinstance(stmt, ast.For)


def test_for_in() -> None:
    stmt = parse_stmt("for (k in arr) delete arr[k]")
    assert isinstance(stmt, ast.ForIn)
    assert (stmt.var, stmt.array) == ("k", "arr")
    assert isinstance(stmt.body, ast.Delete)


def test_for_with_in_expression_is_not_for_in() -> None:
    stmt = parse_stmt("for ((k in a) && i; i < 1; i++) ;")
    assert isinstance(stmt, ast.For)


def test_do_while() -> None:
    for source in ("do x++; while (x < 3)", "do {\n x++\n}\nwhile (x < 3)", "do\nx++\nwhile (x)"):
        stmt = parse_stmt(source)
        assert isinstance(stmt, ast.Do), source
        assert isinstance(stmt.test, ast.Compare | ast.Var)


def test_break_and_continue_inside_loops() -> None:
    stmt = parse_stmt("while (1) { if (x) break; else continue }")
    assert isinstance(stmt, ast.While)


def test_nested_blocks_and_semicolons() -> None:
    stmt = parse_stmt("{ ; { x = 1 ; } ; }")
    assert isinstance(stmt, ast.Block)
    (inner,) = stmt.body
    assert isinstance(inner, ast.Block) and len(inner.body) == 1


def test_statements_need_terminators() -> None:
    program = parse("BEGIN { x = 1; y = 2\n z = 3 }")
    assert len(program.begins[0].body.body) == 3
