"""Dagster assets of the ingestion: one multi-asset per source system (one asset per table,
keyed like the dbt sources, so dbt lineage starts here), and the load bookkeeping with the
quarantine-share check."""

from pathlib import Path

import dagster as dg
import duckdb
from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource

from dagster_project.core.resources import KaoheSettings
from dagster_project.ingest.contracts import SYSTEMS, Contract, load_contracts
from dagster_project.ingest.deliveries import is_delivery, no_delivery_message, ready_deliveries
from dagster_project.ingest.load import (
    RAW,
    SystemLoad,
    SystemLoadError,
    TableLoad,
    applied_deliveries,
    delivered_at,
    ensure_schema,
    has_current_loads,
    load_system,
    raw_table,
)
from dagster_project.ingest.register_history import snapshot_register, snapshotted_systems

GROUP = "ingest"
LOADS_KEY = dg.AssetKey(["ingest", "loads"])
CURRENT_LOADS_KEY = dg.AssetKey(["ingest", "current_loads"])
QUARANTINE_KEY = dg.AssetKey(["ingest", "quarantine"])
QUARANTINE_SHARE_LIMIT = 0.05  # docs/sources.md: a file with a larger share rejected blocks publishing


def table_key(system: str, table: str) -> dg.AssetKey:
    return dg.AssetKey([system, table])


def _system_asset(system: str) -> dg.AssetsDefinition:
    contracts = [c for c in load_contracts().values() if c.system == system]

    @dg.multi_asset(name=f"ingest_{system}", specs=[_spec(contract) for contract in contracts], can_subset=False)
    def ingest(context: AssetExecutionContext, kaohe: KaoheSettings, dbt: DbtCliResource):
        pending = _pending_deliveries(kaohe, system)
        loaded: dict[str, dict] = {}
        kept: dict[str, str] = {}  # table → delivery that had the system folder but not its file
        for position, delivery in enumerate(pending, start=1):
            result = _load(kaohe, delivery, system)
            for missing in result.missing:
                kept[missing] = delivery.name
                context.log.warning(
                    f"{delivery.name}: no file for {missing}; its last delivered snapshot stays current"
                )
            for load in result.tables:
                loaded[load.table] = _load_metadata(delivery, load)
            if system in snapshotted_systems() and position < len(pending):
                # The dbt build after ingestion snapshots the last delivery; each earlier one
                # applied by this run is snapshotted now, dated by its delivery (History).
                at = delivered_at(delivery.name, result.applied_at)
                context.log.info(f"{delivery.name}: snapshotting the {system} register as delivered on {at}")
                snapshot_register(dbt, kaohe, at)
        for contract in contracts:
            yield dg.MaterializeResult(
                asset_key=table_key(system, contract.table),
                metadata=loaded.get(contract.name)
                or {"unchanged": True, **({"no_file_in": kept[contract.name]} if contract.name in kept else {})},
            )

    return ingest


def _spec(contract: Contract) -> dg.AssetSpec:
    system, table = contract.system, contract.table
    return dg.AssetSpec(
        key=table_key(system, table),
        group_name=GROUP,
        description=f"{contract.label}: every delivered load of {system}/{table}, contract-checked "
        f"(raw.{raw_table(contract)}); rejected rows go to the quarantine.",
        kinds={"python", "duckdb"},
        metadata={"contract": f"sources/contracts/{system}/{table}.yml", "key": ", ".join(contract.key)},
    )


def _pending_deliveries(kaohe: KaoheSettings, system: str) -> list[Path]:
    """The deliveries of the sources folder (one delivery, or an inbox of them) with a folder of
    `system` that this warehouse has not applied yet, oldest first; a clear failure when there is
    no sources folder, or no delivery and nothing loaded before."""
    sources = Path(kaohe.sources_dir)
    if not sources.is_dir():
        raise dg.Failure(description=f"sources folder {sources} does not exist", allow_retries=False)
    with kaohe.write() as con:
        done = set() if is_delivery(sources) else applied_deliveries(con, system)
        deliveries = ready_deliveries(sources)
        if not deliveries and not has_current_loads(con):
            raise dg.Failure(description=no_delivery_message(sources), allow_retries=False)
    return [d for d in deliveries if (d / system).is_dir() and d.name not in done]


def _load(kaohe: KaoheSettings, delivery: Path, system: str) -> SystemLoad:
    """Load `system`'s tables of one delivery; a refused load fails the asset with its message."""
    with kaohe.write() as con:
        try:
            return load_system(
                con,
                delivery,
                system,
                kaohe.pii_key(),
                accept_shrink=frozenset(kaohe.accept_shrink),
                min_rows_share=kaohe.min_rows_share,
            )
        except SystemLoadError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None


def _load_metadata(delivery: Path, load: TableLoad) -> dict:
    """The materialization metadata of one table's load: where from, rows, rejections by reason."""
    return {
        "delivery": delivery.name,
        "file": load.file,
        "load_id": load.load_id,
        "rows": load.rows,
        "accepted": load.accepted,
        "rejected": load.rejected,
        "violations": load.violations,
        "reused": load.reused,
        **{f"violations/{reason}": n for reason, n in sorted(load.reasons.items())},
    }


