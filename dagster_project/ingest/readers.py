"""Read one delivered table file (CSV in UTF-8 or GB18030/GBK, or XLSX) into text cells.

The result has the contract's column names (English or Chinese headers accepted), '' for empty
cells, and the file line of every row. A file that cannot be read as a whole raises
`UnreadableFile` with one message naming the file and the problem.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.contracts import Contract, check_header, one_line_each
from dagster_project.national_codes import holds_id_numbers

TABLE_SUFFIXES = (".csv", ".xlsx")


class UnreadableFile(Exception):
    """The file as a whole cannot be loaded (encoding, structure, header)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


@dataclass
class TableFile:
    path: Path
    sha256: str
    encoding: str  # utf-8 | gb18030 | xlsx
    frame: pd.DataFrame  # contract columns as text, '' = null
    lines: np.ndarray  # file line of each row (header = line 1)
    extra: pd.DataFrame | None  # columns outside the contract, when the file has any
    personal_extra: frozenset[str] = frozenset()  # of those, the ones that may hold personal data


def find_table_file(folder: Path, contract: Contract) -> Path | None:
    for suffix in TABLE_SUFFIXES:
        path = folder / f"{contract.table}{suffix}"
        if path.is_file():
            return path
    return None


# A GB18030 decode of text that is not GB18030 (Big5, Shift-JIS) rarely fails: it yields
# garbled characters instead. Real exports are Chinese text in ASCII, GB2312's punctuation rows
# (A1–A3) and its hanzi (B0–F7); a share of other characters above this is a wrong encoding.
IMPLAUSIBLE_SHARE = 0.10
IMPLAUSIBLE_MIN = 5  # characters: a handful of rare name characters is not a wrong encoding
OTHER_ENCODINGS = ("big5", "shift_jis", "euc_kr")


def _non_ascii(text: str) -> int:
    return len(text) - len(text.encode("ascii", "ignore"))


def _plausible_gb(ch: str) -> bool:
    try:
        lead = ch.encode("gb2312")[0]
    except UnicodeEncodeError:
        return False
    return 0xA1 <= lead <= 0xA3 or 0xB0 <= lead <= 0xF7


def _east_asian(ch: str) -> bool:
    code = ord(ch)
    return (
        0x4E00 <= code <= 0x9FFF  # CJK ideographs
        or 0x3000 <= code <= 0x30FF  # CJK punctuation, hiragana, katakana
        or 0xAC00 <= code <= 0xD7A3  # hangul
        or 0xFF01 <= code <= 0xFF5E  # full-width forms
    )


def _suspected_encoding(data: bytes) -> str | None:
    """The other East Asian encoding that reads `data` as the most plausible text, if any."""
    best, best_share = None, 0.9
    for encoding in OTHER_ENCODINGS:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        wide = _non_ascii(text)
        share = sum(text.count(ch) for ch in set(text) if ord(ch) > 127 and _east_asian(ch)) / wide if wide else 0.0
        if share > best_share:
            best, best_share = encoding, share
    return best


def _check_plausible_gb18030(path: Path, data: bytes, text: str) -> None:
    wide = _non_ascii(text)
    implausible = sum(text.count(ch) for ch in set(text) if ord(ch) > 127 and not _plausible_gb(ch))
    if implausible >= IMPLAUSIBLE_MIN and implausible > IMPLAUSIBLE_SHARE * wide:
        suspect = _suspected_encoding(data)
        guess = f"it looks like {suspect.replace('_', '-').upper()}" if suspect else "the encoding is unknown"
        raise UnreadableFile(
            path,
            f"read as GB18030 the text looks garbled ({implausible:,} of {wide:,} non-ASCII characters are "
            f"not common Chinese characters or punctuation); {guess}. Re-export the table as CSV in UTF-8 or GBK",
        )


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError as exc:
        suspect = _suspected_encoding(data)
        raise UnreadableFile(
            path,
            f"not valid UTF-8 or GB18030/GBK text (byte {exc.start})"
            + (f"; it looks like {suspect.replace('_', '-').upper()}" if suspect else "")
            + "; re-export the table as CSV in UTF-8 or GBK",
        ) from None
    _check_plausible_gb18030(path, data, text)
    return text, "gb18030"


