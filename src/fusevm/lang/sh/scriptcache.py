"""Commands kept as compiled for their next run: a long script's in the disk cache, an
`eval` text's in memory (`Remembered`).

A script is parsed and compiled one complete command at a time, as the shell reaches it
(`runtime.run_text`), and for a long script of plain commands that is most of its time
(about 120 us of a command's 200). For a script file of at least `MIN_BYTES` (and a file
of at least `MIN_DOT_BYTES` that `.` reads, such as a library of functions), the commands
a run compiles are kept in the disk cache (`fusevm.jit.cache`, tag `script`) under the
file's text, each with where it ends in the text and the line there; a later run of the
same text takes each command from there instead of parsing and compiling it again.

What parsing makes of a command depends on the text and on the aliases defined when it is
read, nothing else (the compiler is a function of the syntax tree). So a command is kept
or taken only while no alias is defined, and neither while `-v` (which prints each
command as it is read) or `-n` (read without running) is set. Kept commands are a prefix
of the script: from its first command on, each one starting where the one before ended.
Where a run stops taking them (an alias defined, an option set, the end of what was
kept), the parser goes on from that point of the text, so what runs is always what
parsing the text would have made. A run that compiled commands past those it found keeps
the longer list when the script's `run_text` returns or unwinds (`exit`, an error),
written by the process that started the script, not by a subshell's fork, and before
`exec` replaces the shell by a program (`save_open`).

The cache off (FUSEVM_JIT_CACHE_DIR=off) or a shorter script costs nothing of this: the
cache's modules load only for a script this long.

An `eval` text (a trap action, a file `.` reads that the disk cache does not keep) is kept
the same way, in this process's memory, under the text and the line it starts at: a loop
or a function evaluating the same text compiles it once.
"""

from __future__ import annotations

import os

from fusevm.loops import loop_facts

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Final

    from fusevm.chunk import Chunk
    from fusevm.lang.sh.parser import Parser

#: Scripts shorter than this (in characters) are compiled each run: a hundred-odd
#: commands cost a few milliseconds, about what reading and writing the entry costs.
MIN_BYTES: Final = 4096
#: Files `.` reads shorter than this are compiled each time. A sourced library is what a
#: test framework's every process reads again (dozens of small files each), and a
#: command taken from the cache costs about a quarter of compiling it (70 us of 300):
#: past about ten commands that pays for the cache's modules, loaded with the first.
MIN_DOT_BYTES: Final = 1024
#: Commands kept at most per script (a longer script keeps its first ones).
MAX_COMMANDS: Final = 20_000


class Script:
    """One run's view of a script's kept commands: those found (taken in order) and
    those compiled after them (kept on `save`)."""

    __slots__ = ("key", "found", "taken", "following", "pos", "new", "recording", "pid")

    def __init__(self, key: Any, found: list[tuple[Any, Chunk]]) -> None:
        self.key = key  # (the disk cache's key; `Remembered`'s: the text and its line)
        #: ((start, end, line at end), chunk) of each command found, in order.
        self.found = found
        self.taken = 0
        self.following = True  # still taking found commands
        self.pos = 0  # where the next command kept must start
        #: ((start, end, line), what `stored` keeps of its chunk) of each command compiled
        #: after those taken.
        self.new: list[tuple[Any, Any]] = []
        self.recording = True
        self.pid = os.getpid()

    def take(self, p: Parser, plain: bool) -> Chunk | None:
        """The kept command that starts where parser `p` stands (which then stands after
        it, as parsing it would have left it), or None: parse it. `plain`: nothing parsing
        depends on is set (no alias defined, for a script neither `-v` nor `-n`); when
        something is, neither this command nor any after it is taken or kept."""
        if not plain:
            self.following = False
            self.recording = False
            return None
        if not self.following:
            return None
        if self.taken >= len(self.found) or p.peeked is not None or p.pos != self.pos:
            self.following = False
            return None
        (start, end, line), chunk = self.found[self.taken]
        if start != p.pos or not p.pos < end <= len(p.text):
            self.following = False
            self.recording = False  # (an entry that does not fit this text)
            return None
        self.taken += 1
        p.pos = self.pos = end
        p.line = line
        return chunk

    def keep(self, start: int, p: Parser, chunk: Chunk) -> None:
        """Keep the command parsed from `start` to where `p` stands, compiled as `chunk`,
        when it follows the ones kept so far."""
        if not self.recording:
            return
        self.following = False  # (parsed: the found list, if any, ends before it)
        if (start != self.pos or p.pos <= start
                or self.taken + len(self.new) >= MAX_COMMANDS):
            self.recording = False
            return
        kept = self.stored(chunk)
        if kept is None:
            self.recording = False
            return
        self.new.append(((start, p.pos, p.line), kept))
        self.pos = p.pos

    def stored(self, chunk: Chunk) -> Any:
        """What is kept of a command compiled as `chunk`: the tree the disk cache writes
        (None: it has none)."""
        from fusevm.jit.cache.frontend import chunk_tree
        loop_facts(chunk)  # (its run works them out anyway: kept with it from here)
        return chunk_tree(chunk)

    def close(self) -> None:
        """The script's run has ended: `save`, and no longer open."""
        if self in _OPEN:
            _OPEN.remove(self)
        self.save()

    def save(self) -> None:
        """Write the kept commands if this run compiled any past those it found (in the
        process that opened the script)."""
        if not self.new or os.getpid() != self.pid:
            return
        from fusevm.jit.cache import STORE, frontend
        pairs: list[tuple[Any, Any]] = []
        for place, chunk in self.found[:self.taken]:
            tree = frontend.chunk_tree(chunk)
            if tree is None:  # (loaded from a tree: always one)
                return
            pairs.append((place, tree))
        pairs += self.new
        self.new = []
        frontend.store_chunk_list(STORE, self.key, "sh", pairs)


