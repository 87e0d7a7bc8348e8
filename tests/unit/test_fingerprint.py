"""A run's inputs as one digest: equal for equal inputs, different when a file in force, the
evaluation date, an option or the PII key differs."""

from __future__ import annotations

import duckdb
import pytest

from dagster_project.core.fingerprint import code_digest, inputs_fingerprint, publication_in_force

KEY = b"k" * 32
BASE = {"as_of": "2024-01-31", "pii_key": KEY, "demo_key": False, "reopen_year": None, "reopen_reason": "",
        "only_year": None}  # fmt: skip


@pytest.fixture
def con():
    con = duckdb.connect()
    con.execute("create schema raw")
    con.execute("create table raw.loads (load_id integer, file_sha256 varchar)")
    con.execute("create table raw.current_loads (table_name varchar, load_id integer)")
    con.execute("insert into raw.loads values (1, 'aaa'), (2, 'bbb'), (3, 'ccc')")
    con.execute("insert into raw.current_loads values ('staffing.units', 1), ('staffing.persons', 2)")
    yield con
    con.close()


def test_equal_inputs_give_equal_digests_and_each_input_counts(con):
    base = inputs_fingerprint(con, **BASE)
    assert base == inputs_fingerprint(con, **BASE)
    changed = [
        inputs_fingerprint(con, **{**BASE, "as_of": "2024-02-01"}),
        inputs_fingerprint(con, **{**BASE, "pii_key": b"j" * 32}),
        inputs_fingerprint(con, **{**BASE, "demo_key": True}),
        inputs_fingerprint(con, **{**BASE, "reopen_year": 2023, "reopen_reason": "复核"}),
        inputs_fingerprint(con, **{**BASE, "only_year": 2023}),
    ]
    con.execute("update raw.current_loads set load_id = 3 where table_name = 'staffing.persons'")
    changed.append(inputs_fingerprint(con, **BASE))  # another file in force for one table
    assert base not in changed and len(set(changed)) == len(changed)
    # the same file content loaded under another load id is the same input
    con.execute("insert into raw.loads values (4, 'bbb')")
    con.execute("update raw.current_loads set load_id = 4 where table_name = 'staffing.persons'")
    assert inputs_fingerprint(con, **BASE) == base
    assert len(code_digest()) == 64


def test_the_publication_in_force_is_read_from_current_and_older_ones_have_no_fingerprint(tmp_path):
    assert publication_in_force(tmp_path) is None
    run = tmp_path / "runs" / "r1"
    run.mkdir(parents=True)
    (tmp_path / "current").symlink_to("runs/r1")
    db = duckdb.connect(str(run / "kaohe.duckdb"))
    db.execute("create schema marts")
    db.execute("create table marts.publication (run_id varchar, table_name varchar)")
    db.execute("insert into marts.publication values ('r1', 'unit_scores')")
    db.close()
    in_force = publication_in_force(tmp_path)
    assert in_force is not None and (in_force.run_id, in_force.fingerprint) == ("r1", None)
