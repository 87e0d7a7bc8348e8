"""`python -m dagster_project.publish.compare BEFORE AFTER`: are two publications equal, cell by cell?

For a refactoring that must not change any result: publish the same delivery with the code
before and after the change, then compare the two `kaohe.duckdb` files of the run folders
(`published/runs/<run_id>/kaohe.duckdb`, or `published/current` resolved). Every table of the
`marts` schema is compared as a multiset of rows (EXCEPT ALL both ways, so order does not
matter and duplicates count), after dropping the columns that say when and by which run a
table was written. A column only the second has is listed as added and the shared columns are
compared; a column lost or retyped is a difference. Exit 0 when every table is equal; 1 with the differences otherwise.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

SCHEMA = "marts"
# Columns that differ between any two runs by construction, never by the scores (loaded_at: when
# the run loaded a delivery, in source_loads).
RUN_COLUMNS = frozenset({"run_id", "published_at", "detected_at", "inputs_fingerprint", "loaded_at"})


@dataclass
class TableDifference:
    table: str
    problem: str
    only_before: list[tuple] = field(default_factory=list)
    only_after: list[tuple] = field(default_factory=list)


@dataclass
class Comparison:
    tables: dict[str, tuple[int, int]] = field(default_factory=dict)  # equal table → (rows, compared columns)
    differences: list[TableDifference] = field(default_factory=list)
    added_columns: dict[str, list[str]] = field(default_factory=dict)  # table → columns only after

    @property
    def equal(self) -> bool:
        return not self.differences


def _columns(con: duckdb.DuckDBPyConnection, database: str, table: str) -> list[tuple[str, str]]:
    return con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where database_name = ? and schema_name = ? and table_name = ? order by column_index",
        [database, SCHEMA, table],
    ).fetchall()


def _tables(con: duckdb.DuckDBPyConnection, database: str) -> set[str]:
    rows = con.execute(
        "select table_name from duckdb_tables() where database_name = ? and schema_name = ?", [database, SCHEMA]
    ).fetchall()
    return {r[0] for r in rows}


def compare(before: Path, after: Path, shown: int = 5) -> Comparison:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{before}' as before (read_only)")
        con.execute(f"attach '{after}' as after (read_only)")
        result = Comparison()
        tables_before, tables_after = _tables(con, "before"), _tables(con, "after")
        for table in sorted(tables_before ^ tables_after):
            side = "before" if table in tables_before else "after"
            result.differences.append(TableDifference(table, f"only {side} has this table"))
        for table in sorted(tables_before & tables_after):
            columns_before, columns_after = _columns(con, "before", table), _columns(con, "after", table)
            lost = [c for c in columns_before if c not in columns_after]
            if lost:  # a column dropped or retyped: the rows cannot be the same
                result.differences.append(TableDifference(table, f"columns lost or retyped: {lost}"))
                continue
            added = [name for name, _ in columns_after if (name, _) not in columns_before]
            if added:  # a new column is an addition, not a change: the shared columns are compared
                result.added_columns[table] = added
            names = ", ".join(f'"{name}"' for name, _ in columns_before if name not in RUN_COLUMNS)
            if table == "publication":  # one row per published table; its row counts are compared above
                names = '"table_name", "row_count", "pii_key", "as_of"'
            select_before = f"select {names} from before.{SCHEMA}.{table}"
            select_after = f"select {names} from after.{SCHEMA}.{table}"
            only_before = con.execute(f"{select_before} except all {select_after} limit {shown}").fetchall()
            only_after = con.execute(f"{select_after} except all {select_before} limit {shown}").fetchall()
            if only_before or only_after:
                counts = [
                    con.execute(f"select count(*) from ({a} except all {b})").fetchall()[0][0]
                    for a, b in ((select_before, select_after), (select_after, select_before))
                ]
                result.differences.append(
                    TableDifference(
                        table, f"{counts[0]:,} row(s) only before, {counts[1]:,} only after", only_before, only_after
                    )
                )
            else:
                rows = con.execute(f"select count(*) from before.{SCHEMA}.{table}").fetchall()[0][0]
                result.tables[table] = (rows, names.count('"') // 2)
        return result
    finally:
        con.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="kaohe.duckdb of the publication before the change")
    parser.add_argument("after", type=Path, help="kaohe.duckdb of the publication after the change")
    args = parser.parse_args(argv)
    for path in (args.before, args.after):
        if not path.is_file():
            parser.error(f"{path} is not a file (give the kaohe.duckdb of a run folder)")
    result = compare(args.before, args.after)
    for table, (rows, columns) in result.tables.items():
        added = result.added_columns.get(table)
        print(
            f"equal      {table} ({rows:,} rows × {columns} columns)"
            + (f"; added: {', '.join(added)}" if added else "")
        )
    for difference in result.differences:
        print(f"DIFFERENT  {difference.table}: {difference.problem}")
        for row in difference.only_before:
            print(f"    before only: {row}")
        for row in difference.only_after:
            print(f"    after only:  {row}")
    cells = sum(rows * columns for rows, columns in result.tables.values())
    verdict = "nothing differs" if result.equal else f"{len(result.differences)} table(s) differ"
    print(f"{len(result.tables)} table(s) equal, {cells:,} cells; {verdict}")
    return 0 if result.equal else 1


if __name__ == "__main__":
    sys.exit(main())
