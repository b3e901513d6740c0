"""No file cites a document the repository lacks.

Documents are cited by path (`docs/values.md`, `benchmarks/README.md`) and, for a part of
one, by anchor (`docs/shell.md#traps`); section numbers belong to documents that do not
ship here. The design documents the project was written from, the seed document and the
Rust implementation are not part of the repository, so nothing may point at them.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCANNED = ("src", "tests", "benchmarks", "examples")
SUFFIXES = {".py", ".md", ".fasm", ".tiny", ".toml"}
# A document name not inside a string literal (test data names files like "c.md").
CITATION = re.compile(r"(?<![\w/.\"'-])((?:[\w.-]+/)*[\w.-]+\.md)(#[\w-]+)?\b"
                      r"(,? (?:section |§|Appendix )?\d)?")
FORBIDDEN = re.compile(
    r"spec/|\.\./shared|seed's|seed document|Rust reference|fusevm-rs"
    r"|\b[Tt]he reference(?:'s)?\b(?! (?:awks?|chunk|listing|`gawk))")


def _files() -> list[Path]:
    found = [ROOT / "README.md", ROOT / "pyproject.toml", ROOT / "mkdocs.yml"]
    found += sorted((ROOT / "docs").glob("*.md"))
    for top in SCANNED:
        found += sorted(p for p in (ROOT / top).rglob("*")
                        if p.suffix in SUFFIXES and "__pycache__" not in p.parts)
    me = Path(__file__).resolve()
    return [p for p in dict.fromkeys(found) if p.resolve() != me]


def _anchors(doc: Path) -> set[str]:
    """Heading ids of a Markdown page: explicit `{#id}`, else Python-Markdown's slug."""
    ids = set()
    for line in doc.read_text().splitlines():
        if not line.startswith("#"):
            continue
        explicit = re.search(r"\{#([\w-]+)\}\s*$", line)
        if explicit:
            ids.add(explicit.group(1))
            continue
        title = line.lstrip("#").strip().lower()
        kept = "".join(c for c in title if c.isalnum() or c in " -_")
        ids.add("-".join(kept.split()))
    return ids


def _resolve(name: str, cited_from: Path) -> Path | None:
    for base in (ROOT, ROOT / "docs", cited_from.parent):
        if (base / name).is_file():
            return base / name
    return None


def problems() -> list[str]:
    found = []
    for path in _files():
        rel = path.relative_to(ROOT)
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            for m in CITATION.finditer(line):
                name, anchor, section = m.groups()
                doc = _resolve(name, path)
                if doc is None:
                    found.append(f"{rel}:{n}: cites {name}, which the repository lacks")
                elif section:
                    found.append(f"{rel}:{n}: cites {name} by section number; use an anchor")
                elif anchor and anchor[1:] not in _anchors(doc):
                    found.append(f"{rel}:{n}: {name} has no heading {anchor}")
            for m in FORBIDDEN.finditer(line):
                found.append(f"{rel}:{n}: points outside the repository: {m.group(0)!r}")
    return found


def test_every_cited_document_ships_with_the_repository() -> None:
    assert problems() == []


def test_the_checker_catches_each_kind_of_bad_citation(tmp_path: Path) -> None:
    doc = ROOT / "docs" / "shell.md"
    assert "traps" in _anchors(doc) and "file-tests" in _anchors(doc)
    assert _resolve("docs/values.md", doc) and _resolve("values.md", doc)
    assert _resolve("jit.md", doc) is None
    bad = ["see jit.md", "(ops.md 4.5)", "in spec/ops.md", "the seed's loops",
           "unlike the reference's", "docs/shell.md#no-such-part"]
    caught = []
    for text in bad:
        for m in CITATION.finditer(text):
            name, anchor, section = m.groups()
            target = _resolve(name, doc)
            if target is None or section or (anchor and anchor[1:] not in _anchors(target)):
                caught.append(text)
        if FORBIDDEN.search(text):
            caught.append(text)
    assert sorted(set(caught)) == sorted(bad)
