"""Word expansions as pure functions: parameter modifiers, IFS splitting, braces and tildes.

Everything here computes on strings and lists; nothing spawns, opens or writes anything. The
only outside state read is the environment and the password database, by `tilde_expand`, and
both can be injected. The semantics are bash's (docs/shell.md#words), with the numeric
modifier codes of `codes.ParamMod`.
"""

from __future__ import annotations

import os
import pwd

from fusevm.errors import HostError, ResourceLimit
from fusevm.limits import DEFAULT_MAX_SIZE, check_size
from fusevm.ops.shell_codes import ParamMod
from fusevm.records import dataclass
from fusevm.values import Undef, to_int, to_str

# The regex engine loads with the first pattern modifier (`${v#pat}`, `${v/a/b}`), and
# `re` with the first brace range: `${v:-w}` and field splitting need neither.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from typing import Final, TypeAlias

    from fusevm.regex import Regex

__all__ = [
    "DEFAULT_IFS",
    "Expansion",
    "ParamValue",
    "brace_expand",
    "expand_param",
    "tilde_expand",
    "word_split",
]

#: What a variable holds, as the host sees it: a scalar, an indexed array, an associative
#: array, or None for "unset". Elements may be any VM value; they are read with `to_str`.
ParamValue: TypeAlias = object

#: Most elements a single brace or range expansion may produce before it is refused.
MAX_EXPANSION: Final = 1 << 22

DEFAULT_IFS: Final = " \t\n"


# -- Parameter expansion --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Expansion:
    """The outcome of one `${...}` expansion.

    Contract with the VM: if `error` is set the expansion failed (`${v:?msg}`, a bad
    indirection, a negative substring length); the VM must not push `value` but raise a
    shell error carrying `error` (a non-interactive shell exits with status 1). Otherwise, if
    `assign` is set, the VM stores it into the variable first (`${v:=w}`), then pushes
    `value`: a `str`, an `int` for `${#v}`, or a `list[str]` in array context.
    """

    value: str | int | list[str]
    assign: str | None = None
    error: str | None = None


def _special(name: str) -> bool:
    """Whether `${name:=w}` refuses to assign: a positional or special parameter
    (`[0-9]+|[@*#?$!-]`)."""
    return (name.isdigit() and name.isascii()) or (len(name) == 1 and name in "@*#?$!-")


def _text(v: object) -> str:
    return "" if v is None else v if type(v) is str else to_str(v)  # type: ignore[arg-type]


def _opt_int(v: object) -> int | None:
    """A slice bound: None when omitted (Undef or None), else its integer value."""
    if v is None or v is Undef:
        return None
    if type(v) is str:
        try:
            return int(v.strip())
        except ValueError:
            return 0
    return to_int(v)  # type: ignore[arg-type]


class _Var:
    """A variable's value normalised to either a scalar string or a list of strings."""

    __slots__ = ("array", "is_set", "keys", "scalar")

    def __init__(self, value: ParamValue, is_set: bool | None) -> None:
        if value is Undef:
            value = None
        self.is_set = value is not None if is_set is None else is_set
        self.array: list[str] | None = None
        self.keys: list[str] = []
        self.scalar = ""
        if not self.is_set:
            return
        if type(value) is list:
            self.array = [_text(e) for e in value]
            self.keys = [str(i) for i in range(len(self.array))]
        elif type(value) is dict:
            self.array = [_text(e) for e in value.values()]
            self.keys = [str(k) for k in value]
        else:
            self.scalar = _text(value)
            self.keys = ["0"]

    @property
    def text(self) -> str:
        return " ".join(self.array) if self.array is not None else self.scalar

    def null(self) -> bool:
        """Unset, or set to an empty value (an array counts as empty if it joins to "")."""
        return not self.is_set or self.text == ""

    def value(self) -> str | list[str]:
        return list(self.array) if self.array is not None else self.scalar

    def each(self, fn: Callable[[str], str]) -> str | list[str]:
        """Apply `fn` to the scalar, or to every element in array context."""
        if self.array is not None:
            return [fn(e) for e in self.array]
        return fn(self.scalar)


