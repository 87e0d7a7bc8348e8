"""`kaohe generate --dirty`: inject every kind of contract violation at known positions.

The manifest is computed from what was injected (not by running the validator), so the
ingestion tests can compare the quarantine with an independent expectation: each injected row,
every row sharing an injected duplicate key, and each child rejected in turn because its
parent row was rejected (docs/sources.md, "Bad input").
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dagster_project.synthetic.generator import unit_code

HEADER_LINES = 1  # the first data row of a file is line 2
MANIFEST_COLUMNS = ["system", "table", "line", "column", "reason"]


@dataclass
class Injector:
    tables: dict[str, pd.DataFrame]
    rng: np.random.Generator
    manifest: list[tuple[str, int, str, str]] = field(default_factory=list)
    touched: dict[str, set[int]] = field(default_factory=dict)
    original: dict[str, pd.DataFrame] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.original = {k: v.copy() for k, v in self.tables.items()}

    def pick(self, name: str, allowed: np.ndarray | None = None) -> int:
        """A row of `name` not touched yet (and where `allowed`, if given)."""
        frame = self.tables[name]
        ok = np.ones(len(frame), dtype=bool) if allowed is None else allowed.copy()
        ok[list(self.touched.get(name, ()))] = False
        candidates = np.flatnonzero(ok)
        if not len(candidates):
            raise ValueError(f"no row of {name} left to inject into; generate a larger scale")
        return int(self.rng.choice(candidates))

    def record(self, name: str, row: int, column: str, reason: str) -> None:
        self.touched.setdefault(name, set()).add(row)
        self.manifest.append((name, row, column, reason))

    def set(
        self,
        name: str,
        column: str,
        value: str,
        reason: str,
        allowed: np.ndarray | None = None,
        reported_column: str | None = None,
    ) -> int:
        row = self.pick(name, allowed)
        self.tables[name].loc[row, column] = value
        self.record(name, row, reported_column or column, reason)
        return row

    def duplicate(self, name: str, key: list[str], changes: dict[str, str], allowed: np.ndarray | None = None) -> int:
        """Append a copy of a row (with `changes`); both rows share the key."""
        row = self.pick(name, allowed)
        frame = self.tables[name]
        copy = frame.iloc[[row]].copy()
        for column, value in changes.items():
            copy[column] = value
        self.tables[name] = frame = pd.concat([frame, copy], ignore_index=True)
        for r in (row, len(frame) - 1):
            self.record(name, r, "+".join(key), "duplicate_key")
        return row

    def cascade(self, parent: str, parent_key: str, child: str, child_key: str) -> None:
        """Children of rejected parent rows are rejected in turn (`dangling_reference`)."""
        parents = self.tables[parent]
        rejected_rows = sorted(self.touched.get(parent, ()))
        lost = self.touched_keys(parent, parent_key) - set(parents.drop(index=rejected_rows)[parent_key])
        children = self.tables[child]
        mine = self.touched.get(child, set())
        for row in np.flatnonzero(children[child_key].isin(lost).to_numpy()):
            if int(row) in mine:
                raise AssertionError(f"{child} row {row} was injected and also orphaned")
            self.record(child, int(row), child_key, "dangling_reference")

    def outside(self, child: str, column: str, parent: str, parent_key: str) -> np.ndarray:
        """Rows of `child` whose parent was not touched (to keep one violation per row)."""
        return ~self.tables[child][column].isin(self.touched_keys(parent, parent_key)).to_numpy()

    def touched_keys(self, name: str, key: str) -> set[str]:
        """Keys of touched rows, as injected and as they were before (children cite the latter)."""
        rows = sorted(self.touched.get(name, ()))
        before = self.original[name]
        return set(self.tables[name].loc[rows, key]) | set(before.loc[[r for r in rows if r < len(before)], key])


def inject(tables: dict[str, pd.DataFrame], seed: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """Return dirty copies of `tables` and the manifest of rows the contracts must reject."""
    inj = Injector({k: v.copy() for k, v in tables.items()}, np.random.default_rng([seed, 7]))
    units, est, div, persons = (
        "staffing.units",
        "staffing.establishment",
        "staffing.divisions",
        "staffing.persons",
    )
    tasks, progress = "performance.tasks", "performance.progress"

    # Parents first: their rejection orphans children, which the manifest must list too.
    row = inj.pick(units)
    code = inj.tables[units].loc[row, "unit_code"]
    inj.tables[units].loc[row, "unit_code"] = code[:17] + ("0" if code[17] != "0" else "1")
    inj.record(units, row, "unit_code", "bad_check_character")
    inj.set(units, "admin_level", "township", "unknown_value")
    inj.set(units, "region_code", "990100", "unknown_value")
    inj.set(units, "unit_name", "", "missing_required")

    inj.set(tasks, "difficulty", "2.0", "out_of_range")
    inj.set(
        tasks,
        "milestone_q2",
        "5",
        "bad_milestones",
        reported_column="milestone_q1+milestone_q2+milestone_q3+milestone_q4",
        allowed=(
            inj.tables[tasks]["milestone_q1"].isin(["10", "15", "20", "25", "30"])
            & (inj.tables[tasks]["milestone_q2"] != "")
        ).to_numpy(),
    )
    inj.set(tasks, "target_value", "0", "out_of_range")
    inj.set(tasks, "indicator_code", "culture", "unknown_value")
    inj.duplicate(tasks, ["task_id"], {"title": "重复报送的任务"})

    inj.cascade(units, "unit_code", est, "unit_code")
    inj.cascade(units, "unit_code", div, "unit_code")
    inj.cascade(units, "unit_code", persons, "unit_code")
    inj.cascade(tasks, "task_id", progress, "task_id")

    # Children: only rows whose parent is untouched, so each row has exactly one violation.
    est_ok = inj.outside(est, "unit_code", units, "unit_code")
    inj.set(est, "approved_count", "十二", "bad_type", est_ok)
    inj.set(est, "approved_count", "-3", "out_of_range", est_ok)
    inj.set(est, "effective_from", "2019/03/01", "bad_format", est_ok)
    row = inj.pick(est, est_ok & (inj.tables[est]["effective_to"] == "").to_numpy())
    inj.tables[est].loc[row, "effective_to"] = "2001-01-01"
    inj.record(est, row, "effective_to", "bad_interval")
    inj.duplicate(est, ["unit_code", "staffing_type", "effective_from"], {"approved_count": "99"}, est_ok)

    div_ok = inj.outside(div, "unit_code", units, "unit_code")
    stranger = unit_code("320100", "agency", 99_999_999)
    inj.set(div, "unit_code", stranger, "dangling_reference", div_ok)
    inj.set(div, "effective_from", "2021-02-30", "bad_type", div_ok)

    per_ok = inj.outside(persons, "unit_code", units, "unit_code")
    row = inj.pick(persons, per_ok)
    number = inj.tables[persons].loc[row, "id_number"]
    inj.tables[persons].loc[row, "id_number"] = number[:17] + ("0" if number[17] != "0" else "1")
    inj.record(persons, row, "id_number", "bad_check_character")
    inj.set(persons, "gender", "未知", "unknown_value", per_ok)  # 男/女 are labels the contract accepts
    row = inj.pick(persons, per_ok & (inj.tables[persons]["exit_date"] == "").to_numpy())
    inj.tables[persons].loc[row, "exit_date"] = "1980-01-01"
    inj.record(persons, row, "exit_date", "bad_interval")

    inj.set("finance.budget", "func_code", "20101", "bad_format")
    inj.set("finance.budget", "budget_amount", "123.456", "bad_format")
    inj.set("finance.budget", "budget_amount", "abc", "bad_type")
    inj.set("finance.execution", "month", "13", "out_of_range")
    inj.duplicate("finance.execution", ["fiscal_year", "month", "unit_code", "func_code", "econ_code"], {})
    inj.set("finance.perf_goals", "met", "maybe", "bad_type")

    inj.set("performance.roster", "category", "culture", "unknown_value")
    inj.set("performance.duties", "is_core", "Y", "bad_type")
    inj.set("performance.duties", "duty_text", "", "missing_required")
    prog_ok = inj.outside(progress, "task_id", tasks, "task_id")
    inj.set(progress, "task_id", "T-NOPE", "dangling_reference", prog_ok)
    inj.set(progress, "verified_status", "unknown", "unknown_value", prog_ok)
    inj.set(progress, "actual_pct", "120", "out_of_range", prog_ok)
    inj.set(progress, "reported_on", "2023-13-01", "bad_type", prog_ok)
    inj.set("performance.reviews", "score", "101", "out_of_range")
    inj.set("performance.awards", "level", "world", "unknown_value")
    inj.set("performance.incidents", "points", "-1", "out_of_range")

    manifest = pd.DataFrame(
        [(*name.split("."), row + 1 + HEADER_LINES, column, reason) for name, row, column, reason in inj.manifest],
        columns=MANIFEST_COLUMNS,
    ).sort_values(["system", "table", "line", "reason"], ignore_index=True)
    return inj.tables, manifest
