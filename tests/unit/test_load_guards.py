"""An empty or shrunken table never becomes current silently: the system's load fails, naming the
file and both row counts, unless the shrink is accepted; nothing of the system moves on."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.ingest.load import SystemLoadError, load_system

SAMPLE = PROJECT_ROOT / "sources" / "sample"
KEY = b"k" * 32


@pytest.fixture
def loaded(tmp_path) -> duckdb.DuckDBPyConnection:
    """A warehouse holding the sample's staffing (29 persons)."""
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    load_system(con, SAMPLE, "staffing", KEY, delivery="20240101")
    yield con
    con.close()


def _delivery(tmp_path: Path, name: str, persons_rows: int | None) -> Path:
    """The sample's staffing with the first `persons_rows` rows of persons.csv."""
    folder = tmp_path / name
    shutil.copytree(SAMPLE / "staffing", folder / "staffing")
    lines = (SAMPLE / "staffing" / "persons.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (folder / "staffing" / "persons.csv").write_text("".join(lines[: 1 + persons_rows]), encoding="utf-8")
    return folder


def _current(con) -> list[tuple]:
    return con.execute("select table_name, load_id from raw.current_loads order by 1").fetchall()


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (0, "no rows, only a header; the current load (delivery 20240101) has 29 rows"),
        (14, "14 rows where the current load (delivery 20240101) has 29: fewer than 50% of them"),
    ],
    ids=["header-only", "under-half"],
)
def test_an_empty_or_shrunken_table_fails_its_system(tmp_path, loaded, rows, problem):
    before = _current(loaded)
    delivery = _delivery(tmp_path, "20240102", rows)
    with pytest.raises(SystemLoadError) as caught:
        load_system(loaded, delivery, "staffing", KEY)
    message = str(caught.value)
    persons = delivery / "staffing" / "persons.csv"
    assert str(persons) in message and problem in message and "--accept-shrink staffing.persons" in message
    assert _current(loaded) == before  # not one staffing table moved on
    failures = loaded.execute("select delivery, file, problem from raw.load_failures").fetchall()
    assert [(d, f) for d, f, _ in failures] == [("20240102", str(persons))] and problem in failures[0][2]


def test_an_accepted_shrink_loads_and_stays_accepted(tmp_path, loaded):
    delivery = _delivery(tmp_path, "20240102", 0)
    load_system(loaded, delivery, "staffing", KEY, accept_shrink=frozenset({"persons"}))
    rows = loaded.execute(
        "select l.rows_read from raw.current_loads c join raw.loads l using (load_id) "
        "where c.table_name = 'staffing.persons'"
    ).fetchall()
    assert rows == [(0,)]
    # the same (now current) file again is no shrink: nothing to accept any more
    load_system(loaded, delivery, "staffing", KEY, delivery="20240103")


def test_a_table_within_the_share_loads_and_a_first_empty_table_is_refused(tmp_path, loaded):
    load_system(loaded, _delivery(tmp_path, "20240102", 15), "staffing", KEY)  # 15 of 29: over half
    fresh = duckdb.connect(str(tmp_path / "fresh.duckdb"))
    try:
        with pytest.raises(SystemLoadError, match="no rows, only a header; an empty export is refused"):
            load_system(fresh, _delivery(tmp_path, "20240103", 0), "staffing", KEY)
    finally:
        fresh.close()


def test_a_file_loaded_before_is_reused_without_being_parsed_again(tmp_path, loaded, monkeypatch):
    from dagster_project.ingest import load

    def parse(path, _contract):
        parsed.append(path.name)
        return read_table_file(path, _contract)

    parsed: list[str] = []
    read_table_file = load.read_table_file
    monkeypatch.setattr(load, "read_table_file", parse)
    again = _delivery(tmp_path, "20240102", 29)  # every staffing file byte for byte as loaded
    (again / "staffing" / "units.csv").write_text(
        (SAMPLE / "staffing" / "units.csv").read_text(encoding="utf-8") + "\n", encoding="utf-8"
    )  # one file changed (a trailing blank line): only it is parsed
    result = load_system(loaded, again, "staffing", KEY)
    assert parsed == ["units.csv"]
    reused = {t.table: t.reused for t in result.tables}
    assert reused == {"staffing.units": False, "staffing.divisions": True, "staffing.establishment": True,
                      "staffing.persons": True}  # fmt: skip
