"""The `kaohe` command line: generate | run | explain | demo."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="kaohe — the agency performance warehouse (机关单位绩效考核).",
)
console = Console()
err_console = Console(stderr=True)


@app.callback()
def _root() -> None:
    """kaohe — the agency performance warehouse (机关单位绩效考核)."""


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Folder to write the delivery into.")],
    scale: Annotated[
        float, typer.Option(help="1 = Jiangsu + 13 cities; 10 adds the counties.")
    ] = 1.0,
    seed: Annotated[
        int, typer.Option(help="Random seed; the same seed gives the same files.")
    ] = 20231231,
    year: Annotated[int, typer.Option(help="Evaluation year the delivery covers.")] = 2023,
    dirty: Annotated[
        bool, typer.Option(help="Inject every kind of contract violation and write a manifest.")
    ] = False,
    fmt: Annotated[str, typer.Option("--format", help="csv or xlsx.")] = "csv",
    encoding: Annotated[
        str, typer.Option(help="utf-8, or gbk/gb18030 (gbk is written as gb18030).")
    ] = "utf-8",
    headers: Annotated[
        str, typer.Option(help="Header language: en (contract names) or zh (中文表头).")
    ] = "en",
) -> None:
    """Write a deterministic synthetic delivery of all 14 source tables."""
    from dagster_project.synthetic.dirty import inject
    from dagster_project.synthetic.generator import generate as build
    from dagster_project.synthetic.writer import MANIFEST_FILE, DeliveryTooLarge, write_delivery

    started = time.perf_counter()
    with console.status(f"generating scale {scale:g} (seed {seed}, year {year})…"):
        try:
            tables = build(scale=scale, seed=seed, year=year)
        except ValueError as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        manifest = None
        if dirty:
            tables, manifest = inject(tables, seed)
        out.mkdir(parents=True, exist_ok=True)
        meta = {"generator": "kaohe", "scale": scale, "seed": seed, "year": year, "dirty": dirty}
        try:
            write_delivery(tables, out, fmt=fmt, encoding=encoding, headers=headers, metadata=meta)
        except (DeliveryTooLarge, ValueError) as exc:
            err_console.print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from exc
        if manifest is not None:
            manifest.to_csv(out / MANIFEST_FILE, index=False, lineterminator="\n")
    summary = Table(title=f"delivery written to {out}", show_edge=False)
    summary.add_column("table")
    summary.add_column("rows", justify="right")
    for name, frame in tables.items():
        summary.add_row(name, f"{len(frame):,}")
    console.print(summary)
    if manifest is not None:
        console.print(
            f"dirty: {len(manifest)} rows expected in quarantine, listed in {out / MANIFEST_FILE}"
        )
    console.print(f"done in {time.perf_counter() - started:.1f} s")
