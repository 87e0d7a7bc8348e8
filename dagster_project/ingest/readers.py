"""Find, sniff and open one delivered table file (CSV in UTF-8 or GB18030/GBK, or XLSX) for DuckDB.

DuckDB reads the rows (`read_csv` with every column as text); Python touches only what DuckDB
cannot read: a GB18030/GBK file is transcoded to UTF-8 by streaming, a workbook goes through
fastexcel into Arrow. A file that cannot be read as a whole raises `UnreadableFile` with one
message naming the file and the problem.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import tempfile
from array import array
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from dagster_project.ingest.contracts import Contract, check_header

if TYPE_CHECKING:
    from dagster_project.ingest.personal import Scrubber

TABLE_SUFFIXES = (".csv", ".xlsx")
BLOCK = 16 << 20  # bytes read at a time: a file is never in memory whole


class UnreadableFile(Exception):
    """The file as a whole cannot be loaded (encoding, structure, header)."""

    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def find_table_file(folder: Path, contract: Contract) -> Path | None:
    for suffix in TABLE_SUFFIXES:
        path = folder / f"{contract.table}{suffix}"
        if path.is_file():
            return path
    return None


@dataclass
class TableFile:
    """A delivered table file, sniffed and checked as a whole (encoding, header); DuckDB reads
    its rows from `csv` (UTF-8, transcoded if need be) or from `arrow` (a workbook)."""

    path: Path
    sha256: str
    encoding: str  # utf-8 | gb18030 | xlsx
    contract: Contract
    header: list[str]  # as delivered
    csv: Path | None = None  # the UTF-8 text DuckDB reads
    physical_lines: int = 0  # lines of the text, blank lines at its end left out
    arrow: object | None = None  # pyarrow.Table of a workbook: c0.. as text, and _line
    _temporary: Path | None = field(default=None, repr=False)

    @property
    def rename(self) -> dict[str, str]:
        return check_header(self.contract, self.header)[0]

    @property
    def missing(self) -> list[str]:
        return check_header(self.contract, self.header)[1]

    @property
    def extra_columns(self) -> list[str]:
        rename = self.rename
        return [h for h in self.header if h not in rename]

    def position(self, header: str) -> int:
        return self.header.index(header)

    def relation(self, con: duckdb.DuckDBPyConnection) -> str:
        """A relation of the rows (columns c0.. as text, in file order), for one connection."""
        if self.arrow is not None:
            con.register("kaohe_workbook", self.arrow)
            return "kaohe_workbook"
        columns = "{" + ", ".join(f"'c{i}': 'varchar'" for i in range(len(self.header))) + "}"
        path = str(self.csv).replace("'", "''")
        return (
            f"read_csv('{path}', columns = {columns}, header = true, auto_detect = false, delim = ',', "
            "quote = '\"', escape = '\"', strict_mode = true, null_padding = false, all_varchar = true)"
        )

    def record_lines(self) -> np.ndarray:
        """The file line of every record, as Python's csv module counts them (the slow, exact
        way, for files whose records span lines); raises on a short record or a blank line."""
        with open(self.csv, encoding="utf-8", newline="") as stream:
            return _record_lines(self.path, stream)[1]

    def frame(self) -> pd.DataFrame:
        """The staged rows as a frame (tests, small files): contract columns stripped ('' = null),
        columns outside the contract as delivered (`_x0`, …), and `_line`."""
        con = duckdb.connect()
        try:
            stage(con, self)
            return con.execute("select * exclude (_row) from kaohe_s order by _row").df()
        finally:
            con.close()

    def close(self) -> None:
        if self._temporary is not None:
            self._temporary.unlink(missing_ok=True)
            self._temporary = None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while block := stream.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


# A GB18030 decode of text that is not GB18030 (Big5, Shift-JIS) rarely fails: it yields
# garbled characters instead. Real exports are Chinese text in ASCII, GB2312's punctuation rows
# (A1–A3) and its hanzi (B0–F7); a share of other characters above this is a wrong encoding.
IMPLAUSIBLE_SHARE = 0.10
IMPLAUSIBLE_MIN = 5  # characters: a handful of rare name characters is not a wrong encoding
OTHER_ENCODINGS = ("big5", "shift_jis", "euc_kr")
SNIFF_BYTES = 1 << 20  # what a guess of the other encoding looks at


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
        text = data.decode(encoding, errors="ignore") if len(data) >= SNIFF_BYTES else None
        if text is None:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                continue
        counts = Counter(text)
        wide = sum(n for ch, n in counts.items() if ord(ch) > 127)
        share = sum(n for ch, n in counts.items() if ord(ch) > 127 and _east_asian(ch)) / wide if wide else 0.0
        if share > best_share:
            best, best_share = encoding, share
    return best


def _blocks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        while block := stream.read(BLOCK):
            yield block


@dataclass
class _Scan:
    sha256: str
    utf8: bool
    newlines: int
    ends_with_newline: bool
    trailing_blank: int
    bom: bool
    empty: bool
    bad_byte: int = -1


def _scan(path: Path) -> _Scan:
    """One streaming pass: the hash, whether the bytes are UTF-8, and the line breaks."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, first, newlines, tail, seen, bad = True, True, 0, b"", 0, -1
    bom = empty_so_far = False
    empty_so_far = True
    for block in _blocks(path):
        digest.update(block)
        if first:
            bom = block.startswith(b"\xef\xbb\xbf")
            block_text = block[3:] if bom else block
            first = False
        else:
            block_text = block
        if utf8:
            try:
                decoder.decode(block_text)
            except UnicodeDecodeError as exc:
                utf8, bad = False, seen + exc.start
        if empty_so_far and block_text.strip():
            empty_so_far = False
        newlines += block.count(b"\n")
        seen += len(block_text)
        tail = (tail + block)[-4096:]
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            utf8, bad = False, seen + exc.start
    stripped = tail.rstrip(b"\r\n")
    trailing = tail[len(stripped) :].count(b"\n")
    return _Scan(digest.hexdigest(), utf8, newlines, tail.endswith(b"\n"), max(trailing - 1, 0), bom, empty_so_far, bad)