def _longest_prefix(s: str, rx: Regex) -> int | None:
    for end in range(len(s), -1, -1):
        if rx.fullmatch(s, 0, end):
            return end
    return None


def _shortest_prefix(s: str, rx: Regex) -> int | None:
    for end in range(len(s) + 1):
        if rx.fullmatch(s, 0, end):
            return end
    return None


def _longest_suffix(s: str, rx: Regex) -> int | None:
    for start in range(len(s) + 1):
        if rx.fullmatch(s, start):
            return start
    return None


def _shortest_suffix(s: str, rx: Regex) -> int | None:
    for start in range(len(s), -1, -1):
        if rx.fullmatch(s, start):
            return start
    return None


def _strip(s: str, pattern: str, code: int) -> str:
    from fusevm.shell.glob import compile_pattern
    from fusevm.shell.text import matchable
    rx = compile_pattern(pattern)
    t = matchable(s)  # (positions in `t` are positions in `s`)
    if code in (ParamMod.STRIP_SHORT, ParamMod.STRIP_LONG):
        finder = _shortest_prefix if code == ParamMod.STRIP_SHORT else _longest_prefix
        end = finder(t, rx)
        return s if end is None else s[end:]
    finder = _shortest_suffix if code == ParamMod.RSTRIP_SHORT else _longest_suffix
    start = finder(t, rx)
    return s if start is None else s[:start]


def _replacement(rep: str, matched: str, ampersand: bool) -> str:
    """Expand `&` to the matched text (bash 5.2 patsub_replacement); `\\&` is a literal &."""
    if not ampersand or ("&" not in rep and "\\" not in rep):
        return rep
    out: list[str] = []
    i, n = 0, len(rep)
    while i < n:
        c = rep[i]
        if c == "\\" and i + 1 < n and rep[i + 1] in "&\\":
            out.append(rep[i + 1])
            i += 2
            continue
        out.append(matched if c == "&" else c)
        i += 1
    return "".join(out)


def _subst(s: str, pattern: str, rep: str, every: bool, ampersand: bool) -> str:
    """`${v/p/r}` and `${v//p/r}`: replace the longest match at the leftmost position(s)."""
    anchor = pattern[:1] if pattern[:1] in ("#", "%") else ""
    pattern = pattern[len(anchor):]
    if not pattern and not anchor:
        return s
    from fusevm.shell.glob import compile_pattern
    from fusevm.shell.text import matchable
    rx = compile_pattern(pattern)
    t = matchable(s)  # (positions in `t` are positions in `s`)
    if anchor == "#":
        end = _longest_prefix(t, rx)
        return s if end is None else _replacement(rep, s[:end], ampersand) + s[end:]
    if anchor == "%":
        start = _longest_suffix(t, rx)
        return s if start is None else s[:start] + _replacement(rep, s[start:], ampersand)
    out: list[str] = []
    pos, n = 0, len(s)
    if n == 0:
        # Only an empty string can match here, and it is replaced once (bash).
        return _replacement(rep, "", ampersand) if rx.fullmatch("") else s
    size = 0  # `${v//?/long}` multiplies lengths: bounded like every other grown string
    while pos < n:
        m = rx.match(t, pos)
        if m is None:
            out.append(s[pos])
            pos += 1
            size += 1
            continue
        end = m[1]  # the longest match at `pos` (fusevm.regex is leftmost-longest)
        piece = _replacement(rep, s[pos:end], ampersand)
        size += len(piece)
        check_size(size, DEFAULT_MAX_SIZE, "a pattern substitution")
        out.append(piece)
        if end == pos:
            # An empty match: keep one character and move on, or it would match forever.
            out.append(s[pos])
            end += 1
        pos = end
        if not every:
            break
    out.append(s[pos:])
    return "".join(out)


