"""The documentation's code runs: every ```python block of each page, in order, in one
namespace per page, with `--8<-- "path:section"` lines replaced by that section of the file
(the same inclusion `pymdownx.snippets` does when `make docs` builds the site)."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```python[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)
SNIPPET = re.compile(r'^--8<-- "([^":]+)(?::([\w-]+))?"$', re.MULTILINE)


def section(path: str, name: str | None) -> str:
    """The lines of `path` between `--8<-- [start:name]` and `--8<-- [end:name]`."""
    text = (ROOT / path).read_text()
    if name is None:
        return text
    lines = text.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip() == f"# --8<-- [start:{name}]"]
    ends = [i for i, line in enumerate(lines) if line.strip() == f"# --8<-- [end:{name}]"]
    assert len(starts) == 1 and len(ends) == 1 and starts[0] < ends[0], (
        f"{path} has no single section {name!r}")
    body = [line for line in lines[starts[0] + 1:ends[0]] if "--8<--" not in line]
    # A section inside a class body is indented: dedent it as the snippet renders it.
    indent = min((len(line) - len(line.lstrip()) for line in body if line.strip()), default=0)
    return "\n".join(line[indent:] for line in body) + "\n"


def blocks(page: Path) -> list[str]:
    out = []
    for m in FENCE.finditer(page.read_text()):
        out.append(SNIPPET.sub(lambda s: section(s.group(1), s.group(2)), m.group(1)))
    return out


PAGES = sorted(p for p in DOCS.glob("*.md") if "```python" in p.read_text())


def test_the_pages_with_code_are_found() -> None:
    assert {"tutorial.md", "values.md", "frontends.md"} <= {p.name for p in PAGES}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_block_runs(page: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    # A real module, so dataclasses and pickling find the page's classes.
    module = types.ModuleType(f"docs_{page.stem}")
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for i, code in enumerate(blocks(page)):
        try:
            exec(compile(code, f"{page.name} block {i + 1}", "exec"), module.__dict__)
        except Exception as e:
            raise AssertionError(f"{page.name}, python block {i + 1} failed: {e!r}\n"
                                 f"{code}") from e
