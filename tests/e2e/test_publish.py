"""Write–audit–publish: the gate blocks broken marts, readers see whole snapshots, final
rankings are kept unless reopened."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from dagster_project.core.settings import PROJECT_ROOT, pii_key
from dagster_project.publish.snapshot import SCHEMA
from dagster_project.quality.suites import run_suites
from dagster_project.runner import run_nightly
from dagster_project.synthetic.writer import write_delivery
from tests.conftest import run_dbt, settings_for

pytestmark = pytest.mark.e2e
SAMPLE = PROJECT_ROOT / "sources" / "sample"
U2 = "113201001000000247"


def _sample_tables() -> dict[str, pd.DataFrame]:
    tables = {}
    for path in sorted(SAMPLE.glob("*/*.csv")):
        tables[f"{path.parent.name}.{path.stem}"] = pd.read_csv(path, dtype=str, keep_default_na=False)
    return tables


def _sha(path: Path) -> str:
    return hashlib.sha256(path.resolve().read_bytes()).hexdigest()


def _snapshot(settings) -> Path:
    return Path(settings.publish_dir) / "kaohe.duckdb"


@pytest.fixture
def published(sample_published):
    """The sample, run and published once for the session (conftest.sample_published)."""
    return sample_published


def _copy(published, tmp_path: Path, sources: Path, **extra):
    """A private copy of the published run (warehouse + publication) to change."""
    shutil.copytree(published[0] / "warehouse", tmp_path / "warehouse", symlinks=True)
    return settings_for(tmp_path, sources, **extra)


def test_clean_run_publishes_duckdb_and_parquet_with_the_same_rows(published):
    _, settings, report = published
    snapshot = _snapshot(settings)
    assert report.published == snapshot.resolve().parent
    assert "本次运行已发布：所有阻断性检查通过。" in (snapshot.resolve().parent / "docs" / "quality.html").read_text(
        encoding="utf-8"
    )
    lineage = (snapshot.resolve().parent / "docs" / "lineage.html").read_text(encoding="utf-8")
    # dbt docs with the manifest inline (its JSON escapes non-ASCII): models and column descriptions
    assert "unit_scores" in lineage and json.dumps("总分")[1:-1] in lineage
    header = snapshot.resolve().read_bytes()[:20]
    assert header[8:12] == b"DUCK" and struct.unpack("<Q", header[12:20])[0] == 64  # storage v1.0.0
    con = duckdb.connect(str(snapshot), read_only=True)
    try:
        counts = dict(con.execute(f"select table_name, row_count from {SCHEMA}.publication").fetchall())
        assert {"unit_scores", "score_line_items", "task_lights", "negative_list", "quarantine"} <= set(counts)
        for table in counts:
            from_db = con.execute(f"select * from {SCHEMA}.{table} order by all").df()
            parquet = Path(settings.publish_dir) / "parquet" / f"{table}.parquet"
            from_parquet = con.execute(f"select * from read_parquet('{parquet}') order by all").df()
            pd.testing.assert_frame_equal(from_db, from_parquet, check_dtype=False)
            assert len(from_db) == counts[table]
        comment = con.execute(
            "select comment from duckdb_columns() where table_name = 'unit_scores' and column_name = 'total_score'"
        ).fetchall()
        assert comment and "总分" in comment[0][0]
        # what readers may rely on: the grain as primary key, the tested columns NOT NULL
        constraints = con.execute(
            "select constraint_type, constraint_column_names from duckdb_constraints() where table_name = 'unit_scores'"
        ).fetchall()
        assert ("PRIMARY KEY", ["year", "unit_code"]) in constraints
        assert ("NOT NULL", ["total_score"]) in constraints and ("NOT NULL", ["unit_name"]) not in constraints
        # the Parquet files carry the descriptions too
        parquet = Path(settings.publish_dir) / "parquet" / "unit_scores.parquet"
        meta = dict(con.execute(f"select decode(key), decode(value) from parquet_kv_metadata('{parquet}')").fetchall())
        assert json.loads(meta["kaohe.grain"]) == ["year", "unit_code"] and meta["kaohe.table"].startswith("考核得分")
        assert json.loads(meta["kaohe.columns"])["total_score"] == comment[0][0]
        revisions = con.execute(f"select year, revision, reason from {SCHEMA}.ranking_revisions").fetchall()
        assert revisions == [(2023, 1, "first year-end publication")]
    finally:
        con.close()


def test_an_unchanged_rerun_publishes_nothing_new_and_force_overrides_it(published, tmp_path):
    _, _, first = published
    settings = _copy(published, tmp_path, SAMPLE)
    runs = Path(settings.publish_dir) / "runs"
    before = sorted(p.name for p in runs.iterdir())
    current = (Path(settings.publish_dir) / "current").resolve()

    again = run_nightly(settings)

    assert again.exit_code == 0 and not again.failures
    assert again.up_to_date == first.run_id and again.published is None
    assert "publish__quality_gate" not in again.step_seconds and "publish__snapshot" not in again.step_seconds
    assert sorted(p.name for p in runs.iterdir()) == before  # no new run folder
    assert (Path(settings.publish_dir) / "current").resolve() == current
    log = again.log.read_text(encoding="utf-8")
    assert "nothing new since the publication in force: the files in force, as_of 2024-01-31" in log
    # the fingerprint is published, and a rerun under another as_of or with --force is not skipped
    # (test_a_reader_during_a_run…, test_a_run_stopped_before_its_switch…)
    con = duckdb.connect(str(_snapshot(settings)), read_only=True)
    try:
        recorded = con.execute(f"select distinct as_of, length(inputs_fingerprint) from {SCHEMA}.publication")
        assert [(str(d), n) for d, n in recorded.fetchall()] == [("2024-01-31", 64)]
    finally:
        con.close()


def test_a_run_stopped_before_its_switch_leaves_no_false_report_and_no_half_built_snapshot(
    published, tmp_path, monkeypatch
):
    from dagster_project.publish import assets as publish_assets

    settings = _copy(published, tmp_path, SAMPLE, force=True)  # same inputs: only --force reruns them
    runs = Path(settings.publish_dir) / "runs"
    stale = runs / ".killed-run.building"
    (stale / "parquet").mkdir(parents=True)  # what a run killed mid-publication leaves
    current = (Path(settings.publish_dir) / "current").resolve()

    def stopped(*_args, **_kwargs):
        raise RuntimeError("stopped before the switch")

    monkeypatch.setattr(publish_assets, "publish", stopped)
    report = run_nightly(settings)

    assert report.exit_code == 1 and report.published is None
    assert (Path(settings.publish_dir) / "current").resolve() == current
    assert not stale.exists()
    page = (runs / report.run_id / "docs" / "quality.html").read_text(encoding="utf-8")
    assert "发布内容保持不变" in page and "本次运行已发布" not in page  # not published, and says so


def test_the_gate_catches_a_duplicated_unit_and_a_rank_gap_by_dbt_and_an_id_number_by_gx(published, tmp_path):
    """Each invariant has one check: grain and gapless ranks are dbt tests, the personal-data scan
    is Great Expectations; a broken warehouse fails exactly those."""
    _, settings, _ = published
    broken = tmp_path / "kaohe.duckdb"  # dbt's profile database name: its parse state is reused
    shutil.copy(settings.warehouse, broken)
    person = _sample_tables()["staffing.persons"].iloc[0]
    con = duckdb.connect(str(broken))
    con.execute("insert into marts.unit_scores select * from marts.unit_scores where unit_code = ?", [U2])
    con.execute("update marts.unit_scores set rank_overall = rank_overall + 10 where rank_overall = 6")
    con.execute("update marts.task_scores set title = ? where task_id = 'T101'", [person["id_number"]])
    con.close()
    done = run_dbt(
        ["test", "--select", "test_name:primary_key,unit_scores", "assert_ranks_are_gapless",
         "--vars", json.dumps({"as_of": settings.as_of})],
        broken, tmp_path / "target",
    )  # fmt: skip
    # one key shared by two rows; the duplicate breaks its category's and its group's ranks, and
    # the gap is in the same group: one failing category, one failing group
    assert done.returncode == 1, done.stdout[-3000:]
    assert "FAIL 1 primary_key_unit_scores " in done.stdout, done.stdout[-3000:]
    assert "FAIL 2 assert_ranks_are_gapless" in done.stdout, done.stdout[-3000:]
    outcomes = {s.name: s for s in run_suites(broken, pii_key())}
    assert [(e.frame, e.unexpected_count) for e in outcomes["personal_data"].failed] == [("personal_data_hits", 1)]
    assert outcomes["personal_data"].severity == "ERROR"
    # what GX checks of unit_scores (roster coverage, ranges) still holds: the duplicate is dbt's
    assert outcomes["unit_scores"].passed and outcomes["task_lights"].passed


def test_a_failed_gate_keeps_the_last_snapshot_byte_identical(published, tmp_path):
    tables = _sample_tables()
    person = tables["staffing.persons"].iloc[0]
    # a register name as a task title: ingestion hashes ID numbers in every cell, names only in the
    # staffing tables, so this one reaches the marts and only the gate can stop it
    tables["performance.tasks"].loc[0, "title"] = person["name"]
    delivery = tmp_path / "pii"
    write_delivery(tables, delivery)
    settings = _copy(published, tmp_path, delivery)
    before = _sha(_snapshot(settings))
    current = (Path(settings.publish_dir) / "current").resolve()

    report = run_nightly(settings)

    assert report.exit_code == 1 and report.published is None
    assert [c.name for c in report.failed_checks] == ["gx_personal_data"]
    assert "personal_data_hits: 1 rows" in report.failed_checks[0].description
    assert (Path(settings.publish_dir) / "current").resolve() == current
    assert _sha(_snapshot(settings)) == before
    assert report.report and report.report.exists() and "未通过（阻断）" in report.report.read_text(encoding="utf-8")


def test_a_reader_during_a_run_always_sees_one_whole_snapshot(published, tmp_path):
    settings = _copy(published, tmp_path, SAMPLE, as_of="2024-02-15")
    reader = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
            import sys, time, duckdb
            path, seen, reads = {str(_snapshot(settings))!r}, set(), 0
            deadline = time.time() + 120
            while time.time() < deadline:
                con = duckdb.connect(path, read_only=True)
                run = con.execute("select distinct run_id from marts.publication").fetchall()
                counts = con.execute("select table_name, row_count from marts.publication").fetchall()
                for table, rows in counts:
                    actual = con.execute(f"select count(*) from marts.{{table}}").fetchall()[0][0]
                    assert actual == rows, (table, actual, rows)
                con.close()
                assert len(run) == 1
                seen.add(run[0][0]); reads += 1
                if len(seen) == 2:
                    break
                time.sleep(0.05)
            print(len(seen), reads)
        """),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # a long-lived reader: a connection opened before the run keeps reading its snapshot whole;
    # a connection opened after it (DuckDB follows the `current` symlink) sees the new one
    long_lived = duckdb.connect(str(_snapshot(settings)), read_only=True)
    before = long_lived.execute("select distinct run_id from marts.publication").fetchall()
    report = run_nightly(settings)
    out, err = reader.communicate(timeout=180)
    assert report.exit_code == 0, (report.failures, report.failed_checks)
    assert long_lived.execute("select distinct run_id from marts.publication").fetchall() == before
    fresh = duckdb.connect(str(_snapshot(settings)), read_only=True)
    assert fresh.execute("select distinct run_id from marts.publication").fetchall() == [(report.run_id,)]
    fresh.close()
    long_lived.close()
    assert reader.returncode == 0, err
    runs_seen, reads = map(int, out.split())
    assert runs_seen == 2 and reads > 2