def _read_csv(path: Path, data: bytes) -> tuple[list[str], pd.DataFrame, np.ndarray, str]:
    text, encoding = _decode(path, data)
    if not text.strip():
        raise UnreadableFile(path, "the file is empty (no header row)")
    # pandas pads a short row with empty cells, silently; count the fields of every record first
    # (a truncated export ends in a short row), and take each record's line from the csv reader.
    reader = csv.reader(io.StringIO(text))
    widths, lines = [], []
    try:
        for record in reader:
            widths.append(len(record))
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise UnreadableFile(path, f"not a well-formed CSV table (line {reader.line_num}: {exc})") from None
    while widths and widths[-1] == 0:  # trailing blank lines
        widths.pop()
        lines.pop()
    width = widths[0]
    header = next(csv.reader(io.StringIO(text)))
    short = [line for line, w in zip(lines[1:], widths[1:], strict=True) if w != width]
    if short:
        shown = ", ".join(map(str, short[:5])) + (" …" if len(short) > 5 else "")
        raise UnreadableFile(
            path,
            f"line(s) {shown} do not have the header's {width} fields; the file looks truncated or damaged",
        )
    try:
        frame = pd.read_csv(io.StringIO(text), dtype=str, na_filter=False, keep_default_na=False, engine="c")
    except (pd.errors.ParserError, ValueError) as exc:
        raise UnreadableFile(path, f"not a well-formed CSV table ({str(exc).strip()})") from None
    frame.columns = header
    return header, frame, np.asarray(lines[1:], dtype=np.int64), encoding


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value:
            return ""
        text = repr(value)  # the shortest text that reads back as this float: 123.45, not 123.4500000001
        if "e" in text or "E" in text:
            text = format(Decimal(text), "f")
        return text[:-2] if text.endswith(".0") else text
    return str(value).strip()


def _read_xlsx(path: Path) -> tuple[list[str], pd.DataFrame, np.ndarray, str]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise UnreadableFile(path, f"not a readable XLSX workbook ({exc})") from None
    except Exception as exc:  # zipfile.BadZipFile and friends from a truncated file
        raise UnreadableFile(path, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise UnreadableFile(path, "the first sheet is empty (no header row)")
        header = [_cell_text(h) for h in header_row]
        width = len(header)
        records, lines = [], []
        for line, row in enumerate(rows, start=2):
            cells = [_cell_text(v) for v in row[:width]]
            if not any(cells):
                continue
            records.append(cells + [""] * (width - len(cells)))
            lines.append(line)
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(path, f"the workbook is damaged ({type(exc).__name__}: {exc})") from None
    finally:
        workbook.close()
    frame = (
        pd.DataFrame(records, columns=header, dtype=object) if records else pd.DataFrame(columns=header, dtype=object)
    )
    return header, frame, np.asarray(lines, dtype=np.int64), "xlsx"


def read_table_file(path: Path, contract: Contract) -> TableFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be opened ({exc.strerror})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    if path.suffix == ".xlsx":
        header, frame, lines, encoding = _read_xlsx(path)
    else:
        header, frame, lines, encoding = _read_csv(path, data)
    _refuse_repeated_columns(path, contract, header)
    rename, missing = check_header(contract, header)
    required_missing = [c for c in missing if contract.column(c).required]
    if required_missing:
        raise UnreadableFile(
            path,
            "required column(s) missing from the header: "
            + ", ".join(f"{c} [{contract.column(c).zh}]" for c in required_missing),
        )
    extra_cols = [h for h in header if h not in rename]
    extra = frame[extra_cols].astype(str).reset_index(drop=True) if extra_cols else None
    personal_extra = frozenset(c for c in extra_cols if contract.is_personal_header(c) or holds_id_numbers(extra[c]))
    frame = frame[list(rename)].rename(columns=rename)
    for column in missing:
        frame[column] = ""
    frame = _strip_cells(frame[contract.column_names].astype(object)).reset_index(drop=True)
    return TableFile(
        path=path,
        sha256=sha256,
        encoding=encoding,
        frame=frame,
        lines=lines,
        extra=extra,
        personal_extra=personal_extra,
    )


_ANY_SPACE = re.compile(r"[^\S\n]")  # any whitespace (str.isspace) but the line break: a fast scan
_EDGE_SPACE = re.compile(r"^[^\S\n]|[^\S\n]$", re.MULTILINE)  # whitespace at a line's ends


def _strip_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell without leading or trailing whitespace, as str.strip() leaves it. A column is
    stripped only when one of its cells needs it — found by one regex scan of the column joined
    a cell per line (exports rarely pad cells; stripping every cell in Python was 5 s of the
    finance load at scale 10)."""
    for column in frame.columns:
        text = one_line_each(frame[column])
        if text is None or (_ANY_SPACE.search(text) and _EDGE_SPACE.search(text)):
            frame[column] = frame[column].str.strip()
    return frame


def _refuse_repeated_columns(path: Path, contract: Contract, header: list[str]) -> None:
    """A column twice (as itself, or once in English and once in Chinese) is ambiguous: which of
    the two is the register's value? The file is refused rather than guessed at."""
    aliases = contract.header_aliases
    seen: dict[str, list[str]] = {}
    for cell in header:
        if cell.strip():
            seen.setdefault(aliases.get(cell.strip(), cell.strip()), []).append(cell)
    repeated = {column: cells for column, cells in seen.items() if len(cells) > 1}
    if repeated:
        raise UnreadableFile(
            path,
            "column(s) repeated in the header: "
            + "; ".join(
                f"{column} {len(cells)} times (as {', '.join(map(repr, cells))})" for column, cells in repeated.items()
            )
            + "; each column may appear once",
        )
