"""Run the Great Expectations suites of `expectations/*.json` against the working warehouse.

GX's SQL datasource is broken on DuckDB (GX 1.24, issues 10738/11579), so each frame is read
from DuckDB into pandas and validated there. Suite files hold expectations only; values of the
methodology enter as GX suite parameters ({"$PARAMETER": name}) read from the seeds at run time.
An expectation's `meta.severity` may be `warn` (a business finding); the default is `error`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from dagster_project.core.settings import PROJECT_ROOT
from dagster_project.quality.frames import parameters, read_frame

SUITES_DIR = PROJECT_ROOT / "expectations"


@dataclass
class ExpectationOutcome:
    frame: str
    type: str
    column: str
    success: bool
    severity: str
    unexpected_count: int
    units: tuple[str, ...] = ()  # the units of the unexpected rows ("name（code）"), when the frame has unit_code
    zh: str = ""  # what it expects in Chinese words (the expectation's meta.zh)


@dataclass
class SuiteOutcome:
    name: str
    description: str
    expectations: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def failed(self) -> list[ExpectationOutcome]:
        return [e for e in self.expectations if not e.success]

    @property
    def severity(self) -> str:
        """ERROR when an error-severity expectation failed, else WARN."""
        return "ERROR" if any(e.severity == "error" for e in self.failed) else "WARN"

    @property
    def passed(self) -> bool:
        return not self.failed

    def facts(self) -> dict:
        """The outcome as the quality report words it in either language (report.check_detail):
        how many expectations were met, or each unmet one with its rows and units."""
        if not self.failed:
            return {"met": len(self.expectations)}
        return {
            "failed": [
                {"type": e.type, "column": e.column, "frame": e.frame, "rows": e.unexpected_count,
                 "warn": e.severity != "error", "units": list(e.units), "zh": e.zh}
                for e in self.failed
            ]
        }  # fmt: skip

    def summary(self) -> str:
        if not self.failed:
            return f"{len(self.expectations)} expectations met"
        return "; ".join(
            f"{e.type}({e.column}) on {e.frame}: {e.unexpected_count:,} rows"
            + (" [warn]" if e.severity != "error" else "")
            + (
                f" — 单位 units: {', '.join(e.units[:10])}"
                + (f" … (+{len(e.units) - 10})" if len(e.units) > 10 else "")
                if e.units
                else ""
            )
            for e in self.failed
        )


def unexpected_units(frame: pd.DataFrame, kind: str, kwargs: dict) -> tuple[str, ...]:
    """The units a failed expectation is about, named: those of its unexpected rows (values not in the
    set, nulls), or every unit of the frame for a whole-table expectation (a row count); none when the
    frame has no unit_code or the expectation's rows cannot be told here."""
    if "unit_code" not in frame:
        return ()
    column = kwargs.get("column")
    if kind == "expect_column_values_to_be_in_set" and column in frame:
        rows = frame[~frame[column].isin(list(kwargs.get("value_set", [])))]
    elif kind == "expect_column_values_to_not_be_null" and column in frame:
        rows = frame[frame[column].isna()]
    elif column is None and "column_list" not in kwargs:
        rows = frame
    else:
        return ()
    named = rows.drop_duplicates("unit_code").sort_values("unit_code")
    names = named["unit_name"] if "unit_name" in named else pd.Series(None, index=named.index)
    return tuple(
        f"{name}（{code}）" if isinstance(name, str) and name else str(code)
        for code, name in zip(named["unit_code"], names, strict=True)
    )


def load_suites(directory: Path = SUITES_DIR) -> list[dict]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(directory.glob("*.json"))]


def run_suites(warehouse: Path, pii_key: bytes) -> list[SuiteOutcome]:
    import great_expectations as gx  # a heavy import: only when the gate runs
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # they would flood the run log
    source = context.data_sources.add_pandas("kaohe")
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        values = parameters(con)
        frames = {}
        outcomes = []
        for spec in load_suites():
            outcome = SuiteOutcome(spec["name"], spec.get("description", ""))
            by_frame: dict[str, list[dict]] = {}
            for expectation in spec["expectations"]:
                by_frame.setdefault(expectation["frame"], []).append(expectation)
            for frame_name, expectations in by_frame.items():
                if frame_name not in frames:
                    frames[frame_name] = read_frame(con, frame_name, pii_key)
                suite = gx.ExpectationSuite(name=f"{spec['name']}.{frame_name}")
                for expectation in expectations:
                    suite.add_expectation_configuration(
                        ExpectationConfiguration(
                            type=expectation["type"], kwargs=expectation["kwargs"], meta=expectation.get("meta", {})
                        )
                    )
                suite = context.suites.add(suite)
                asset = source.add_dataframe_asset(f"{spec['name']}.{frame_name}")
                batch = asset.add_batch_definition_whole_dataframe("all").get_batch(
                    batch_parameters={"dataframe": frames[frame_name]}
                )
                result = batch.validate(suite, expectation_parameters=values)
                for item in result.results:
                    config = item.expectation_config
                    kwargs = config.kwargs
                    units = () if item.success else unexpected_units(frames[frame_name], config.type, dict(kwargs))
                    outcome.expectations.append(
                        ExpectationOutcome(
                            frame=frame_name,
                            type=config.type,
                            column=str(kwargs.get("column") or ",".join(kwargs.get("column_list", [])) or "rows"),
                            success=bool(item.success),
                            severity=str((config.meta or {}).get("severity", "error")),
                            unexpected_count=int(
                                (item.result or {}).get("unexpected_count")
                                or (item.result or {}).get("observed_value")
                                or 0
                            )
                            if not item.success
                            else 0,
                            units=units,
                            zh=str((config.meta or {}).get("zh", "")),
                        )
                    )
            outcomes.append(outcome)
        return outcomes
    finally:
        con.close()
