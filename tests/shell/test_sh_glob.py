"""Pathname expansion (POSIX + bash globstar) and the parallel `**` walk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from shellkit import needs_bash, run_bash, split_records

from fusevm.shell.glob import glob, has_magic
from fusevm.shell.posix import PosixHost
from fusevm.shell.walk import DirListing, walk_parallel, walk_sequential


@pytest.fixture
def tree(in_tmp: Path) -> Path:
    for path in ("a.txt", "b.txt", "B.txt", "c.rs", ".hidden", "d/e.txt", "d/f.rs",
                 "d/.g.txt", "d/sub/h.txt", "d/sub/deep/i.rs", ".hd/j.txt", "x[1].txt",
                 "star*.txt", "sp ace.txt", "src/a.rs", "src/b.rs", "src/c.rs", "src/d.rs",
                 "src/e.md"):
        p = in_tmp / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(path)
    (in_tmp / "emptydir").mkdir()
    (in_tmp / "linkdir").symlink_to(in_tmp / "d")
    (in_tmp / "dangling").symlink_to(in_tmp / "nowhere")
    return in_tmp


PATTERNS = [
    "*", "*.txt", "?.txt", "[ab].txt", "[!a].txt", "[^a].txt", "[[:upper:]].txt",
    "[[:lower:]]*.rs", "*/", "d/*", "d/*/*", "*/*.rs", ".*", "d/.*", "*.nomatch", "x[1].txt",
    "x[[]1].txt", "star[*].txt", "sp*", "d/sub/deep/*", "src/*.rs", "l*/e.txt", "dang*",
    "**/*.rs", "**", "d/**", "**/", "d/**/", "**/h.txt", "**/*", "d/**/*.txt", "**/.g.txt",
    "e*/", "*/sub/*",
]


def test_results_are_sorted_and_hidden_needs_a_dot(tree: Path) -> None:
    assert glob("*.txt") == ["B.txt", "a.txt", "b.txt", "sp ace.txt", "star*.txt", "x[1].txt"]
    assert ".hidden" not in glob("*")
    assert glob(".h*") == [".hd", ".hidden"]
    assert glob("d/.*") == ["d/.g.txt"]  # '.' and '..' are never matched
    assert glob("*", dotglob=True)[:2] == [".hd", ".hidden"]


def test_dots_match_the_dot_entries_with_a_leading_dot(tree: Path) -> None:
    assert glob("d/.*", dots=True) == ["d/.", "d/..", "d/.g.txt"]
    assert glob(".?", dots=True) == [".."]
    assert glob(".*/", dots=True) == ["../", "./", ".hd/"]
    assert glob("*/.*", dots=True)[:2] == ["d/.", "d/.."]
    # a wildcard, an explicit bracket or dotglob alone does not produce them
    assert glob("*", dotglob=True, dots=True)[:2] == [".hd", ".hidden"]
    assert glob("[.]*", dots=True) == []
    assert glob("emptydir/.*", dots=True) == ["emptydir/.", "emptydir/.."]


def test_no_match_is_empty_and_literals_need_to_exist(tree: Path) -> None:
    assert glob("zzz_no_match_*.rs") == []
    assert glob("/this/path/should/not/exist/*.xyz123") == []
    assert glob("") == []
    assert glob("a.txt") == ["a.txt"]
    assert glob("missing.txt") == []
    assert glob("src/[invalid") == []


def test_brackets_escapes_and_trailing_slash(tree: Path) -> None:
    assert glob("[ab].txt") == ["a.txt", "b.txt"]
    assert glob("[!ab].txt") == ["B.txt"]
    assert glob("x\\[1\\].txt") == ["x[1].txt"]
    assert glob("star\\*.txt") == ["star*.txt"]
    assert glob("*/") == ["d/", "emptydir/", "linkdir/", "src/"]
    assert glob("/" + str(tree).lstrip("/") + "/src/a.*") == [str(tree / "src/a.rs")]


def test_double_star_is_recursive_only_when_asked(tree: Path) -> None:
    assert glob("**/*.rs", recursive=True) == [
        "c.rs", "d/f.rs", "d/sub/deep/i.rs", "src/a.rs", "src/b.rs", "src/c.rs", "src/d.rs"]
    # Without globstar, ** is *: one level only.
    assert glob("**/*.rs") == ["d/f.rs", "linkdir/f.rs", "src/a.rs", "src/b.rs", "src/c.rs",
                               "src/d.rs"]
    # Symlinked directories are not followed by **, hidden ones are not entered.
    assert not any(p.startswith(("linkdir/", ".hd/")) for p in glob("**", recursive=True))
    assert glob("d/**", recursive=True)[0] == "d/"


@needs_bash
def test_matches_bash_pathname_expansion(tree: Path) -> None:
    script = ('shopt -s globstar nullglob; for p in "$@"; do for f in $p; do '
              'printf "%s\\x1f" "$f"; done; printf "\\x1e"; done')
    env_script = "export LC_ALL=C; " + script
    out = run_bash(env_script, *PATTERNS, cwd=tree).stdout
    expected = [sorted(rec.split("\x1f")[:-1]) for rec in split_records(out)]
    assert len(expected) == len(PATTERNS)
    for pattern, want in zip(PATTERNS, expected, strict=True):
        got = glob(pattern, recursive=True)
        assert got == sorted(got)
        assert got == want, pattern


def test_parallel_walk_equals_sequential(tree: Path) -> None:
    def flat(listings: list[DirListing]) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
        return sorted((lst.prefix, tuple(sorted(lst.names)), tuple(sorted(lst.subdirs)))
                      for lst in listings)

    assert flat(walk_parallel("")) == flat(walk_sequential(""))
    assert flat(walk_parallel("", dotglob=True)) == flat(walk_sequential("", dotglob=True))
    assert flat(walk_parallel("d/", max_workers=1)) == flat(walk_sequential("d/"))
    assert walk_parallel("nonexistent/") == []
    for pattern in PATTERNS:
        assert glob(pattern, True) == glob(pattern, True, parallel=False), pattern


def test_wide_tree_uses_many_tasks(in_tmp: Path) -> None:
    for i in range(60):
        d = in_tmp / f"dir{i:02d}" / "inner"
        d.mkdir(parents=True)
        for j in range(12):
            (d / f"f{j}.dat").write_text("")
    got = glob("**/*.dat", True, max_workers=8)
    assert len(got) == 720 and got == sorted(got)
    assert got == glob("**/*.dat", True, parallel=False)


def test_unreadable_directories_are_skipped(in_tmp: Path) -> None:
    (in_tmp / "open" / "x").mkdir(parents=True)
    (in_tmp / "open" / "x" / "f.txt").write_text("")
    closed = in_tmp / "closed"
    closed.mkdir()
    (closed / "g.txt").write_text("")
    closed.chmod(0)
    try:
        got = glob("**/*.txt", True)
        assert "open/x/f.txt" in got
        if os.geteuid() != 0:
            assert "closed/g.txt" not in got
    finally:
        closed.chmod(0o755)


def test_has_magic() -> None:
    assert has_magic("*.c") and has_magic("a?") and has_magic("[ab]")
    assert not has_magic("plain") and not has_magic("esc\\*aped")


def test_host_glob_delegates(tree: Path) -> None:
    host = PosixHost()
    assert host.glob("src/*.rs", False) == ["src/a.rs", "src/b.rs", "src/c.rs", "src/d.rs"]
    assert host.glob("**/i.rs", True) == ["d/sub/deep/i.rs"]
    host.close()
