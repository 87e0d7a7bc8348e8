"""No timings in comments or docstrings: they go stale the day the code changes. Measurements live
in docs/performance.md, which `make bench` writes; comments say why, not how fast."""

from __future__ import annotations

import ast
import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# "~5 s", "2.7 s", "3–5 s", "60 ms", "8.2 s → 5.5 s", "12 minutes"
TIMING = re.compile(r"\d(?:[\d.]*)\s?(?:ms|s|sec|seconds|min|minutes)\b(?!\w)")
SQL_COMMENT = re.compile(r"--[^\n]*|\{#.*?#\}", re.S)


def python_texts(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    texts = [
        (token.start[0], token.string)
        for token in tokenize.generate_tokens(io.StringIO(source).readline)
        if token.type == tokenize.COMMENT
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                texts.append((node.body[0].lineno, docstring))
    return texts


def sql_texts(path: Path) -> list[tuple[int, str]]:
    source = path.read_text(encoding="utf-8")
    return [(source.count("\n", 0, m.start()) + 1, m.group()) for m in SQL_COMMENT.finditer(source)]


def timings(root: Path = ROOT) -> list[str]:
    found = []
    files = [*(root / "dagster_project").rglob("*.py"), *(root / "tests").rglob("*.py")]
    files += [
        p for folder in ("models", "macros", "tests", "snapshots") for p in (root / "dbt" / folder).rglob("*.sql")
    ]
    for path in sorted(files):
        if path.resolve() == Path(__file__).resolve():
            continue
        texts = python_texts(path) if path.suffix == ".py" else sql_texts(path)
        for line, text in texts:
            for match in TIMING.finditer(text):
                found.append(f"{path.relative_to(root)}:{line}: {match.group()}")
    makefile = root / "Makefile"
    for number, line in enumerate(makefile.read_text(encoding="utf-8").splitlines(), 1):
        if line.lstrip().startswith("#") and TIMING.search(line):
            found.append(f"Makefile:{number}: {TIMING.search(line).group()}")
    return found


def test_no_timings_in_comments_or_docstrings():
    assert timings() == []


def test_a_timing_is_found(tmp_path):
    (tmp_path / "dagster_project").mkdir()
    (tmp_path / "dagster_project" / "m.py").write_text('"""Loads in ~5 s."""\nx = 1  # was 2.7 s\ny = "3 s"\n')
    (tmp_path / "dbt" / "models").mkdir(parents=True)
    (tmp_path / "dbt" / "models" / "m.sql").write_text("-- 60 ms a node\nselect 1 as s\n")
    (tmp_path / "Makefile").write_text("# ~21 s in a new venv\nall:\n\tsleep 1\n")
    assert timings(tmp_path) == [
        "dagster_project/m.py:2: 2.7 s",
        "dagster_project/m.py:1: 5 s",
        "dbt/models/m.sql:1: 60 ms",
        "Makefile:1: 21 s",
    ]
