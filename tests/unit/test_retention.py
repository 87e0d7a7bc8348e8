"""Retention keeps the newest publications, every final-ranking publication and `current`, and
prunes the raw rows of old loads while `raw.loads` keeps the audit trail."""

from __future__ import annotations

import json
import os
import shutil

import duckdb

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.ingest.load import load_system
from dagster_project.publish.retention import prune_publications, prune_raw
from dagster_project.quality.report import (
    HISTORY_FILE,
    VERDICT_BLOCKED,
    VERDICT_PASSED_NOT_PUBLISHED,
    VERDICT_PUBLISHED,
)

SAMPLE = PROJECT_ROOT / "sources" / "sample"
KEY = b"k" * 32


def _publication(publish, run_id: str, age: int, revision_runs: tuple[str, ...] = (), snapshot: bool = True):
    folder = publish / "runs" / run_id
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "quality.html").write_text(run_id, encoding="utf-8")
    if snapshot:
        con = duckdb.connect(str(folder / "kaohe.duckdb"))
        con.execute("create schema marts")
        con.execute("create table marts.ranking_revisions (year integer, revision integer, run_id varchar)")
        for run in revision_runs:
            con.execute("insert into marts.ranking_revisions values (2023, 1, ?)", [run])
        con.close()
    for path in (folder, *folder.rglob("*")):
        os.utime(path, (1_700_000_000 + age, 1_700_000_000 + age))
    return folder


def test_prune_keeps_the_newest_the_final_rankings_and_current(tmp_path):
    publish = tmp_path / "published"
    _publication(publish, "r1-final", 1)
    _publication(publish, "r2", 2)
    _publication(publish, "r3-failed", 3, snapshot=False)
    _publication(publish, "r4", 4)
    _publication(publish, "r5-current", 5, revision_runs=("r1-final",))
    _publication(publish, "r6-failed", 6, snapshot=False)
    (publish / "current").symlink_to("runs/r5-current")

    removed = prune_publications(publish, keep=2)

    assert sorted(p.name for p in removed) == ["r2", "r3-failed"]
    left = sorted(p.name for p in (publish / "runs").iterdir())
    # r4 and r5 are the newest two; r1 published a final ranking; r6's report is newer than both
    assert left == ["r1-final", "r4", "r5-current", "r6-failed"]


def test_prune_removes_the_folders_of_runs_killed_before_they_finished(tmp_path):
    publish = tmp_path / "published"
    _publication(publish, "r1-current", 1)
    _publication(publish, "r2-blocked", 2, snapshot=False)  # a finished run: its report stays
    killed_in_gate = publish / "runs" / "r3-killed-in-gate" / "docs"
    killed_in_gate.mkdir(parents=True)  # the gate had not written its report yet
    (killed_in_gate / "quarantine.csv").write_text("", encoding="utf-8")
    _publication(publish, "r4-killed-publishing", 4)  # the snapshot was never switched in
    (publish / "current").symlink_to("runs/r1-current")
    points = [("r1-current", VERDICT_PUBLISHED), ("r2-blocked", VERDICT_BLOCKED)]
    points.append(("r4-killed-publishing", VERDICT_PASSED_NOT_PUBLISHED))
    (publish / HISTORY_FILE).write_text(
        "".join(json.dumps({"run_id": r, "verdict": v}) + "\n" for r, v in points) + '{"run_id": "cut', encoding="utf-8"
    )

    removed = prune_publications(publish, keep=30)

    assert sorted(p.name for p in removed) == ["r3-killed-in-gate", "r4-killed-publishing"]
    assert sorted(p.name for p in (publish / "runs").iterdir()) == ["r1-current", "r2-blocked"]


def test_prune_raw_deletes_old_loads_and_a_pruned_file_loads_anew(tmp_path):
    deliveries = []
    for i, suffix in enumerate(("", "（二）", "（三）"), start=1):
        folder = tmp_path / f"2024010{i}"
        shutil.copytree(SAMPLE / "staffing", folder / "staffing")
        units = folder / "staffing" / "units.csv"
        lines = units.read_text(encoding="utf-8").splitlines()
        lines[1] = lines[1].replace("南京市甲局", f"南京市甲局{suffix}")
        units.write_text("\n".join(lines) + "\n", encoding="utf-8")
        deliveries.append(folder)
    con = duckdb.connect(str(tmp_path / "kaohe.duckdb"))
    try:
        for folder in deliveries:
            load_system(con, folder, "staffing", KEY)
        first_units = con.execute(
            "select load_id from raw.loads where delivery = '20240101' and table_name = 'staffing.units'"
        ).fetchall()[0][0]

        pruned, rows = prune_raw(con, keep=1)

        # units of the first two deliveries went; the other tables were the same file all along
        units_loads = con.execute(
            "select load_id from raw.loads where table_name = 'staffing.units' order by load_id"
        ).fetchall()
        assert pruned == [units_loads[0][0], units_loads[1][0]] and rows == 12
        assert con.execute("select count(*) from raw.loads where pruned_at is not null").fetchall() == [(2,)]
        left = con.execute("select distinct _load_id from raw.staffing__units").fetchall()
        assert left == [(units_loads[2][0],)]
        assert prune_raw(con, keep=1) == ([], 0)  # nothing more to do

        load_system(con, deliveries[0], "staffing", KEY, delivery="20240104")  # the first file again
        current = con.execute("select load_id from raw.current_loads where table_name = 'staffing.units'").fetchall()[
            0
        ][0]
        assert current != first_units  # loaded anew: its old rows are gone
        assert con.execute("select count(*) from raw.staffing__units where _load_id = ?", [current]).fetchall() == [
            (6,)
        ]
    finally:
        con.close()
