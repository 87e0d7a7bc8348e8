"""Every document reference in code, SQL, YAML and docs resolves to a file of the repository, and
every `§N` to a numbered section of docs/methodology.md (which published rule strings cite too)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCANNED_DIRS = ("dagster_project", "dbt", "sources", "expectations", "tests", "docs")
SCANNED_FILES = ("README.md", "Makefile", "pyproject.toml")
SUFFIXES = {".py", ".sql", ".yml", ".yaml", ".md", ".json", ".toml", ".csv", ".html", ".j2", ".css", ".txt"}
# Built, generated or delivered files: not written by hand, not scanned.
SKIPPED = ("dbt/target", "dbt/logs", "dbt/dbt_packages", "sources/landing")

DOC_PATH = re.compile(r"(?<![\w/>.-])docs/[\w./-]*\w")  # not a run folder's docs/
SECTION = re.compile(r"§\s?(\d+)")
# `docs/sources.md, "Bad input"`, or within docs/ `methodology.md, "…"`: the quoted words begin a heading.
QUOTED_HEADING = re.compile(r"(?:docs/)?\b([a-z_]+\.md)\b,?\s*\"([^\"\n]+)\"")
MARKDOWN_LINK = re.compile(r"\]\(([^)\s]+)\)")
# Documents outside the repository, which code once cited: the repository must stand alone.
OUTSIDE = re.compile(r"\bMETHODOLOGY\b|\bDESIGN\b|\bSOURCES\.md|\bSTYLE\.md|\.\./shared")


def scanned_files() -> list[Path]:
    files = [ROOT / name for name in SCANNED_FILES if (ROOT / name).exists()]
    for folder in SCANNED_DIRS:
        for path in (ROOT / folder).rglob("*"):
            relative = path.relative_to(ROOT).as_posix()
            built = relative.startswith(SKIPPED) or "__pycache__" in path.parts
            if path.is_file() and path.suffix in SUFFIXES and not built:
                files.append(path)
    return sorted(files)


def headings(doc: Path) -> list[str]:
    return [line.lstrip("#").strip() for line in doc.read_text(encoding="utf-8").splitlines() if line.startswith("#")]


def methodology_sections() -> set[int]:
    numbered = (re.match(r"(\d+)\.\s", h) for h in headings(ROOT / "docs" / "methodology.md"))
    return {int(m.group(1)) for m in numbered if m}


def references() -> list[tuple[str, int, str]]:
    """(file, line, text) of every reference, one per match, for the test ids and messages."""
    found = []
    for path in scanned_files():
        if path == Path(__file__):
            continue
        relative = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if (
                DOC_PATH.search(line)
                or SECTION.search(line)
                or OUTSIDE.search(line)
                or (path.suffix == ".md" and (MARKDOWN_LINK.search(line) or QUOTED_HEADING.search(line)))
            ):
                found.append((relative, number, line))
    return found


def unresolved(relative: str, line: str) -> list[str]:
    problems = []
    for target in DOC_PATH.findall(line):
        if not (ROOT / target).exists():
            problems.append(f"{target} does not exist")
    sections = methodology_sections()
    for number in SECTION.findall(line):
        if int(number) not in sections:
            problems.append(f"§{number} is not a section of docs/methodology.md")
    for doc, words in QUOTED_HEADING.findall(line):
        path = ROOT / "docs" / doc
        if path.exists() and not any(h.lower().startswith(words.lower()) for h in headings(path)):
            problems.append(f'docs/{doc} has no heading "{words}"')
    if relative.endswith(".md"):
        for target in MARKDOWN_LINK.findall(line):
            local = "://" not in target and not target.startswith(("#", "mailto:"))
            if local and not (ROOT / relative).parent.joinpath(target.split("#")[0]).exists():
                problems.append(f"link {target} does not resolve")
    for outside in OUTSIDE.findall(line):
        problems.append(f"{outside} is not a document of the repository")
    return problems


def test_methodology_has_sections_1_to_14():
    assert methodology_sections() == set(range(1, 15))


def test_the_scan_sees_the_references():
    # guards the scan itself: a pattern or a folder list gone wrong would make the test below vacuous
    texts = [text for _, _, text in references()]
    assert sum("docs/methodology.md §" in t for t in texts) >= 50
    assert any("docs/sources.md" in t for t in texts)
    assert any("docs/architecture.md" in t for t in texts)


@pytest.mark.parametrize("relative, number, line", references(), ids=lambda v: str(v)[:60])
def test_reference_resolves(relative, number, line):
    assert not unresolved(relative, line), f"{relative}:{number}: {line.strip()}"


def test_an_unresolved_reference_is_caught():
    assert unresolved("x.py", "see docs/methodology.md §15") == ["§15 is not a section of docs/methodology.md"]
    assert unresolved("x.py", "docs/nowhere.md") == ["docs/nowhere.md does not exist"]
    assert unresolved("x.py", 'docs/sources.md, "No such heading"') == [
        'docs/sources.md has no heading "No such heading"'
    ]
    assert unresolved("x.sql", "-- METHODOLOGY §4") == ["METHODOLOGY is not a document of the repository"]
    assert unresolved("docs/x.md", "[a](missing.md)") == ["link missing.md does not resolve"]