def _transcode(path: Path, bom: bool) -> Path:
    """The GB18030 text of `path` as a UTF-8 file beside the system's temporary files, checked
    to be plausible Chinese text as it goes (a Big5 file decodes as GB18030 into garbage)."""
    decoder = codecs.getincrementaldecoder("gb18030")()
    handle, name = tempfile.mkstemp(prefix="kaohe-", suffix=".csv")
    out = Path(name)
    counts: Counter[str] = Counter()
    head = b""
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as sink:
            first = True
            for block in _blocks(path):
                if first:
                    block = block[3:] if bom else block
                    head = block[:SNIFF_BYTES]
                    first = False
                text = decoder.decode(block)
                counts.update(ch for ch in text if ord(ch) > 127)
                sink.write(text)
            sink.write(decoder.decode(b"", final=True))
    except UnicodeDecodeError as exc:
        out.unlink(missing_ok=True)
        suspect = _suspected_encoding(head)
        raise UnreadableFile(
            path,
            f"not valid UTF-8 or GB18030/GBK text (byte {exc.start})"
            + (f"; it looks like {suspect.replace('_', '-').upper()}" if suspect else "")
            + "; re-export the table as CSV in UTF-8 or GBK",
        ) from None
    wide = sum(counts.values())
    implausible = sum(n for ch, n in counts.items() if not _plausible_gb(ch))
    if implausible >= IMPLAUSIBLE_MIN and implausible > IMPLAUSIBLE_SHARE * wide:
        out.unlink(missing_ok=True)
        suspect = _suspected_encoding(head)
        guess = f"it looks like {suspect.replace('_', '-').upper()}" if suspect else "the encoding is unknown"
        raise UnreadableFile(
            path,
            f"read as GB18030 the text looks garbled ({implausible:,} of {wide:,} non-ASCII characters are "
            f"not common Chinese characters or punctuation); {guess}. Re-export the table as CSV in UTF-8 or GBK",
        )
    return out


def _header(path: Path, text_path: Path, encoding: str) -> list[str]:
    with open(text_path, encoding=encoding, newline="") as stream:
        try:
            return next(csv.reader(stream), [])
        except csv.Error as exc:
            raise UnreadableFile(path, f"not a well-formed CSV table (line 1: {exc})") from None


