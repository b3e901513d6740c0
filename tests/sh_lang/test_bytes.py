"""Bytes outside ASCII: in the C locale a byte is a character (`${#x}`, `?`, `%.2s`, IFS,
`read`, globbing, `printf "'x"`), in a UTF-8 locale a character is a UTF-8 sequence.
Compared as bytes with dash where it is installed (dash is always byte-wise)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DASH = shutil.which("dash")
SRC = str(Path(__file__).resolve().parents[2] / "src")


def run(argv: list[str], script: str, cwd: Path, locale: str) -> tuple[bytes, int]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": SRC,
           "LC_ALL": locale, "HOME": str(cwd)}
    p = subprocess.run([*argv, "-c", script], cwd=cwd, capture_output=True, env=env,
                       timeout=60, stdin=subprocess.DEVNULL)
    return p.stdout, p.returncode


OURS = [sys.executable, "-m", "fusevm.sh"]

#: (script, what it prints in the C locale)
C_LOCALE: list[tuple[str, bytes]] = [
    ("v='h\u00e9llo'; echo ${#v} $(( ${#v} + 1 ))", b"6 7\n"),
    # `?` is one byte, in ${v#?} and ${v%?} as in case and globbing
    ("v='a\u00e9'; printf '%s' \"${v%?}\" | od -An -tx1", b" 61 c3\n"),
    ("v='\u00e9'; case $v in ?) echo one;; ??) echo two;; esac", b"two\n"),
    ("v='\u65e5\u672c'; w=${v%\"${v#?}\"}; printf '%s' \"$w\" | od -An -tx1", b" e6\n"),
    # a byte that is no UTF-8 is a character like any other, and patterns match it
    ("x=$(printf 'a\\351b'); case $x in a?b) echo m;; esac; echo ${#x} \"${x%?}\" | od -An -tx1",
     b"m\n 33 20 61 e9 0a\n"),
    ("x=$(printf '\\200x'); printf '[%s]' \"${x#?}\" \"${x%?}\" \"${x##*?}\"; echo",
     b"[x][\x80][]\n"),
    ("x=$(printf '\\351'); case $x in *[!a-z]*) echo nonalpha;; esac", b"nonalpha\n"),
    # printf counts bytes in widths and precisions; %c is one byte; 'x is its first byte
    ("printf '%.2s|%5s|%c|%d\\n' '\u00e9a' '\u00e9' '\u00e9' \"'\u00e9\"",
     b"\xc3\xa9|   \xc3\xa9|\xc3|195\n"),
    # IFS may hold a byte of a sequence; read counts bytes too
    ("v='\u00df*'; IFS=$(printf '\\303'); set -- $v; echo $#", b"2\n"),
    ("printf '\u00fc \u00fc\\n' | { read -r x y; echo ${#x} ${#y}; }", b"2 2\n"),
    # the bracket classes of the C locale hold ASCII only
    ("for w in \u00dc \u00e9.c $(printf '\\351'); do case $w in [[:upper:]]*|[[:alpha:]]*|"
     "[[:print:]]*|[[:punct:]]*) echo class;; [!a-z]*) echo other;; esac; done",
     b"other\nother\nother\n"),
    # file names are bytes: `?` matches one of them
    (": > '\u00e9.f'; echo ?.f ??.f | od -An -c | tr -s ' '", b" ? . f 303 251 . f \\n\n"),
    # the environment and arguments are bytes as well
    ("export E='\u00e9'; sh -c 'echo ${#E}'", b"2\n"),
]


@pytest.mark.parametrize("case", C_LOCALE, ids=lambda c: c[0][:40])
def test_c_locale_counts_bytes(case: tuple[str, bytes], tmp_path: Path) -> None:
    script, expected = case
    assert run(OURS, script, tmp_path, "C") == (expected, 0)
    if DASH is not None:
        dash_dir = tmp_path / "dash"
        dash_dir.mkdir()
        assert run([DASH], script, dash_dir, "C") == (expected, 0), "dash differs"


def test_utf8_locale_counts_characters(tmp_path: Path) -> None:
    """In a UTF-8 locale (as bash in one) a character is a UTF-8 sequence."""
    script = ("v='h\u00e9llo'; echo ${#v}; case '\u00e9' in ?) echo one;; esac; "
              "printf '%.1s|%d\\n' '\u00e9a' \"'\u00e9\"; "
              "case \u00dc in [[:upper:]]) echo up;; esac")
    assert run(OURS, script, tmp_path, "C.UTF-8") == (
        "5\none\n\u00e9|233\nup\n".encode(), 0)


def test_utf8_locale_takes_a_stray_byte_as_a_character(tmp_path: Path) -> None:
    """A byte that is no UTF-8 is one character to patterns (as bash has it), never an
    internal error."""
    script = ("x=$(printf 'a\\351b'); case $x in a?b) echo m;; esac; "
              "printf '%s|' \"${x%?}\" \"${x#a?}\" ${#x}")
    assert run(OURS, script, tmp_path, "C.UTF-8") == (b"m\na\xe9|b|3|", 0)
