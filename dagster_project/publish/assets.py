"""The gate and the publication as Dagster assets: the gate collects every check of the run
and writes the quality report; publishing confirms that no blocking check failed (dbt tests
that are asset checks do not stop Python assets by themselves, dagster issue 25112) and then
switches the published snapshot."""

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource

from dagster_project.core.dbt_project import MANIFEST
from dagster_project.core.resources import KaoheSettings
from dagster_project.publish.retention import prune
from dagster_project.publish.snapshot import PublishResult, publish, remove_half_built
from dagster_project.quality.ranking_notice import notice_html, read_notice
from dagster_project.quality.report import (
    VERDICT_BLOCKED,
    VERDICT_PASSED_NOT_PUBLISHED,
    VERDICT_PUBLISHED,
    CheckOutcome,
    blocking_failures,
    read_in_force,
    report_path,
    run_check_outcomes,
    write_report,
)
from dagster_project.quality.suites import SuiteOutcome, load_suites, run_suites

GROUP = "publish"
GATE_KEY = dg.AssetKey(["publish", "quality_gate"])
SNAPSHOT_KEY = dg.AssetKey(["publish", "snapshot"])


LINEAGE_CACHE = MANIFEST.parent / "lineage"


def write_lineage_site(dbt: DbtCliResource, target: Path) -> Path:
    """dbt's docs as one self-contained page (lineage and every column's description), next to
    the snapshot it documents; it needs no internet. The page depends on the dbt project only
    (models, columns, descriptions), so it is generated once per manifest and copied after."""
    digest = hashlib.sha256(MANIFEST.read_bytes()).hexdigest()[:16]
    cached = LINEAGE_CACHE / f"{digest}.html"
    if not cached.exists():
        with tempfile.TemporaryDirectory(prefix="kaohe-docs-") as tmp:
            # The parsed manifest has the lineage and the docs; compiling every model again would
            # only add compiled SQL to the page, for twice the time.
            shutil.copyfile(MANIFEST, Path(tmp) / "manifest.json")
            invocation = dbt.cli(
                ["docs", "generate", "--static", "--no-compile"],
                target_path=Path(tmp),
                raise_on_error=True,
            )
            invocation.wait()
            LINEAGE_CACHE.mkdir(parents=True, exist_ok=True)
            staged = cached.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(Path(tmp) / "static_index.html", staged)
            os.replace(staged, cached)
        # pages of earlier versions of the dbt project (~3.5 MB each): the newest few are kept
        for old in sorted(LINEAGE_CACHE.glob("*.html"), key=lambda p: p.stat().st_mtime, reverse=True)[3:]:
            old.unlink(missing_ok=True)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(cached, target)
    return target


def describe(failures: list[CheckOutcome]) -> str:
    return "; ".join(
        f"{f.asset} · {f.name}" + (f" ({f.failing_rows:,} rows)" if f.failing_rows is not None else "")
        for f in failures
    )


SUITES = [suite["name"] for suite in load_suites()]


def gx_outcomes(suites: list[SuiteOutcome]) -> list[CheckOutcome]:
    """The suites' results in the quality report's terms, beside the dbt tests and ingest checks."""
    return [
        CheckOutcome(
            asset=GATE_KEY.to_user_string(),
            name=f"gx_{suite.name}",
            passed=suite.passed,
            severity=suite.severity,
            description=suite.summary(),
            failing_rows=sum(e.unexpected_count for e in suite.failed),
            source="great_expectations",
            facts=suite.facts(),
        )
        for suite in suites
    ]


def gx_check_results(suites: list[SuiteOutcome], outcomes: list[CheckOutcome]) -> Iterator[dg.AssetCheckResult]:
    for suite, outcome in zip(suites, outcomes, strict=True):
        yield dg.AssetCheckResult(
            check_name=outcome.name,
            passed=outcome.passed,
            severity=dg.AssetCheckSeverity.ERROR if outcome.severity == "ERROR" else dg.AssetCheckSeverity.WARN,
            description=outcome.description,
            metadata={
                "source": "great_expectations",
                "unexpected_count": outcome.failing_rows or 0,
                "expectations": len(suite.expectations),
                "detail": dg.MetadataValue.json(outcome.facts),
            },
        )