def _case(s: str, upper: bool, first_only: bool) -> str:
    """Change case per character; a character whose mapping is not one character is kept
    (bash leaves `ß` alone rather than making it `SS`)."""

    def conv(c: str) -> str:
        m = c.upper() if upper else c.lower()
        return m if len(m) == 1 else c

    if first_only:
        return conv(s[0]) + s[1:] if s else s
    return "".join(conv(c) for c in s)


def _slice(var: _Var, name: str, off_v: object, len_v: object) -> Expansion:
    offset = _opt_int(off_v) or 0
    length = _opt_int(len_v)
    items: str | list[str] = var.array if var.array is not None else var.scalar
    size = len(items)
    if offset < 0:
        offset += size
    if not var.is_set or offset < 0 or offset > size:
        # An offset outside the value gives nothing, before the length is even checked.
        return Expansion([] if var.array is not None else "")
    if length is None:
        end = size
    elif length < 0:
        if var.array is not None:
            return Expansion("", error=f"{length}: substring expression < 0")
        end = size + length
        if end < offset:
            return Expansion("", error=f"{length}: substring expression < 0")
    else:
        end = offset + length
    part = items[offset:end]
    return Expansion(list(part) if isinstance(part, list) else part)


def expand_param(
    name: str,
    modifier: int,
    args: Sequence[object] = (),
    *,
    value: ParamValue = None,
    is_set: bool | None = None,
    lookup: Callable[[str], ParamValue] | None = None,
    ampersand: bool = True,
) -> Expansion:
    """Expand `${name<modifier>args}` given the variable's current value.

    Args:
        name: the parameter name as written (used in messages and for `${v:=w}` checks).
        modifier: a `ParamMod` code; unknown codes expand to the plain value.
        args: the modifier's operands in source order (`ParamMod.argc` of them); any VM
            value, read with `to_str` (SLICE reads integers; an omitted length is None or
            Undef).
        value: the variable's value: None/Undef when unset, a str (or any scalar VM value),
            a list for an indexed array in array context (`${a[@]...}`), or a dict for an
            associative array. Modifiers then apply per element and return a list.
        is_set: overrides the setness implied by `value` (None means "value is not None").
        lookup: reads another variable by name (same value convention); needed by
            `${!v}`.
        ampersand: expand `&` in a replacement to the match (bash 5.2's default).
    """
    var = _Var(value, is_set)
    a0 = _text(args[0]) if len(args) > 0 else ""
    a1 = _text(args[1]) if len(args) > 1 else ""
    code = modifier
    if code in (ParamMod.DEFAULT, ParamMod.DEFAULT_UNSET):
        missing = var.null() if code == ParamMod.DEFAULT else not var.is_set
        return Expansion(a0 if missing else var.value())
    if code in (ParamMod.ASSIGN, ParamMod.ASSIGN_UNSET):
        missing = var.null() if code == ParamMod.ASSIGN else not var.is_set
        if not missing:
            return Expansion(var.value())
        if _special(name):
            return Expansion("", error=f"${name}: cannot assign in this way")
        return Expansion(a0, assign=a0)
    if code in (ParamMod.ERROR, ParamMod.ERROR_UNSET):
        missing = var.null() if code == ParamMod.ERROR else not var.is_set
        if not missing:
            return Expansion(var.value())
        default = "parameter null or not set" if code == ParamMod.ERROR else "parameter not set"
        return Expansion("", error=f"{name}: {a0 or default}")
    if code in (ParamMod.ALTERNATE, ParamMod.ALTERNATE_UNSET):
        present = not var.null() if code == ParamMod.ALTERNATE else var.is_set
        return Expansion(a0 if present else "")
    if code == ParamMod.LENGTH:
        return Expansion(len(var.array) if var.array is not None else len(var.scalar))
    if code in (ParamMod.STRIP_SHORT, ParamMod.STRIP_LONG, ParamMod.RSTRIP_SHORT,
                ParamMod.RSTRIP_LONG):
        return Expansion(var.each(lambda s: _strip(s, a0, code)))
    if code in (ParamMod.SUBST_FIRST, ParamMod.SUBST_ALL):
        if not var.is_set:
            return Expansion("")
        every = code == ParamMod.SUBST_ALL
        return Expansion(var.each(lambda s: _subst(s, a0, a1, every, ampersand)))
    if code in (ParamMod.UPPER, ParamMod.LOWER, ParamMod.UPPER_FIRST, ParamMod.LOWER_FIRST):
        upper = code in (ParamMod.UPPER, ParamMod.UPPER_FIRST)
        first = code in (ParamMod.UPPER_FIRST, ParamMod.LOWER_FIRST)
        return Expansion(var.each(lambda s: _case(s, upper, first)))
    if code == ParamMod.INDIRECT:
        if not var.is_set:
            return Expansion("", error=f"{name}: invalid indirect expansion")
        target = var.array[0] if var.array else var.scalar
        if not target:
            return Expansion("", error=f"{target}: invalid variable name")
        if lookup is None:
            raise HostError(f"${{!{name}}} needs a variable lookup and none was given")
        return Expansion(_Var(lookup(target), None).value())
    if code == ParamMod.KEYS:
        return Expansion(list(var.keys) if var.is_set else [])
    if code == ParamMod.SLICE:
        return _slice(var, name, args[0] if args else None, args[1] if len(args) > 1 else None)
    return Expansion(var.value())


