"""Tilde prefixes: the `~user` a word begins with, and those of an assignment's value,
split off as `ast.Tilde` parts for the compiler (XCU 2.6.1).
"""

from __future__ import annotations

from fusevm.lang.sh import ast

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Final


def leading_tilde(parts: list[ast.Part]) -> list[ast.Part]:
    """Split a leading unquoted `~user` off the first literal part."""
    if not parts or not isinstance(parts[0], ast.Lit):
        return parts
    found = _prefix(parts[0].text, False, len(parts) == 1)
    return parts if found is None else found + parts[1:]


def _prefix(text: str, split: bool, ends: bool) -> list[ast.Part] | None:
    """`text` (literal, of `Lit.split` `split`) as a tilde prefix and what follows it, when
    it starts with `~` and its prefix ends in it: at a '/', or at its end when `ends` (no
    other part follows); else None."""
    if not text.startswith("~"):
        return None
    slash = text.find("/")
    if slash < 0:
        return [ast.Tilde(text[1:])] if ends else None
    return [ast.Tilde(text[1:slash]), ast.Lit(text[slash:], split)]


def assign_tildes(parts: list[ast.Part]) -> list[ast.Part]:
    """Tilde prefixes at the start of an assignment value and after each unquoted ':',
    in the words of its `${name-word}` expansions too (as dash expands them)."""
    out: list[ast.Part] = []
    start = True  # (a prefix may begin here: the value's start, or right after a ':')
    last = len(parts) - 1
    for k, part in enumerate(parts):
        if isinstance(part, ast.Lit):
            out += _lit_tildes(part, start, k == last)
            start = part.text.endswith(":")
            continue
        if isinstance(part, ast.Param) and part.arg is not None and part.op in _WORD_OPS:
            arg = part.arg.parts
            if arg and isinstance(arg[0], ast.Tilde):
                # The lexer split the word's leading `~user` by a word's rules (the prefix
                # ends at '/' only): joined again, it is split by an assignment's.
                first, rest = ast.Lit("~" + arg[0].user), arg[1:]
                if rest and isinstance(rest[0], ast.Lit):
                    first, rest = ast.Lit(first.text + rest[0].text, rest[0].split), rest[1:]
                arg = [first, *rest]
            part.arg = ast.Word(assign_tildes(arg))
        out.append(part)
        start = False
    return out


#: The `${name<op>word}` forms whose word is a value (not a pattern): its tilde prefixes
#: are expanded in an assignment as the value's own are.
_WORD_OPS: Final = ("-", "=", "?", "+")


def _lit_tildes(part: ast.Lit, start: bool, last: bool) -> list[ast.Part]:
    """A literal part of an assignment value with its tilde prefixes split off (`start`:
    it begins where a prefix may; `last`: nothing follows it in the value)."""
    text = part.text
    if "~" not in text:
        return [part]
    out: list[ast.Part] = []
    segments = text.split(":")
    for i, seg in enumerate(segments):
        if i:
            out.append(ast.Lit(":", part.split))
        found = _prefix(seg, part.split, i < len(segments) - 1 or last) if i or start else None
        if found is not None:
            out += found
        elif seg:
            out.append(ast.Lit(seg, part.split))
    return out