SYSTEM_ASSETS = [_system_asset(system) for system in SYSTEMS]


@dg.multi_asset(
    name="ingest_bookkeeping",
    specs=[
        dg.AssetSpec(
            LOADS_KEY,
            group_name=GROUP,
            description="raw.loads: one row per distinct delivered file.",
            deps=[table_key(c.system, c.table) for c in load_contracts().values()],
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            CURRENT_LOADS_KEY,
            group_name=GROUP,
            description="raw.current_loads: the load in force per table.",
            deps=[LOADS_KEY],
            kinds={"duckdb"},
        ),
        dg.AssetSpec(
            QUARANTINE_KEY,
            group_name=GROUP,
            description="raw.quarantine: one row per contract violation (docs/sources.md, Bad input).",
            deps=[LOADS_KEY],
            kinds={"duckdb"},
        ),
    ],
    can_subset=False,
)
def ingest_bookkeeping(kaohe: KaoheSettings):
    """Summarise what is in force after the system loads; written by them, recorded here."""
    with kaohe.write() as con:
        ensure_schema(con)
        tables = con.execute(
            f"select count(*), coalesce(sum(l.rows_rejected), 0) from {RAW}.current_loads c "
            f"join {RAW}.loads l using (load_id)"
        ).fetchall()[0]
        violations = con.execute(
            f"select reason, count(*) from {RAW}.quarantine join {RAW}.current_loads using (load_id) group by reason"
        ).fetchall()
    yield dg.MaterializeResult(asset_key=LOADS_KEY, metadata={"tables_in_force": tables[0]})
    yield dg.MaterializeResult(asset_key=CURRENT_LOADS_KEY, metadata={"tables_in_force": tables[0]})
    yield dg.MaterializeResult(
        asset_key=QUARANTINE_KEY,
        metadata={"rows_rejected": int(tables[1]), **{f"violations/{r}": n for r, n in sorted(violations)}},
    )


def quarantine_shares(con: duckdb.DuckDBPyConnection) -> list[tuple[str, int, int, float]]:
    """Per table in force: rows read, rows rejected, rejected share."""
    ensure_schema(con)
    return con.execute(
        f"select l.table_name, l.rows_read, l.rows_rejected, "
        f"case when l.rows_read = 0 then 0 else l.rows_rejected / l.rows_read end "
        f"from {RAW}.current_loads c join {RAW}.loads l using (load_id) order by l.table_name"
    ).fetchall()


def shares_over_limit(shares: list[tuple[str, int, int, float]]) -> list[dict]:
    """The tables over their contract's rejected share, each with its figures (the quality report
    words them in Chinese or English). A table blocks only with at least its contract's least
    number of rejected rows; with fewer it is a warning."""
    contracts = load_contracts()
    over = []
    for table, read, rejected, share in shares:
        contract = contracts.get(table)
        limit = contract.max_rejected_share if contract else QUARANTINE_SHARE_LIMIT
        least = contract.min_rejected_rows if contract else 1
        if share > limit:
            over.append(
                {"table": table, "label": contract.label if contract else table, "read": read, "rejected": rejected,
                 "share": share, "limit": limit, "least": least, "blocking": rejected >= least}
            )  # fmt: skip
    return over


def share_verdicts(shares: list[tuple[str, int, int, float]]) -> tuple[list[str], list[str]]:
    """The tables over their contract's rejected share, in words: (blocking, warnings)."""
    return _in_words(shares_over_limit(shares))


def _in_words(over: list[dict]) -> tuple[list[str], list[str]]:
    blocking, warnings = [], []
    for o in over:
        said = f"{o['table']}: {o['rejected']:,} of {o['read']:,} rows quarantined"
        said += f" ({o['share']:.1%}, over {o['limit']:.0%})"
        if o["blocking"]:
            blocking.append(said)
        else:
            warnings.append(f"{said}, fewer than {o['least']} rows: a warning")
    return blocking, warnings


@dg.asset_check(
    asset=QUARANTINE_KEY,
    name="quarantine_share_within_limit",
    description=f"No table in force has more than {QUARANTINE_SHARE_LIMIT:.0%} of its rows quarantined (a share "
    "and a least number of rows set per contract; a blocking check: publishing requires it).",
)
def quarantine_share_within_limit(kaohe: KaoheSettings) -> dg.AssetCheckResult:
    with kaohe.write() as con:
        shares = quarantine_shares(con)
    over = shares_over_limit(shares)
    blocking, warnings = _in_words(over)
    return dg.AssetCheckResult(
        passed=not blocking and not warnings,
        # Over the share with fewer rows than the least number: reported, not blocking.
        severity=dg.AssetCheckSeverity.ERROR if blocking else dg.AssetCheckSeverity.WARN,
        description="; ".join(blocking + warnings) or "every table under the limit",
        metadata={
            **{t: dg.MetadataValue.float(round(share, 6)) for t, _, _, share in shares},
            "detail": dg.MetadataValue.json({"over": over}),
        },
    )