def _read_csv(path: Path) -> TableFile:
    scan = _scan(path)
    if scan.empty:
        raise UnreadableFile(path, "the file is empty (no header row)")
    temporary = None
    if scan.utf8:
        encoding, text = "utf-8", path
        header = _header(path, path, "utf-8-sig")
    else:
        temporary = text = _transcode(path, scan.bom)
        encoding = "gb18030"
        header = _header(path, text, "utf-8")
    lines = scan.newlines + (0 if scan.ends_with_newline else 1) - scan.trailing_blank
    return TableFile(
        path,
        scan.sha256,
        encoding,
        None,
        header,
        csv=text,
        physical_lines=lines,
        _temporary=temporary,  # type: ignore[arg-type]
    )


def _record_lines(path: Path, stream: io.TextIOBase) -> tuple[list[str], np.ndarray]:
    """The header and the file line of every record, after checking that each record has the
    header's number of fields (a truncated export ends in a short row). Blank lines at the end
    are ignored; a blank line inside the table is a damaged file."""
    reader = csv.reader(stream)
    lines, short, blank = array("q"), [], []
    try:
        header = next(reader, [])
        if header and header[0].startswith("\ufeff"):
            header[0] = header[0][1:]
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


def _read_xlsx(path: Path) -> TableFile:
    import fastexcel
    import pyarrow as pa
    import pyarrow.compute as pc

    sha256 = sha256_of(path)
    try:
        sheet = fastexcel.read_excel(path).load_sheet(0, header_row=None, dtypes="string")
        table = sheet.to_arrow()
    except Exception as exc:  # fastexcel's own errors for a damaged or non-XLSX file
        raise UnreadableFile(path, f"not a readable XLSX workbook ({type(exc).__name__}: {exc})") from None
    if table.num_rows == 0:
        raise UnreadableFile(path, "the first sheet is empty (no header row)")
    # A date cell reads as 'YYYY-MM-DD 00:00:00': its date is the cell (a time of day is no
    # part of any contract column).
    cells = [
        pc.replace_substring_regex(
            pc.utf8_trim_whitespace(pc.fill_null(table.column(i), "")),
            r"^([0-9]{4}-[0-9]{2}-[0-9]{2}) [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?$",
            r"\1",
        )
        for i in range(table.num_columns)
    ]
    cells = [_shortest_numbers(c) for c in cells]
    header = [str(h) for h in (c[0].as_py() for c in cells)]
    # The header's width: trailing unnamed columns of a sheet are no columns.
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    body = [c.slice(1) for c in cells[:width]]
    filled = np.zeros(table.num_rows - 1, dtype=bool)
    for column in body:
        filled |= pc.not_equal(column, "").to_numpy(zero_copy_only=False)
    keep = np.flatnonzero(filled)
    arrays = [pc.take(c, pa.array(keep)) for c in body]
    lines = pa.array(keep + 2, type=pa.int64())
    arrow = pa.table([*arrays, lines], names=[*(f"c{i}" for i in range(width)), "_line"])
    return TableFile(path, sha256, "xlsx", None, header, arrow=arrow)  # type: ignore[arg-type]


# A number cell printed with 17 significant digits ('12440663.970000001'): the shortest text that
# reads back as the same double is what the spreadsheet shows (and what Python's repr gives).
_FLOAT_NOISE = r"^-?[0-9]+\.[0-9]+$"


def _shortest_numbers(column):
    import pyarrow as pa
    import pyarrow.compute as pc

    noisy = pc.and_(
        pc.match_substring_regex(column, _FLOAT_NOISE),
        pc.greater_equal(pc.utf8_length(column), 17),
    )
    if not pc.any(noisy).as_py():
        return column
    shortest = pc.cast(pc.cast(pc.if_else(noisy, column, "0"), pa.float64()), pa.string())
    return pc.if_else(noisy, shortest, column)


def read_table_file(path: Path, contract: Contract) -> TableFile:
    if not os.access(path, os.R_OK):
        try:
            path.open("rb").close()
        except OSError as exc:
            raise UnreadableFile(path, f"cannot be opened ({exc.strerror})") from None
    table = _read_xlsx(path) if path.suffix == ".xlsx" else _read_csv(path)
    table.contract = contract
    try:
        _refuse_repeated_columns(path, contract, table.header)
        required_missing = [c for c in table.missing if contract.column(c).required]
        if required_missing:
            raise UnreadableFile(
                path,
                "required column(s) missing from the header: "
                + ", ".join(f"{c} [{contract.column(c).zh}]" for c in required_missing),
            )
    except UnreadableFile:
        table.close()
        raise
    return table


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


WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())  # what str.strip() takes off


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def stripped(expr: str) -> str:
    """The cell ('' for null) as str.strip() leaves it. DuckDB's trim over a set of characters is
    slow, and few cells need it: only those with whitespace at an edge go through it."""
    cell = f"coalesce({expr}, '')"
    edge = f"'^[{WHITESPACE}]|[{WHITESPACE}]$'"
    return f"(case when regexp_matches({cell}, {edge}) then trim({cell}, '{WHITESPACE}') else {cell} end)"


def stage(con: duckdb.DuckDBPyConnection, table_file: TableFile, scrubber: Scrubber | None = None) -> int:
    """The rows of a file as text in a temporary table `kaohe_src` (contract columns stripped,
    '' = null; columns outside the contract as delivered), personal data already replaced in
    every text cell; `kaohe_s` adds `_row` (position in the file) and `_line`. Returns the rows."""
    contract = table_file.contract
    rename = table_file.rename
    staffing = contract.system == "staffing"
    whole = {h for h in table_file.extra_columns if contract.is_personal_header(h)}
    # Two levels, so that each cell is stripped once and the scrubbing refers to it by name.
    inner, outer = [], []
    for column in contract.columns:
        header = next((h for h, c in rename.items() if c == column.name), None)
        name = ident(column.name)
        cell = "''" if header is None else stripped(f"c{table_file.position(header)}")
        inner.append(f"{cell} as {name}")
        scanned = scrubber is not None and column.id_scan and not column.pii
        outer.append(f"{scrubber.ids(name) if scanned else name} as {name}")
    for j, header in enumerate(table_file.extra_columns):
        name = ident(f"_x{j}")
        inner.append(f"coalesce(c{table_file.position(header)}, '') as {name}")
        if scrubber is None or header in whole:  # a personal column is hashed whole when written
            outer.append(name)
        else:
            outer.append(f"{scrubber.names_and_ids(name) if staffing else scrubber.ids(name)} as {name}")
    if table_file.arrow is not None:
        inner.append("_line")
        outer.append("_line")
    query = f"select {', '.join(outer)} from (select {', '.join(inner)} from {table_file.relation(con)})"
    try:
        con.execute(f"create or replace temp table kaohe_src as {query}")
    except duckdb.Error as exc:
        if table_file.csv is not None:
            table_file.record_lines()  # names the short or damaged lines, as the csv module counts them
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnreadableFile(table_file.path, f"not a well-formed CSV table ({first})") from None
    # Rows inserted in a transaction get row ids from a high base, in insertion (= file) order.
    rows, base = con.execute("select count(*), coalesce(min(rowid), 0) from kaohe_src").fetchall()[0]
    row = f"(rowid - {int(base)})"
    if scrubber is not None:
        scrubber.scanned += rows * (len(outer) - (table_file.arrow is not None))
    if table_file.arrow is not None:
        con.execute(f"create or replace temp view kaohe_s as select {row} as _row, * from kaohe_src")
    elif rows + 1 == table_file.physical_lines:  # no record spans two lines: line = position + 2
        con.execute(
            f"create or replace temp view kaohe_s as select {row} as _row, *, {row} + 2 as _line from kaohe_src"
        )
    else:  # a cell holds a line break (or the file is damaged): the csv module counts the lines
        import pyarrow as pa

        lines = table_file.record_lines()
        if len(lines) != rows:
            raise UnreadableFile(
                table_file.path, f"DuckDB read {rows:,} rows where the csv module counts {len(lines):,}"
            )
        con.register("kaohe_lines", pa.table({"i": np.arange(rows, dtype=np.int64), "line": lines}))
        con.execute(
            f"create or replace temp view kaohe_s as select s.rowid - {int(base)} as _row, s.*, l.line as _line "
            f"from kaohe_src s join kaohe_lines l on l.i = s.rowid - {int(base)}"
        )
    return rows
