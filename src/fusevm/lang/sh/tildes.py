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
    if not parts or not isinstance(parts[0], ast.Lit) or not parts[0].text.startswith("~"):
        return parts
    text = parts[0].text
    slash = text.find("/")
    if slash < 0:
        if len(parts) > 1:
            return parts
        user, rest = text[1:], ""
    else:
        user, rest = text[1:slash], text[slash:]
    out: list[ast.Part] = [ast.Tilde(user)]
    if rest:
        out.append(ast.Lit(rest))
    return out + parts[1:]


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
            if arg and isinstance(arg[0], ast.Tilde):  # (as `leading_tilde` split it: join again)
                text = "~" + arg[0].user
                split = False
                if len(arg) > 1 and isinstance(arg[1], ast.Lit):
                    text += arg[1].text
                    split = arg[1].split
                    arg = arg[1:]
                arg = [ast.Lit(text, split), *arg[1:]]
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
        final = i == len(segments) - 1
        if seg.startswith("~") and (i or start):
            slash = seg.find("/")
            user = seg[1:] if slash < 0 else seg[1:slash]
            if slash >= 0 or not final or last:
                out.append(ast.Tilde(user))
                if slash >= 0:
                    out.append(ast.Lit(seg[slash:], part.split))
                continue
        if seg:
            out.append(ast.Lit(seg, part.split))
    return out
