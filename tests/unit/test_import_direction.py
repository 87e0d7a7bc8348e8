"""No import runs upward: each sub-package of dagster_project imports only those before it in the
data's way (docs/architecture.md, "What each folder owns"), so the tree reads bottom-up."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "dagster_project"
# A module may import its own layer and the layers before it. Imports inside functions count too.
LAYERS = (
    ("core",),
    ("ingest",),
    ("transform",),
    ("quality",),
    ("publish",),
    ("outputs", "analysis", "synthetic"),
    ("ops",),
    ("runner", "cli", "definitions"),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def part_of(module: str) -> str | None:
    """The top-level part of dagster_project a dotted module name belongs to."""
    parts = module.split(".")
    return parts[1] if parts[0] == "dagster_project" and len(parts) > 1 else None


def imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            if node.module == "dagster_project":  # from dagster_project import ingest
                found.extend((node.lineno, f"dagster_project.{alias.name}") for alias in node.names)
    return found


def upward_imports(package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        own = relative.parts[0].removesuffix(".py")
        if own == "__init__":
            continue
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            other = part_of(module)
            if other is not None and RANK[other] > RANK[own]:
                found.append(f"dagster_project/{relative.as_posix()}:{line} ({own}) imports {module} ({other})")
    return found


def test_every_part_of_the_package_has_a_layer():
    parts = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert parts - {"__init__"} == set(RANK)


def test_no_import_runs_upward():
    assert upward_imports() == []


def test_an_upward_import_is_found(tmp_path):
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "resources.py").write_text(
        "import os\nfrom dagster_project.core import settings\n\n"
        "def f():\n    from dagster_project.publish.retention import prune\n"
    )
    (tmp_path / "outputs").mkdir()
    (tmp_path / "outputs" / "export.py").write_text("from dagster_project import ingest, ops\n")
    assert upward_imports(tmp_path) == [
        "dagster_project/core/resources.py:5 (core) imports dagster_project.publish.retention (publish)",
        "dagster_project/outputs/export.py:1 (outputs) imports dagster_project.ops (ops)",
    ]
