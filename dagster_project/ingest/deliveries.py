"""Which delivery folders a run applies (docs/sources.md: one delivery, or an inbox of them)."""

from __future__ import annotations

from pathlib import Path

from dagster_project.ingest.contracts import SYSTEMS

READY_FILE = "_READY"  # written last into a delivery folder: the delivery is complete


def is_delivery(folder: Path) -> bool:
    return any((folder / system).is_dir() for system in SYSTEMS)


def ready_deliveries(sources: Path) -> list[Path]:
    """`sources` itself when it is a delivery; else its sub-folders holding `_READY`, by name."""
    if not sources.is_dir():
        return []
    if is_delivery(sources):
        return [sources]
    return sorted(p for p in sources.iterdir() if p.is_dir() and (p / READY_FILE).exists() and is_delivery(p))


def no_delivery_message(sources: Path) -> str:
    """Why a run on an empty warehouse has nothing to load from the existing folder `sources`,
    and what to do."""
    waiting = sorted(p.name for p in sources.iterdir() if p.is_dir() and not (p / READY_FILE).exists())
    skipped = f"; skipped for lack of {READY_FILE}: {', '.join(waiting)}" if waiting else ""
    return (
        f"no delivery found in {sources} (a delivery has staffing/, finance/ or performance/ folders, and in "
        f"an inbox its folder holds {READY_FILE}, written last){skipped}; nothing was loaded or published"
    )
