"""The console script end to end: `kaohe run` on the sample, then `kaohe explain` of a unit."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from dagster_project.core.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e
KAOHE = str(Path(sys.executable).with_name("kaohe"))


def test_run_then_explain_from_the_published_snapshot(tmp_path, dbt_manifest):
    publish = tmp_path / "published"
    run = subprocess.run(
        [KAOHE, "run", "--sources", str(PROJECT_ROOT / "sources" / "sample"), "--warehouse",
         str(tmp_path / "kaohe.duckdb"), "--publish", str(publish), "--as-of", "2024-01-31", "--demo-key"],
        capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},  # piped, no COLUMNS: as in a CI log
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "published:" in run.stdout and "performance.tasks" in run.stdout
    # piped output is not cut at 80 columns: each path stays whole on its line
    lines = run.stdout.splitlines()
    done = next(line for line in lines if line.startswith("run succeeded in "))
    log = Path(done.split("dbt and Dagster log: ")[1])
    assert log.is_file() and log.parent == tmp_path / "logs"
    published = next(line for line in lines if line.startswith("published: "))
    assert str(publish / "runs") in published and published.endswith("quality.html)")
    # the demo key's warning: once, in kaohe's words, never Python's raw `file:line: UserWarning`
    assert "UserWarning" not in run.stdout + run.stderr
    assert (run.stdout + run.stderr).count("hashed with the public demo key") == 1
    # the run log's times carry their UTC offset; Python warnings of the run went there
    text = log.read_text(encoding="utf-8")
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4} INFO ", text, re.MULTILINE)
    assert "WARNING UserWarning: personal data are hashed with the public demo key" in text
    # the run is recorded in the Dagster instance beside the warehouse (what `dagster dev` shows)
    import dagster as dg

    with dg.DagsterInstance.from_config(str(tmp_path / "dagster")) as instance:
        (record,) = instance.get_run_records()
        assert record.dagster_run.job_name == "nightly" and record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
        checks = instance.get_records_for_run(
            record.dagster_run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=1000
        ).records
        results = [c.event_log_entry.dagster_event.event_specific_data for c in checks]
        assert len(results) > 100
        # the sample's two known findings are warnings (severity WARN), everything else passed
        assert sorted(r.check_name for r in results if not r.passed) == ["gx_efficiency", "gx_sources"]
    con = duckdb.connect(str(publish / "kaohe.duckdb"), read_only=True)
    try:
        assert con.execute("select distinct pii_key from marts.publication").fetchall() == [("demo",)]
    finally:
        con.close()
    explain = subprocess.run(
        [KAOHE, "explain", "11320100100000040W", "--year", "2023", "--publish", str(publish), "--lang", "en"],
        capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    assert explain.returncode == 0, explain.stderr
    out = explain.stdout
    assert "total 82.47" in out and "T403" in out and "宁编〔2023〕9号" in out
    # the grade-1 places come from unit_scores.grade1_slots: floor(0.3 · 5 units of its category) = 1
    assert "grade 1: within the category's grade-1 places (1 = floor(0.3·5))" in out
    chinese = subprocess.run(  # Chinese by default
        [KAOHE, "explain", "11320100100000040W", "--year", "2023", "--publish", str(publish)],
        capture_output=True, text=True, env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    ).stdout  # fmt: skip
    assert "南京市丁局（11320100100000040W）· 2023年度 · 考核组别 南京市（320100）" in chinese
    assert "总分 82.47" in chinese and "T403" in chinese and "宁编〔2023〕9号" in chinese
    assert "等次：一等：类别内1个一等名额之内（一等名额 = 0.3 × 5，向下取整）" in chinese
    assert "编制信号 核减评估候选：工作饱满度 0.286 低于 0.6（24 人月，在编 7 人）" in chinese  # 24 / (12 · 7)
    missing = subprocess.run(
        [KAOHE, "explain", "NOPE", "--year", "2023", "--publish", str(publish)], capture_output=True, text=True
    )
    assert missing.returncode == 2 and "no published score of NOPE" in missing.stderr
    reopen = subprocess.run([KAOHE, "run", "--reopen", "2023"], capture_output=True, text=True)
    assert reopen.returncode == 2 and "--reason" in reopen.stderr


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "KAOHE_PII_KEY is not set"),
        ("short-key", "has 9 bytes, fewer than 32"),
        ("kaohe-demo-key-not-for-production", "is the public demo key"),
    ],
)
def test_run_refuses_to_start_without_a_real_key(tmp_path, key, message):
    env = {"PATH": "/usr/bin:/bin", **({"KAOHE_PII_KEY": key} if key else {})}
    run = subprocess.run(
        [KAOHE, "run", "--sources", str(PROJECT_ROOT / "sources" / "sample"),
         "--warehouse", str(tmp_path / "k.duckdb")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert run.returncode == 2
    assert message in run.stderr and "secrets.token_hex(32)" in run.stderr and "--demo-key" in run.stderr
    assert not (tmp_path / "k.duckdb").exists()  # nothing was read or written


def test_prune_checks_its_option_and_reports_what_it_removed(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    bad = subprocess.run([KAOHE, "prune", "--keep", "0"], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "--keep must be at least 1" in bad.stderr
    stale = tmp_path / "published" / "runs" / "old-failed-run" / "docs"
    stale.mkdir(parents=True)
    (stale / "quality.html").write_text("blocked")  # a run that finished (a folder without one was killed)
    done = subprocess.run(
        [KAOHE, "prune", "--keep", "3", "--warehouse", str(tmp_path / "kaohe.duckdb"),
         "--publish", str(tmp_path / "published")],
        capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # fewer publications than --keep: even the report of a failed run stays
    assert "removed 0 run folder(s)" in done.stdout and "pruned 0 raw load(s)" in done.stdout and stale.exists()


def test_version_and_help_with_the_resolved_default_paths(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "KAOHE_WAREHOUSE": str(tmp_path / "w" / "kaohe.duckdb")}
    version = subprocess.run([KAOHE, "--version"], capture_output=True, text=True, env=env)
    assert version.returncode == 0 and re.fullmatch(r"kaohe \d+\.\d+\.\d+\n", version.stdout)
    shown = subprocess.run([KAOHE, "run", "--help"], capture_output=True, text=True, env={**env, "COLUMNS": "250"})
    assert shown.returncode == 0
    assert f"KAOHE_WAREHOUSE, now {tmp_path / 'w' / 'kaohe.duckdb'}" in shown.stdout
    assert "KAOHE_PUBLISH_DIR, now /" in shown.stdout and "today in Asia/Shanghai" in shown.stdout
