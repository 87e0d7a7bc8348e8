"""The run history's event log (dagster_project/core/event_log.py): what it stores is what Dagster's
own SQLite storage reads, and it keeps only a few database engines open."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg
import pytest
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from dagster_project.core import event_log
from dagster_project.core.resources import KaoheSettings
from dagster_project.runner import INSTANCE_CONFIG, dagster_instance


@dg.asset
def planted() -> int:
    return 1


@dg.asset_check(asset=planted)
def planted_is_one() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@pytest.fixture
def instance(tmp_path, monkeypatch):
    """The persistent instance `kaohe run` records its runs in (runner.dagster_instance)."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    settings = KaoheSettings(
        sources_dir=str(tmp_path / "in"), warehouse=str(tmp_path / "w.duckdb"), publish_dir=str(tmp_path / "pub")
    )
    with dagster_instance(settings) as instance:
        yield instance


def test_runs_are_stored_where_and_as_dagsters_own_storage_reads_them(instance, tmp_path, monkeypatch):
    assert isinstance(instance.event_log_storage, event_log.KaoheSqliteEventLogStorage)
    run_ids = []
    for _ in range(event_log.OPEN_ENGINES + 2):
        result = dg.materialize([planted, planted_is_one], instance=instance)
        assert result.success
        run_ids.append(result.run_id)
    # never more than a few engines open, however many runs this process records
    assert len(instance.event_log_storage._engines) <= event_log.OPEN_ENGINES
    # the folder as `dagster dev`, the daemon's runs or a script open it (its dagster.yaml, without
    # DAGSTER_HOME set): the same storage, at the folder's absolute path
    monkeypatch.delenv("DAGSTER_HOME")
    with dg.DagsterInstance.from_config(str(tmp_path)) as reader:
        assert type(reader.event_log_storage) is event_log.KaoheSqliteEventLogStorage
        assert reader.event_log_storage._base_dir == str(tmp_path.resolve() / "history" / "runs")
        assert {r.run_id for r in reader.get_runs()} == set(run_ids)
    # and Dagster's default storage reads the same runs from the same files
    plain = SqliteEventLogStorage(str(tmp_path / "history" / "runs"))
    for run_id in run_ids:
        ours = instance.all_logs(run_id)
        theirs = plain.get_logs_for_run(run_id)
        assert [e.dagster_event_type for e in ours] == [e.dagster_event_type for e in theirs]
        assert any(e.dagster_event_type == dg.DagsterEventType.RUN_SUCCESS for e in theirs)
    # the index shard has the materializations and check results, for the UI's asset pages
    materialized = instance.get_latest_materialization_event(dg.AssetKey("planted"))
    assert materialized is not None and materialized.run_id == run_ids[-1]
    checks = plain.get_asset_check_execution_history(
        dg.AssetCheckKey(dg.AssetKey("planted"), "planted_is_one"), limit=100
    )
    assert len(checks) == len(run_ids)


def test_wipe_closes_the_engines_before_the_files_go(instance, tmp_path):
    result = dg.materialize([planted], instance=instance)
    storage = instance.event_log_storage
    assert storage._engines
    storage.wipe()
    # the run's shard is closed and gone (the index shard, emptied by the wipe, is open again)
    assert result.run_id not in storage._engines and set(storage._engines) <= {"index"}
    assert not (tmp_path / "history" / "runs" / f"{result.run_id}.db").exists()
    assert dg.materialize([planted], instance=instance).success  # and it records again


def test_an_instance_with_its_own_storage_keeps_it(tmp_path, monkeypatch):
    """A dagster.yaml that chooses the storage (Postgres in production, here SQLite at another
    folder) is used as it is: kaohe does not put its event log beside it."""
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    elsewhere = tmp_path / "elsewhere"
    (tmp_path / "dagster.yaml").write_text(f"storage:\n  sqlite:\n    base_dir: {elsewhere}\n", encoding="utf-8")
    with dagster_instance(_settings(tmp_path)) as instance:
        assert not isinstance(instance.event_log_storage, event_log.KaoheSqliteEventLogStorage)
        assert dg.materialize([planted], instance=instance).success
    assert list(elsewhere.rglob("*.db")) and not (tmp_path / "history").exists()


def _settings(tmp_path) -> KaoheSettings:
    return KaoheSettings(
        sources_dir=str(tmp_path / "in"), warehouse=str(tmp_path / "w.duckdb"), publish_dir=str(tmp_path / "pub")
    )


def test_a_home_seeded_before_or_moved_records_in_its_own_folder(tmp_path, monkeypatch):
    """A DAGSTER_HOME seeded before dagster.yaml named the storage, or moved after it was seeded
    (its dagster.yaml names the old path): `kaohe run` records through it in the folder it is in."""
    before = tmp_path / "before"
    before.mkdir()
    (before / "dagster.yaml").write_text("concurrency:\n  runs:\n    max_concurrent_runs: 1\n", encoding="utf-8")
    event_log.seed_dagster_home(tmp_path / "seeded", INSTANCE_CONFIG)
    assert "event_log_storage" not in (before / "dagster.yaml").read_text(encoding="utf-8")  # never rewritten
    (tmp_path / "seeded").rename(tmp_path / "moved")
    for home in (before, tmp_path / "moved"):
        monkeypatch.setenv("DAGSTER_HOME", str(home))
        with dagster_instance(_settings(tmp_path)) as instance:
            assert isinstance(instance.event_log_storage, event_log.KaoheSqliteEventLogStorage)
            assert instance.event_log_storage._base_dir == str(home.resolve() / "history" / "runs")
            run = dg.materialize([planted], instance=instance).run_id
        assert (home / "history" / "runs" / f"{run}.db").exists()
    assert not (tmp_path / "seeded").exists()


def test_make_dev_seeds_a_home_dagster_itself_opens_with_this_storage(tmp_path):
    """`make dev` writes dagster.yaml with `python -m dagster_project.core.event_log`; Dagster (here
    `from_config`, as the webserver and the daemon's runs do) then imports the storage from it."""
    subprocess.run([sys.executable, "-m", "dagster_project.core.event_log", str(tmp_path / "home")], check=True)
    with dg.DagsterInstance.from_config(str(tmp_path / "home")) as instance:
        assert type(instance.event_log_storage) is event_log.KaoheSqliteEventLogStorage
        assert dg.materialize([planted], instance=instance).success
    assert list((tmp_path / "home" / "history" / "runs").glob("*.db"))