# -- Field splitting ------------------------------------------------------------------------


def word_split(s: str, ifs: str | None = None) -> list[str]:
    """Split `s` into fields by IFS, the POSIX way (docs/shell.md#words).

    IFS None means unset (" \\t\\n"). An empty IFS does not split (and "" gives no field).
    Space, tab and newline in IFS are IFS whitespace: runs of them separate fields and are
    trimmed at both ends. Every other IFS character separates by itself, absorbing adjacent
    IFS whitespace, so two in a row delimit an empty field; a trailing one adds no field.
    """
    if ifs is None:
        ifs = DEFAULT_IFS
    if not s:
        return []
    if not ifs:
        return [s]
    white = "".join(c for c in ifs if c in " \t\n")
    n = len(s)
    i = 0
    while i < n and s[i] in white:
        i += 1
    fields: list[str] = []
    while i < n:
        start = i
        while i < n and s[i] not in ifs:
            i += 1
        fields.append(s[start:i])
        # Consume one delimiter: IFS whitespace, at most one other IFS character, whitespace.
        while i < n and s[i] in white:
            i += 1
        if i < n and s[i] in ifs and s[i] not in white:
            i += 1
            while i < n and s[i] in white:
                i += 1
    return fields


# -- Tilde expansion ------------------------------------------------------------------------


def _home_of(user: str) -> str | None:
    try:
        return pwd.getpwnam(user).pw_dir
    except (KeyError, OSError, ValueError):
        return None


def _my_home() -> str | None:
    try:
        return pwd.getpwuid(os.getuid()).pw_dir
    except (KeyError, OSError):
        return None


def tilde_reads_passwd(s: str, env: Mapping[str, str] | None = None) -> bool:
    """True if expanding `s` would read the password database: `~user`, or `~` with HOME
    unset (`env` None: only `~user` counts). The sandbox gates that behind fs_read."""
    if not s.startswith("~"):
        return False
    prefix = s[1:].split("/", 1)[0]
    if prefix == "":
        return env is not None and env.get("HOME") is None
    return prefix not in ("+", "-")