def run_gate(
    context: AssetExecutionContext, kaohe: KaoheSettings
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    for stale in remove_half_built(Path(kaohe.publish_dir)):
        context.log.warning(f"removed {stale}: a snapshot half built by a run that was stopped")
    suites = run_suites(Path(kaohe.warehouse), kaohe.pii_key())
    suite_outcomes = gx_outcomes(suites)
    outcomes = [*run_check_outcomes(context.instance, context.run.run_id), *suite_outcomes]
    failures = blocking_failures(outcomes)
    # "published" only once the snapshot is switched: the publishing step rewrites this page.
    verdict = VERDICT_BLOCKED if failures else VERDICT_PASSED_NOT_PUBLISHED
    run_id = context.run.run_id
    report = write_report(
        report_path(kaohe.publish_dir, run_id),
        run_id,
        outcomes,
        verdict,
        kaohe.as_of_text(),
        in_force=read_in_force(kaohe.warehouse),
        ranking=notice_html(read_notice(Path(kaohe.warehouse))),
    )
    yield dg.MaterializeResult(
        metadata={
            "checks": len(outcomes),
            "blocking_failures": len(failures),
            "report": dg.MetadataValue.path(str(report)),
        }
    )
    yield from gx_check_results(suites, suite_outcomes)


def publish_snapshot(context: AssetExecutionContext, kaohe: KaoheSettings, dbt: DbtCliResource) -> PublishResult:
    """The snapshot switched in, when no blocking check of the run failed; then the report says
    "published", and retention runs."""
    if kaohe.accept_incomplete_year is not None and not kaohe.accept_incomplete_reason.strip():
        raise dg.Failure(
            description=f"accept_incomplete_year {kaohe.accept_incomplete_year} needs accept_incomplete_reason: "
            "the acceptance is recorded with it; nothing was published",
            allow_retries=False,
        )
    outcomes = run_check_outcomes(context.instance, context.run.run_id)
    failures = blocking_failures(outcomes)
    if failures:
        raise dg.Failure(
            description=f"quality gate failed, the last good snapshot stays published: {describe(failures)}",
            allow_retries=False,
        )
    with kaohe.write() as con:
        fingerprint = kaohe.inputs_fingerprint(con)
    with kaohe.lock():  # nobody else writes the working warehouse while it is read
        docs = report_path(kaohe.publish_dir, context.run.run_id).parent
        try:
            write_lineage_site(dbt, docs / "lineage.html")
        except Exception as exc:  # documentation must not stop a publication that passed its gate
            context.log.warning(f"dbt docs were not generated, the snapshot is published without them: {exc}")
        result = publish(
            Path(kaohe.warehouse),
            Path(kaohe.publish_dir),
            context.run.run_id,
            reopen_year=kaohe.reopen_year,
            reason=kaohe.reopen_reason or None,
            only_year=kaohe.only_year,
            demo_key=kaohe.demo_key,
            as_of=kaohe.as_of_text(),
            inputs_fingerprint=fingerprint,
            accept_year=kaohe.accept_incomplete_year,
            accept_reason=kaohe.accept_incomplete_reason or None,
        )
    # what the published rankings rest on, as published (an accepted year is final there)
    notice = read_notice(result.run_dir / "kaohe.duckdb", Path(kaohe.warehouse))
    result.notice = notice.to_json()
    write_report(
        report_path(kaohe.publish_dir, context.run.run_id),
        context.run.run_id,
        outcomes,
        VERDICT_PUBLISHED,
        kaohe.as_of_text(),
        in_force=read_in_force(kaohe.warehouse),
        ranking=notice_html(notice),
    )
    with kaohe.lock():
        pruned = prune(Path(kaohe.publish_dir), Path(kaohe.warehouse), kaohe.keep)
    if pruned.removed_runs or pruned.pruned_loads:
        context.log.info(
            f"retention (keep {kaohe.keep}): removed {len(pruned.removed_runs)} run folder(s), "
            f"pruned {len(pruned.pruned_loads)} raw load(s) ({pruned.rows_deleted:,} rows)"
        )
    return result


def publication_metadata(context: AssetExecutionContext, result: PublishResult) -> dict:
    """The warnings a publication leaves (kept final rankings, notes) and what it wrote."""
    for year, units in result.kept_years.items():
        context.log.warning(
            f"final ranking of {year} kept: the latest data would change {units} unit(s); "
            f"see ranking_drift, and rerun with --reopen {year} --reason … to publish a revision"
        )
    for note in result.notes:
        context.log.warning(note)
    return {
        "snapshot": dg.MetadataValue.path(str(result.run_dir)),
        "kept_final_years": dg.MetadataValue.json({str(k): v for k, v in result.kept_years.items()}),
        "revisions": dg.MetadataValue.json({str(k): v for k, v in result.revisions.items()}),
        "accepted_incomplete": dg.MetadataValue.json({str(k): v for k, v in result.accepted.items()}),
        "ranking_notice": dg.MetadataValue.json(result.notice or {}),
        **{f"rows/{t}": n for t, n in result.tables.items()},
    }


def make_publish_assets(mart_keys: list[dg.AssetKey]) -> list[dg.AssetsDefinition]:
    @dg.asset(
        key=GATE_KEY,
        group_name=GROUP,
        deps=mart_keys,
        description="Runs the Great Expectations suites of expectations/ on the working marts (blocking "
        "checks), collects every other check of the run and writes the quality report "
        "(runs/<run_id>/docs/quality.html).",
        kinds={"python"},
        check_specs=[
            dg.AssetCheckSpec(f"gx_{name}", asset=GATE_KEY, blocking=True, description=f"expectations/{name}.json")
            for name in SUITES
        ],
    )
    def quality_gate(context: AssetExecutionContext, kaohe: KaoheSettings):
        yield from run_gate(context, kaohe)

    @dg.asset(
        key=SNAPSHOT_KEY,
        group_name=GROUP,
        deps=[GATE_KEY],
        description="The published snapshot <publish>/current: DuckDB (storage v1.0.0) and Parquet, "
        "switched atomically, only when every blocking check of the run passed.",
        kinds={"duckdb", "parquet"},
    )
    def published_snapshot(
        context: AssetExecutionContext, kaohe: KaoheSettings, dbt: DbtCliResource
    ) -> dg.MaterializeResult:
        result = publish_snapshot(context, kaohe, dbt)
        return dg.MaterializeResult(metadata=publication_metadata(context, result))

    return [quality_gate, published_snapshot]
