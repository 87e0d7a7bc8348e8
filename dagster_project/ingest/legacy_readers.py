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
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from dagster_project.core.national_codes import holds_id_numbers
from dagster_project.ingest.legacy_contracts import Contract, all_filled, check_header, key_values, one_line_each

TABLE_SUFFIXES = (".csv", ".xlsx")


class UnreadableFile(Exception):
    """The file as a whole cannot be loaded (encoding, structure, header)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


CHUNK_ROWS = 250_000  # rows checked and written at a time: a table's cells are never all in memory


@dataclass
class Chunk:
    start: int  # position of the chunk's first row among the file's rows
    frame: pd.DataFrame  # contract columns as text, '' = null, stripped; index 0..n-1
    extra: pd.DataFrame | None  # the columns outside the contract (as delivered), when the file has any


@dataclass
class TableFile:
    """A delivered table file, read and checked as a whole (encoding, structure, header, row
    count, duplicated keys), whose rows are then taken a chunk at a time (`chunks`): a table of
    16 M rows never sits in memory as Python strings at once."""

    path: Path
    sha256: str
    encoding: str  # utf-8 | gb18030 | xlsx
    contract: Contract
    header: list[str]  # as delivered
    lines: np.ndarray  # file line of each row (header = line 1)
    personal_extra: frozenset[str]  # columns outside the contract that may hold personal data
    duplicate_keys: frozenset[str]  # complete keys (as key_values renders them) on more than one row
    _source: RawChunks
    chunk_rows: int = CHUNK_ROWS

    @property
    def rows(self) -> int:
        return len(self.lines)

    @cached_property
    def _columns(self) -> tuple[dict[str, str], list[str], list[str]]:
        rename, missing = check_header(self.contract, self.header)
        return rename, missing, [h for h in self.header if h not in rename]

    @property
    def extra_columns(self) -> list[str]:
        return self._columns[2]

    def chunks(self) -> Iterator[Chunk]:
        rename, missing, extra_cols = self._columns
        start = 0
        for raw in self._source(None, self.chunk_rows):
            raw = raw.reset_index(drop=True)
            extra = raw[extra_cols].astype(str) if extra_cols else None
            frame = raw[list(rename)].rename(columns=rename)
            for column in missing:
                frame[column] = ""
            yield Chunk(start, _strip_cells(frame[self.contract.column_names].astype(object)), extra)
            start += len(raw)
        if start != self.rows:  # the file is held in memory: only a reader bug could get here
            raise UnreadableFile(self.path, f"read {start:,} rows where the whole-file check counted {self.rows:,}")

    @property
    def frame(self) -> pd.DataFrame:
        """All rows at once (small files and tests; loading goes a chunk at a time)."""
        return _concat([c.frame for c in self.chunks()], self.contract.column_names)

    @property
    def extra(self) -> pd.DataFrame | None:
        return _concat([c.extra for c in self.chunks()], self.extra_columns) if self.extra_columns else None


def _concat(frames: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return pd.concat(frames, ignore_index=True)


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
    """The text of `data` (without its byte-order mark) and its encoding."""
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


RawChunks = Callable[[list[int] | None, int], Iterator[pd.DataFrame]]  # (column positions, rows) → frames


def _read_csv(path: Path, data: bytes) -> tuple[list[str], np.ndarray, str, RawChunks]:
    data = data.removeprefix(b"\xef\xbb\xbf")  # a UTF-8 byte-order mark, whatever the encoding proves to be
    text, encoding = _decode(path, data)
    if not text.strip():
        raise UnreadableFile(path, "the file is empty (no header row)")
    del text  # the decoded copy was for the checks; the rows are read from `data`, a chunk at a time

    def stream() -> io.TextIOWrapper:
        return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")

    header, lines = _record_lines(path, stream())

    def chunks(columns: list[int] | None, rows: int) -> Iterator[pd.DataFrame]:
        names = header if columns is None else [header[i] for i in columns]
        try:
            with pd.read_csv(
                stream(), dtype=str, na_filter=False, keep_default_na=False, engine="c", usecols=columns,
                chunksize=rows,
            ) as reader:  # fmt: skip
                for chunk in reader:
                    chunk.columns = names
                    yield chunk
        except (pd.errors.ParserError, ValueError) as exc:
            raise UnreadableFile(path, f"not a well-formed CSV table ({str(exc).strip()})") from None

    return header, lines, encoding, chunks


def _record_lines(path: Path, stream: io.TextIOWrapper) -> tuple[list[str], np.ndarray]:
    """The header and the file line of every record, after checking that each record has the
    header's number of fields: pandas pads a short row with empty cells, silently, and a
    truncated export ends in a short row. Blank lines at the end are ignored."""
    reader = csv.reader(stream)
    lines, short, blank = array("q"), [], []
    try:
        header = next(reader, [])
        width = len(header)
        for record in reader:
            if not record:
                blank.append(reader.line_num)
                continue
            if blank:  # blank lines before another record: inside the table
                short += blank
                blank.clear()
            if len(record) == width:
                lines.append(reader.line_num)
            else:
                short.append(reader.line_num)
    except csv.Error as exc:
        raise UnreadableFile(path, f"not a well-formed CSV table (line {reader.line_num}: {exc})") from None
    if short:
        shown = ", ".join(map(str, short[:5])) + (" …" if len(short) > 5 else "")
        raise UnreadableFile(
            path,
            f"line(s) {shown} do not have the header's {width} fields; the file looks truncated or damaged",
        )
    return header, np.frombuffer(lines, dtype=np.int64) if lines else np.zeros(0, dtype=np.int64)


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


def _read_xlsx(path: Path) -> tuple[list[str], np.ndarray, RawChunks]:
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
    # A sheet holds at most 1,048,576 rows: read whole, then handed out in chunks like a CSV's.
    frame = pd.DataFrame(records or None, columns=range(width), dtype=object)

    def chunks(columns: list[int] | None, rows: int) -> Iterator[pd.DataFrame]:
        part = frame if columns is None else frame[columns]
        names = header if columns is None else [header[i] for i in columns]
        for start in range(0, len(part), rows):
            yield part.iloc[start : start + rows].set_axis(names, axis=1)

    return header, np.asarray(lines, dtype=np.int64), chunks


def read_table_file(path: Path, contract: Contract, chunk_rows: int | None = None) -> TableFile:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be opened ({exc.strerror})") from None
    sha256 = hashlib.sha256(data).hexdigest()
    chunk_rows = chunk_rows or CHUNK_ROWS
    if path.suffix == ".xlsx":
        del data
        header, lines, chunks = _read_xlsx(path)
        encoding = "xlsx"
    else:
        header, lines, encoding, chunks = _read_csv(path, data)
    _refuse_repeated_columns(path, contract, header)
    rename, missing = check_header(contract, header)
    required_missing = [c for c in missing if contract.column(c).required]
    if required_missing:
        raise UnreadableFile(
            path,
            "required column(s) missing from the header: "
            + ", ".join(f"{c} [{contract.column(c).zh}]" for c in required_missing),
        )
    personal_extra, duplicate_keys = _scan_keys_and_extra(contract, header, rename, chunks, chunk_rows)
    return TableFile(
        path=path,
        sha256=sha256,
        encoding=encoding,
        contract=contract,
        header=header,
        lines=lines,
        personal_extra=personal_extra,
        duplicate_keys=duplicate_keys,
        _source=chunks,
        chunk_rows=chunk_rows,
    )


def _scan_keys_and_extra(
    contract: Contract, header: list[str], rename: dict[str, str], chunks: RawChunks, chunk_rows: int
) -> tuple[frozenset[str], frozenset[str]]:
    """What must be known of the whole file before its first chunk is written: which columns
    outside the contract may hold personal data (by name, or an ID number in any cell), and
    which complete keys occur on more than one row (all of those rows are `duplicate_key`).
    One pass over the key and extra columns keeps a 64-bit hash per row; only hashes seen twice
    are checked again against the keys' text, so a hash collision never makes a duplicate."""
    position = {column: i for i, column in enumerate(header)}
    key_positions = [next((position[h] for h, c in rename.items() if c == k), None) for k in contract.key]
    extra_positions = [i for i, h in enumerate(header) if h not in rename]
    personal = {header[i] for i in extra_positions if contract.is_personal_header(header[i])}
    if None in key_positions:  # an optional key column not delivered: no key is complete
        key_positions = []
    columns = sorted({*key_positions, *extra_positions})
    if not columns:
        return frozenset(personal), frozenset()

    def keys_of(raw: pd.DataFrame) -> pd.Series:
        keys = _strip_cells(raw.iloc[:, [columns.index(p) for p in key_positions]].astype(object))
        keys.columns = list(contract.key)
        return key_values(keys, contract.key)[all_filled(keys, contract.key)]

    hashes = []
    for raw in chunks(columns, chunk_rows):
        for i in extra_positions:
            if header[i] not in personal and holds_id_numbers(raw.iloc[:, columns.index(i)]):
                personal.add(header[i])
        if key_positions:
            hashes.append(pd.util.hash_array(keys_of(raw).to_numpy(dtype=object)))
    if not hashes:
        return frozenset(personal), frozenset()
    seen = np.sort(np.concatenate(hashes))
    twice = np.unique(seen[1:][seen[1:] == seen[:-1]])
    if not len(twice):
        return frozenset(personal), frozenset()
    candidates = []
    for raw in chunks(columns, chunk_rows):
        keys = keys_of(raw)
        candidates.append(keys[np.isin(pd.util.hash_array(keys.to_numpy(dtype=object)), twice)])
    counts = pd.concat(candidates).value_counts()
    return frozenset(personal), frozenset(counts.index[counts > 1])


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