def tilde_expand(
    s: str,
    *,
    env: Mapping[str, str] | None = None,
    home_of: Callable[[str], str | None] = _home_of,
) -> str:
    """Expand a leading `~`, `~user`, `~+` or `~-` (up to the first '/'); anything else,
    including an unknown user or an unset OLDPWD, is returned unchanged (bash)."""
    if not s.startswith("~"):
        return s
    if env is None:
        env = os.environ
    slash = s.find("/")
    prefix, rest = (s[1:], "") if slash < 0 else (s[1:slash], s[slash:])
    home: str | None
    if prefix == "":
        home = env.get("HOME")
        if home is None:
            home = _my_home()
    elif prefix == "+":
        home = env.get("PWD") or os.getcwd()
    elif prefix == "-":
        home = env.get("OLDPWD")
    else:
        home = home_of(prefix)
    return s if home is None else home + rest


# -- Brace expansion ------------------------------------------------------------------------
#
# A transcription of bash's braces.c algorithm in behaviour: the first '{' that has a matching
# '}' with a top-level ',' or '..' starts an expansion; `${` and quoted or escaped braces are
# skipped; an unmatched or invalid group stays literal; groups multiply left to right.

_WS: Final = " \t\n"


def _skip_subst(text: str, i: int) -> int:
    """Index just past the ')' closing the `$(`, `<(` or `>(` whose '(' is at text[i]."""
    depth = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def _gobble(text: str, i: int, satisfy: str) -> tuple[str, int]:
    """Scan from i for an unquoted `satisfy` at nesting level 0; ('', len) if none.

    When looking for '}', it only counts once a top-level ',' or '..' has been seen.
    """
    level = 0
    quoted = ""
    pass_next = False
    commas = 0 if satisfy == "}" else 1
    n = len(text)
    while i < n:
        c = text[i]
        if pass_next:
            pass_next = False
            i += 1
            continue
        if c == "\\" and quoted in ("", '"', "`"):
            pass_next = True
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "$" and nxt == "{" and quoted != "'":
            pass_next = True
            i += 1
            if not quoted:
                level += 1
            continue
        if quoted:
            if c == quoted:
                quoted = ""
            if quoted == '"' and c == "$" and nxt == "(":
                i = _skip_subst(text, i + 1)
                continue
            i += 1
            continue
        if c in "\"'`":
            quoted = c
            i += 1
            continue
        if c in "$<>" and nxt == "(":
            i = _skip_subst(text, i + 1)
            continue
        if c == satisfy and level == 0 and commas > 0:
            # An open brace with whitespace (or the string's end) on both sides is not one.
            if c == "{" and (i == 0 or text[i - 1] in _WS) and (nxt == "" or nxt in _WS + "}"):
                i += 1
                continue
            return c, i
        if c == "{":
            level += 1
        elif c == "}" and level:
            level -= 1
        elif satisfy == "}" and level == 0 and (
            c == "," or (text.startswith("..", i) and text[i + 2:i + 3] != "}")
        ):
            commas += 1
        i += 1
    return "", i


_INT_RE: Final = r"\s*([+-]?\d+)\s*"
_INT64: Final = (-(2**63), 2**63 - 1)


def _prefix_int(s: str) -> tuple[int | None, str]:
    """strtoimax: an optional sign and digits at the start of s; (None, s) if there are none."""
    import re
    m = re.match(r"\s*[+-]?\d+", s)
    if m is None:
        return None, s
    return int(m.group()), s[m.end():]