def test_a_final_ranking_is_kept_until_reopened_with_a_reason(published, tmp_path):
    tables = _sample_tables()
    reviews = tables["performance.reviews"]
    reviews.loc[reviews["unit_code"] == U2, "score"] = "60"  # U2's review corrected after publication
    delivery = tmp_path / "corrected"
    write_delivery(tables, delivery)
    settings = _copy(published, tmp_path, delivery)

    def scores():
        con = duckdb.connect(str(_snapshot(settings)), read_only=True)
        try:
            return con.execute("select unit_code, total_score, rank_in_category, grade from marts.unit_scores "
                               "order by unit_code").fetchall()  # fmt: skip
        finally:
            con.close()

    def query(sql):
        con = duckdb.connect(str(_snapshot(settings)), read_only=True)
        try:
            return con.execute(sql).fetchall()
        finally:
            con.close()

    before = scores()
    kept = run_nightly(settings)
    assert kept.exit_code == 0 and kept.published is not None
    assert any("final ranking of 2023 kept" in w for w in kept.warnings)
    assert scores() == before
    drift = query("select unit_code, published_total, would_be_total from marts.ranking_drift")
    assert [d[0] for d in drift] == [U2]
    assert float(drift[0][1]) == 72.77 and float(drift[0][2]) == 66.77  # 0.2·(60 − 90) = −6

    reopened = run_nightly(settings_for(tmp_path, delivery, reopen_year=2023, reopen_reason="复核更正评议分"))
    assert reopened.exit_code == 0 and not reopened.warnings
    after = dict((u, t) for u, t, _, _ in scores())
    assert float(after[U2]) == 66.77
    revisions = query("select revision, reason, units_changed from marts.ranking_revisions order by revision")
    assert revisions == [(1, "first year-end publication", 6), (2, "复核更正评议分", 1)]
    changed = query(
        "select unit_code, old_total, new_total, old_rank_in_category, new_rank_in_category "
        "from marts.ranking_revision_units where revision = 2 order by unit_code"
    )
    assert [(u, float(o), float(n), a, b) for u, o, n, a, b in changed] == [(U2, 72.77, 66.77, 5, 5)]
    assert query("select count(*) from marts.ranking_drift") == [(0,)]
