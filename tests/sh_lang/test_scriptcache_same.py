"""The script cache changes nothing but speed: each script here, long enough to be kept,
prints, fails and exits alike with the cache off, on its first run (which keeps its
commands) and on its second (which takes them), stderr and `$LINENO` included."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fusevm.lang.sh.scriptcache import MIN_BYTES

SRC = str(Path(__file__).resolve().parents[2] / "src")

#: Bodies that exercise what parsing a command depends on or leaves behind: here-documents
#: (their bodies are read after the command's line), line continuations, aliases, -v,
#: functions, traps, subshells and pipelines, `eval` and `.`, a late syntax error, exits.
BODIES = {
    "heredocs": 'cat <<EOF\nline $LINENO\nEOF\ncat <<-\tEND\n\ttabbed $((1 + 2))\n\tEND\n'
                "cat <<'Q'; echo after\n$not expanded\nQ\necho \"at $LINENO\"\n",
    "continuations": 'echo a \\\n  b \\\n  c\nx=1; y=\\\n2; echo "$x$y $LINENO"\n',
    "aliases": "alias say='echo said'\nsay one\nunalias say\nsay() { echo fn $1; }\nsay two\n",
    "verbose": "echo before\nset -v\necho shown\nset +v\necho after $LINENO\n",
    "functions": 'f() {\n  local_v=$1\n  echo "f $local_v $#"\n}\nf a b c\ng() { return 3; }\n'
                 'g; echo "g $?"\n',
    "traps": "trap 'echo exiting $?' EXIT\n(exit 4); echo sub $?\nfalse | true; echo pipe $?\n",
    "control": 'for i in 1 2 3; do\n  case $i in 2) continue;; esac\n  echo i$i\ndone\n'
               'n=0; while [ $n -lt 3 ]; do n=$((n + 1)); done; echo n$n\n',
    "eval": "eval 'echo ev $LINENO'\ncmd='echo built'\n$cmd\necho \"$(echo sub $LINENO)\"\n",
    "errors": 'echo ok\nset -u\necho "$undefined_var"\necho never\n',
    "syntax": "echo first\necho second\nif then fi\necho never\n",
    "exit": "echo one\nexit 7\necho never\n",
    "errexit": "set -e\necho one\n{ false; } || echo handled\nfalse\necho never\n",
}


def _padded(body: str) -> str:
    """`body` after enough plain commands (and a comment) to reach the cache's size."""
    lines = ["# " + "padding " * 12 + "\n"]
    i = 0
    while sum(map(len, lines)) < MIN_BYTES:
        lines.append(f"p{i}=$((p{i - 1 if i else 0} + {i})); : \"$p{i}\"\n")
        i += 1
    return "".join(lines) + body


def _run(script: Path, cache: str) -> tuple[bytes, bytes, int]:
    env = dict(os.environ, PYTHONPATH=SRC, FUSEVM_JIT_CACHE_DIR=cache)
    p = subprocess.run([sys.executable, "-m", "fusevm.sh", script.name], cwd=script.parent,
                       env=env, capture_output=True, timeout=120)
    return p.stdout, p.stderr, p.returncode


@pytest.mark.parametrize("name", sorted(BODIES))
def test_cached_runs_are_uncached_runs(name: str, tmp_path: Path) -> None:
    script = tmp_path / f"{name}.sh"
    script.write_text(_padded(BODIES[name]))
    off = _run(script, "off")
    cache = str(tmp_path / "cache")
    assert _run(script, cache) == off
    assert list((tmp_path / "cache").glob("*.script.fjit"))
    assert _run(script, cache) == off