def _seqterm(text: str) -> list[str] | None:
    """Expand `m..n[..step]` (integers or single letters); None if it is not a valid range."""
    t = text.find("..")
    if t < 0:
        return None
    lhs, rhs = text[:t], text[t + 2:]
    if not lhs or not rhs:
        return None
    import re
    lhs_m = re.fullmatch(_INT_RE, lhs)
    lhs_kind = "int" if lhs_m else "char" if len(lhs) == 1 and lhs.isascii() and \
        lhs.isalpha() else "bad"
    rest: str
    rhs_val: int | None = None
    if rhs[0].isdigit() and rhs[0].isascii() or (
            rhs[0] in "+-" and len(rhs) > 1 and rhs[1].isdigit()):
        rhs_kind = "int"
        rhs_val, rest = _prefix_int(rhs)
        if rest and not rest.startswith("."):
            rhs_kind = "bad"
    elif rhs[0].isascii() and rhs[0].isalpha() and (len(rhs) == 1 or rhs[1] == "."):
        rhs_kind, rest = "char", rhs[1:]
    else:
        return None
    rhs_text = rhs[:len(rhs) - len(rest)]
    incr = 1
    if rhs_kind != "bad":
        if rest.startswith("..") and len(rest) > 2:
            step, after = _prefix_int(rest[2:])
            if step is None:
                rest = rest[2:]
            else:
                incr, rest = step, after
        if rest:
            rhs_kind = "bad"
    if lhs_kind != rhs_kind or lhs_kind == "bad":
        return None
    if lhs_kind == "char":
        return _mkseq(ord(lhs), ord(rhs_text), incr, "char", 0)
    assert lhs_m is not None and rhs_val is not None
    lo, hi = int(lhs_m.group(1)), rhs_val
    if not (_INT64[0] <= lo <= _INT64[1] and _INT64[0] <= hi <= _INT64[1]):
        return None
    # Zero padding: either endpoint written with a leading zero pads every item to the
    # wider endpoint as written (the sign counts toward the width).
    kind = "int"
    width = 0
    for written in (lhs, rhs_text):
        if (len(written) > 1 and written[0] == "0") or (
                len(written) > 2 and written[:2] == "-0"):
            width = max(width, len(written))
            kind = "zint"
    if kind == "zint":
        width = max(width, len(lhs), len(rhs_text))
    return _mkseq(lo, hi, incr, kind, width)


def _mkseq(start: int, end: int, incr: int, kind: str, width: int) -> list[str]:
    if incr == 0:
        incr = 1
    # The direction always comes from start -> end; the step's sign is ignored (bash).
    incr = -abs(incr) if start > end else abs(incr)
    count = abs(end - start) // abs(incr) + 1
    if count > MAX_EXPANSION:
        raise ResourceLimit(f"brace range of {count} items exceeds {MAX_EXPANSION}")
    values = range(start, end + (1 if incr > 0 else -1), incr)
    if kind == "char":
        return [chr(v) for v in values]
    if kind == "zint":
        return [f"{v:0{width}d}" for v in values]
    return [str(v) for v in values]


def _expand_amble(amble: str) -> list[str]:
    result: list[str] = []
    start = i = 0
    while True:
        c, i = _gobble(amble, i, ",")
        result.extend(brace_expand(amble[start:i]))
        if not c:
            return result
        i += 1
        start = i


def brace_expand(text: str) -> list[str]:
    """Brace-expand one word like bash: `a{b,c}d`, nesting, `{1..10..2}`, `{01..10}`,
    `{a..e}`; a group that is unbalanced or not a list or valid range stays literal."""
    n = len(text)
    i = 0
    c = ""
    while True:
        c, i = _gobble(text, i, "{")
        if not c:
            break
        if _gobble(text, i + 1, "}")[0]:
            break
        i += 1
    if c != "{":
        return [text]
    preamble = text[:i]
    start = i + 1
    c, i = _gobble(text, start, "}")
    if not c:
        return [text]
    amble = text[start:i]
    j = 0
    has_comma = False
    while j < len(amble):
        if amble[j] == "\\":
            j += 2
            continue
        if amble[j] == ",":
            has_comma = True
            break
        j += 1
    tack: list[str] | None
    if has_comma:
        tack = _expand_amble(amble)
    else:
        tack = _seqterm(amble)
        if tack is None:
            if i + 1 >= n:
                return [text]
            tack = [text[start - 1:i + 1]]
    result = [preamble + t for t in tack]
    postamble = text[i + 1:]
    if postamble:
        tails = brace_expand(postamble)
        if len(result) * len(tails) > MAX_EXPANSION:
            raise ResourceLimit(f"brace expansion of {text!r} is too large")
        result = [r + t for r in result for t in tails]
    return result