class Remembered(Script):
    """An `eval` text's commands as this process compiled them the last times it ran the
    text (`remembered`): taken and kept as a script's are, in memory. A text evaluated
    again and again (in a loop, a function, a trap action) is parsed and compiled once."""

    __slots__ = ()

    def stored(self, chunk: Chunk) -> Any:
        return chunk

    def save(self) -> None:
        if not self.new:
            return
        _REMEMBERED.pop(self.key, None)
        if len(_REMEMBERED) >= MEMORY_TEXTS:
            del _REMEMBERED[next(iter(_REMEMBERED))]  # (the least recently run)
        _REMEMBERED[self.key] = self.found[:self.taken] + self.new
        self.new = []


#: Texts `Remembered` keeps at most, and the longest it keeps (in characters): a script
#: that evaluates many different texts (`eval "$(cat file)"`) holds a bounded amount.
MEMORY_TEXTS: Final = 256
MEMORY_MAX_CHARS: Final = 16384
#: (text, its first line) -> ((start, end, line at end), chunk) of its commands, least
#: recently run first.
_REMEMBERED: dict[tuple[str, int], list[tuple[Any, Chunk]]] = {}


def remembered(text: str, line: int) -> Remembered | None:
    """The commands of `eval` text `text`, starting at line `line` (its commands' line
    numbers depend on it), as this process compiled them before; None for a text too long
    to keep."""
    if len(text) > MEMORY_MAX_CHARS:
        return None
    key = (text, line)
    found = _REMEMBERED.pop(key, None)
    if found is None:
        found = []
    else:
        _REMEMBERED[key] = found  # (now the most recently run)
    return Remembered(key, found)


#: The scripts this process is running with kept commands (`open_script` to `close`).
_OPEN: list[Script] = []


def save_open() -> None:
    """Write what every script this process runs has compiled so far (`exec` is about to
    replace the shell)."""
    for script in _OPEN:
        script.save()


class Opened:
    """`with Opened(text, kind) as script:` the kept commands of `text` (`open_script`,
    None when it keeps none), written and closed at the end, however it ends."""

    __slots__ = ("script",)

    def __init__(self, text: str, kind: str) -> None:
        self.script = open_script(text, kind)

    def __enter__(self) -> Script | None:
        return self.script

    def __exit__(self, *exc: object) -> None:
        if self.script is not None:
            self.script.close()


def open_script(text: str, kind: str = "script") -> Script | None:
    """The kept commands of script `text` when it is long enough and the cache is on,
    else None. `kind`: "script" for a script file the shell runs, "dot" for a file `.`
    reads (its commands compile as `eval`'s do)."""
    if len(text) < (MIN_DOT_BYTES if kind == "dot" else MIN_BYTES):
        return None
    from fusevm.jit.cache import STORE, frontend
    if not STORE.enabled():
        return None
    key = frontend.chunk_list_key("sh", (kind, text))
    found = frontend.load_chunk_list(STORE, key) or []
    if not all(type(place) is tuple and len(place) == 3
               and all(type(n) is int for n in place) for place, _ in found):
        found = []  # (not what `save` writes: compiled again, and written anew)
    script = Script(key, found)
    _OPEN.append(script)
    return script
