"""Write a delivery folder: `<out>/<system>/<table>.csv|xlsx`, then `_READY` (docs/sources.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd

from dagster_project.ingest.contracts import Contract, load_contracts
from dagster_project.ingest.deliveries import READY_FILE

XLSX_MAX_ROWS = 1_048_576  # one sheet, header included
MANIFEST_FILE = "_dirty_manifest.csv"
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "gbk": "gb18030", "gb18030": "gb18030"}


class DeliveryTooLarge(ValueError):
    """A table does not fit the chosen file format."""


def _xlsx_cell(column_type: str, value: str) -> object:
    """Typed cell as a spreadsheet export has it: numbers as numbers, dates as dates."""
    if value == "":
        return None
    if column_type == "int":
        return int(value)
    if column_type in ("decimal", "money"):
        return float(value)
    if column_type == "date":
        return date.fromisoformat(value)
    return value


def write_xlsx(contract: Contract, frame: pd.DataFrame, path: Path, header: list[str]) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    if len(frame) + 1 > XLSX_MAX_ROWS:
        raise DeliveryTooLarge(
            f"{contract.name} has {len(frame):,} rows; one XLSX sheet holds at most "
            f"{XLSX_MAX_ROWS - 1:,}. Use --format csv or a smaller --scale."
        )
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(contract.table)
    sheet.append(header)
    types = [contract.column(c).type for c in frame.columns]
    for record in frame.itertuples(index=False, name=None):
        cells = []
        for column_type, value in zip(types, record, strict=True):
            cell = WriteOnlyCell(sheet, value=_xlsx_cell(column_type, value))
            if column_type == "date" and value:
                cell.number_format = "yyyy-mm-dd"
            elif column_type == "text":
                cell.number_format = "@"  # codes and ID numbers are text cells
            cells.append(cell)
        sheet.append(cells)
    workbook.save(path)


def write_delivery(
    tables: dict[str, pd.DataFrame],
    out: Path,
    fmt: str = "csv",
    encoding: str = "utf-8",
    headers: str = "en",
    metadata: dict | None = None,
) -> list[Path]:
    """Write every table; `_READY` last, so a watching sensor never sees half a delivery."""
    if fmt not in ("csv", "xlsx"):
        raise ValueError(f"unknown format {fmt!r} (csv or xlsx)")
    if encoding.lower() not in ENCODINGS:
        raise ValueError(f"unknown encoding {encoding!r} (utf-8, gbk or gb18030)")
    contracts = load_contracts()
    written = []
    for name, frame in tables.items():
        contract = contracts[name]
        header = [contract.column(c).zh if headers == "zh" else c for c in frame.columns]
        path = out / contract.system / f"{contract.table}.{fmt}"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "csv":
            frame.to_csv(
                path,
                index=False,
                header=header,
                encoding=ENCODINGS[encoding.lower()],
                lineterminator="\n",
            )
        else:
            write_xlsx(contract, frame, path, header)
        written.append(path)
    if metadata is not None:
        (out / "_delivery.json").write_text(json.dumps(metadata, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (out / READY_FILE).write_text("", encoding="utf-8")
    return written
