"""Data envelopment analysis (数据包络分析, docs/methodology.md §12): each decision unit compared with
the best combinations of its peers, by linear programs that scipy's HiGHS solves.

Envelopment form, for unit o with inputs x (k) and outputs y (l) of the n units:
- input orientation: min θ  s.t.  Σ λ_j x_j ≤ θ x_o,  Σ λ_j y_j ≥ y_o,  λ ≥ 0;
- output orientation: max φ  s.t.  Σ λ_j x_j ≤ x_o,  Σ λ_j y_j ≥ φ y_o,  λ ≥ 0;
- variable returns to scale (BCC) adds Σ λ_j = 1; constant returns (CCR) does not.
A second phase keeps θ* (or φ*) and maximises the sum of the slacks s⁻ (inputs) and s⁺ (outputs),
each measure divided by its mean over the units (so that yuan do not outweigh posts):
Σ λ x + s⁻ = θ* x_o (x_o for output orientation), Σ λ y − s⁺ = y_o (φ* y_o). Its λ > 1e-9 are the
peers (efficient units); targets are θ*·x − s⁻ and y + s⁺ (input) or x − s⁻ and φ*·y + s⁺ (output).
Efficiency is θ*, or 1/φ* for output orientation, in (0, 1].

Used by `kaohe dea` on any table (`dea_table`) and by the dbt model of the mart unit_dea
(`dea_groups`)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import linprog

RTS = ("crs", "vrs")
ORIENTATIONS = ("input", "output")
PEER_MIN_LAMBDA = 1e-9  # docs/methodology.md §12: a peer has λ > 1e-9
# HiGHS returns 0.9999999999999987 for a unit on the frontier, and slacks of ±1e-13: solver noise
# within this relative distance is taken as the exact value (θ = 1, slack = 0).
NOISE = 1e-9
PHASE2_RELAXATION = (0.0, 1e-9, 1e-7)
METHOD = "highs"


class DeaError(Exception):
    """Input DEA cannot use, said in one sentence (the CLI prints it without a traceback)."""


@dataclass(frozen=True)
class DmuResult:
    """One decision unit under one model: efficiency in (0, 1], the optimal θ (input) or φ
    (output), peers (id → λ, efficient units with λ > 1e-9), slacks and targets per measure."""

    dmu: str
    efficiency: float
    score: float
    peers: dict[str, float]
    input_slacks: dict[str, float]
    output_slacks: dict[str, float]
    input_targets: dict[str, float]
    output_targets: dict[str, float]


def _check_model(rts: str, orientation: str) -> None:
    if rts not in RTS:
        raise DeaError(f"returns to scale must be one of {', '.join(RTS)}, not {rts!r}")
    if orientation not in ORIENTATIONS:
        raise DeaError(f"orientation must be one of {', '.join(ORIENTATIONS)}, not {orientation!r}")


def _solve(c, a_ub, b_ub, a_eq, b_eq, what: str, raise_infeasible: bool = True) -> np.ndarray | None:
    result = linprog(c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None), method=METHOD)
    if result.status == 2 and not raise_infeasible:
        return None
    if result.status != 0:
        raise DeaError(f"the linear program of {what} was not solved: {result.message}")
    return result.x


def evaluate(
    ids: Sequence[str],
    inputs: np.ndarray,
    outputs: np.ndarray,
    input_names: Sequence[str],
    output_names: Sequence[str],
    rts: str = "vrs",
    orientation: str = "input",
    second_phase: bool = True,
) -> list[DmuResult]:
    """Every unit of `ids` (rows of `inputs` n×k and `outputs` n×l, all > 0) against all of them.
    Without the second phase, only the efficiency (peers, slacks and targets are left empty)."""
    _check_model(rts, orientation)
    x = np.asarray(inputs, dtype=float)
    y = np.asarray(outputs, dtype=float)
    n, k = x.shape
    ids = [str(i) for i in ids]
    if n < 2:
        raise DeaError(f"DEA needs at least 2 units, got {n}")
    if not (np.isfinite(x).all() and np.isfinite(y).all() and (x > 0).all() and (y > 0).all()):
        raise DeaError("every input and output must be a number > 0")
    # Solved on each measure divided by its mean over the units (efficiency and λ do not depend on
    # the units of measure; slacks and targets are scaled back). With posts in tens and spend in
    # millions of yuan, the unscaled constraints sit at the solver's tolerances, and a sum of slacks
    # in their own units would only ever see yuan: phase 2 maximises the sum of the scaled slacks.
    x_scale, y_scale = x.mean(axis=0), y.mean(axis=0)
    xs, ys = x / x_scale, y / y_scale
    results = []
    for o in range(n):
        what = f"unit {ids[o]}"
        score = _radial_score(xs, ys, o, rts, orientation, what)
        if not second_phase:
            efficiency = score if orientation == "input" else 1.0 / score
            results.append(DmuResult(ids[o], min(1.0, efficiency), score, {}, {}, {}, {}, {}))
            continue
        z = _max_slacks(xs, ys, o, score, rts, orientation, what)
        lambdas, s_in, s_out = z[:n], _denoised(z[n : n + k] * x_scale, x[o]), _denoised(z[n + k :] * y_scale, y[o])
        if orientation == "input":
            efficiency, t_in, t_out = score, score * x[o] - s_in, y[o] + s_out
        else:
            efficiency, t_in, t_out = 1.0 / score, x[o] - s_in, score * y[o] + s_out
        results.append(
            DmuResult(
                dmu=ids[o],
                # θ* ≤ 1 and φ* ≥ 1 (λ_o = 1 is feasible): beyond is the solver's tolerance
                efficiency=min(1.0, efficiency),
                score=score,
                peers={ids[j]: float(lambdas[j]) for j in range(n) if lambdas[j] > PEER_MIN_LAMBDA},
                input_slacks=dict(zip(input_names, map(float, s_in), strict=True)),
                output_slacks=dict(zip(output_names, map(float, s_out), strict=True)),
                input_targets=dict(zip(input_names, map(float, t_in), strict=True)),
                output_targets=dict(zip(output_names, map(float, t_out), strict=True)),
            )
        )
    return results


def _radial_score(xs: np.ndarray, ys: np.ndarray, o: int, rts: str, orientation: str, what: str) -> float:
    """Phase 1 for unit `o` on the scaled measures: θ* (input orientation, min θ) or φ* (output,
    max φ) over z = [θ or φ, λ_1..λ_n]; a score within NOISE of 1 is 1."""
    n, k = xs.shape
    l = ys.shape[1]  # noqa: E741 — the textbook's l outputs
    if orientation == "input":
        c = np.r_[1.0, np.zeros(n)]
        a_ub = np.vstack([np.c_[-xs[o][:, None], xs.T], np.c_[np.zeros((l, 1)), -ys.T]])
        b_ub = np.r_[np.zeros(k), -ys[o]]
    else:
        c = np.r_[-1.0, np.zeros(n)]
        a_ub = np.vstack([np.c_[np.zeros((k, 1)), xs.T], np.c_[ys[o][:, None], -ys.T]])
        b_ub = np.r_[xs[o], np.zeros(l)]
    a_eq = np.r_[0.0, np.ones(n)][None, :] if rts == "vrs" else None
    b_eq = np.array([1.0]) if rts == "vrs" else None
    score = float(_solve(c, a_ub, b_ub, a_eq, b_eq, what)[0])
    return 1.0 if abs(score - 1.0) <= NOISE else score


def _max_slacks(
    xs: np.ndarray, ys: np.ndarray, o: int, score: float, rts: str, orientation: str, what: str
) -> np.ndarray:
    """Phase 2 for unit `o`: z = [λ (n), s⁻ (k), s⁺ (l)] maximising the sum of the (scaled) slacks
    at the optimal θ* / φ* of phase 1."""
    n, k = xs.shape
    l = ys.shape[1]  # noqa: E741 — the textbook's l outputs
    weights = np.r_[np.zeros(n), np.ones(k + l)]
    a_eq = np.vstack([np.c_[xs.T, np.eye(k), np.zeros((k, l))], np.c_[ys.T, np.zeros((l, k)), -np.eye(l)]])
    if rts == "vrs":
        a_eq = np.vstack([a_eq, np.r_[np.ones(n), np.zeros(k + l)]])
    z = None
    for slack in PHASE2_RELAXATION:
        # θ* (φ*) as phase 1 found it is feasible only within the solver's tolerance: if the
        # equalities at exactly θ* are infeasible, θ* is loosened by a relative 1e-9, then 1e-7
        theta = score * (1 + slack) if orientation == "input" else score * (1 - slack)
        input_rhs = theta * xs[o] if orientation == "input" else xs[o]
        output_rhs = ys[o] if orientation == "input" else theta * ys[o]
        b_eq = np.r_[input_rhs, output_rhs, [1.0] if rts == "vrs" else []]
        last = slack == PHASE2_RELAXATION[-1]
        z = _solve(-weights, None, None, a_eq, b_eq, what + " (slacks)", raise_infeasible=last)
        if z is not None:
            break
    return z


def _denoised(slacks: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.where(slacks <= NOISE * np.maximum(1.0, scale), 0.0, slacks)


# --- kaohe dea: any table -------------------------------------------------------------------------


def read_table(path: Path) -> pd.DataFrame:
    """A CSV in UTF-8 (with or without a byte-order mark) or GB18030/GBK, every cell as text."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DeaError(f"cannot read {path}: {exc.strerror}") from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    for encoding in ("utf-8", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DeaError(f"{path} is not UTF-8 or GB18030/GBK text; save it as CSV in UTF-8 or GBK")
    from io import StringIO

    try:
        frame = pd.read_csv(StringIO(text), dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DeaError(f"{path} is not a readable CSV table: {str(exc).strip()}") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _measures(frame: pd.DataFrame, id_column: str, columns: Sequence[str], source: str) -> np.ndarray:
    values = np.empty((len(frame), len(columns)))
    for j, column in enumerate(columns):
        for i, text in enumerate(frame[column]):
            try:
                value = float(str(text).strip().replace(",", ""))
            except ValueError:
                value = math.nan
            if not (math.isfinite(value) and value > 0):
                raise DeaError(
                    f"{source}: {column} of {frame[id_column].iloc[i]} (line {i + 2}) is {str(text)!r}; "
                    "every input and output must be a number > 0"
                )
            values[i, j] = value
    return values


def dea_table(
    path: Path,
    id_column: str,
    inputs: Sequence[str],
    outputs: Sequence[str],
    rts: str = "vrs",
    orientation: str = "input",
) -> pd.DataFrame:
    """`kaohe dea`: the table's rows as decision units (at least 2, no group-size rule). Columns:
    dmu, efficiency, peers (`id:λ;…`), slack_<col> and target_<col> per input, then per output."""
    _check_model(rts, orientation)
    if not inputs or not outputs:
        raise DeaError("name at least one input (--inputs) and one output (--outputs)")
    named = [id_column, *inputs, *outputs]
    repeated = sorted({c for c in named if named.count(c) > 1})
    if repeated:
        raise DeaError(f"a column is named twice among --id, --inputs and --outputs: {', '.join(repeated)}")
    frame = read_table(path)
    missing = [c for c in named if c not in frame.columns]
    if missing:
        raise DeaError(f"{path.name} has no column {', '.join(missing)}; its columns are {', '.join(frame.columns)}")
    if len(frame) < 2:
        raise DeaError(f"{path.name} has {len(frame)} row(s); DEA needs at least 2 units")
    ids = [str(v).strip() for v in frame[id_column]]
    duplicated = sorted({i for i in ids if ids.count(i) > 1})
    if duplicated:
        raise DeaError(f"{path.name}: {id_column} repeats {', '.join(duplicated[:5])}; each unit needs its own id")
    x = _measures(frame, id_column, inputs, path.name)
    y = _measures(frame, id_column, outputs, path.name)
    results = evaluate(ids, x, y, inputs, outputs, rts, orientation)
    rows = []
    for r in results:
        row = {"dmu": r.dmu, "efficiency": r.efficiency, "peers": ";".join(f"{p}:{w:.6g}" for p, w in r.peers.items())}
        row |= {f"slack_{c}": r.input_slacks[c] for c in inputs}
        row |= {f"slack_{c}": r.output_slacks[c] for c in outputs}
        row |= {f"target_{c}": r.input_targets[c] for c in inputs}
        row |= {f"target_{c}": r.output_targets[c] for c in outputs}
        rows.append(row)
    return pd.DataFrame(rows)


def write_dea(frame: pd.DataFrame, out: Path) -> None:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese headers right."""
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False, encoding="utf-8-sig", lineterminator="\n")
    except OSError as exc:
        raise DeaError(f"cannot write {out}: {exc.strerror}") from None


# --- the mart unit_dea ----------------------------------------------------------------------------


def min_group_size(k: int, l: int) -> int:  # noqa: E741
    """docs/methodology.md §12: a group needs max(3·(k + l), k·l) decision units."""
    return max(3 * (k + l), k * l)


def dea_groups(measures: pd.DataFrame, model: pd.DataFrame) -> pd.DataFrame:
    """unit_dea from the long table `measures` (year, unit_code, group_code, category, measure,
    value: every ranked unit of a year-end ranking, a row per configured measure, value null when
    unknown) and `model` (year, measure, role input|output, measure_order, returns_to_scale,
    orientation). One row per unit: the inputs and outputs as used (JSON), CCR and BCC efficiency,
    scale efficiency, peers, slacks and targets of the configured model, or excluded_reason."""
    rows = []
    for year, config in model.groupby("year", sort=True):
        config = config.sort_values(["role", "measure_order"])
        input_names = list(config.loc[config.role == "input", "measure"])
        output_names = list(config.loc[config.role == "output", "measure"])
        rts = str(config.returns_to_scale.iloc[0])
        orientation = str(config.orientation.iloc[0])
        needed = min_group_size(len(input_names), len(output_names))
        year_measures = measures[measures.year == year]
        wide = (
            year_measures.set_index(["group_code", "category", "unit_code", "measure"])["value"]
            .astype(float)
            .unstack("measure")
            .reindex(columns=input_names + output_names)
        )
        for (group_code, category), group in wide.groupby(level=["group_code", "category"], sort=True):
            group = group.droplevel(["group_code", "category"]).sort_index()
            values = group.to_numpy(dtype=float)
            usable = np.isfinite(values).all(axis=1) & (np.nan_to_num(values, nan=0.0) > 0).all(axis=1)
            decision = group.index[usable]
            base = {"year": int(year), "group_code": group_code, "category": category,
                    "returns_to_scale": rts, "orientation": orientation}  # fmt: skip
            evaluated = len(decision) >= needed
            results = {}
            if evaluated:
                x = group.loc[decision, input_names].to_numpy(dtype=float)
                y = group.loc[decision, output_names].to_numpy(dtype=float)
                # peers, slacks and targets are those of the configured model only
                ccr = evaluate(list(decision), x, y, input_names, output_names, "crs", orientation, rts == "crs")
                bcc = evaluate(list(decision), x, y, input_names, output_names, "vrs", orientation, rts == "vrs")
                results = {c.dmu: (c, b) for c, b in zip(ccr, bcc, strict=True)}
            for unit_code in group.index:
                used = group.loc[unit_code]
                row = base | {
                    "unit_code": unit_code,
                    "inputs": json.dumps({m: _number(used[m]) for m in input_names}, ensure_ascii=False),
                    "outputs": json.dumps({m: _number(used[m]) for m in output_names}, ensure_ascii=False),
                    "decision_units": len(decision),
                    "min_decision_units": needed,
                }
                if unit_code in results:
                    c, b = results[unit_code]
                    chosen = b if rts == "vrs" else c
                    row |= {
                        "efficiency_crs": c.efficiency,
                        "efficiency_vrs": b.efficiency,
                        "scale_efficiency": c.efficiency / b.efficiency,
                        "peers": json.dumps(chosen.peers),
                        "slacks": json.dumps(chosen.input_slacks | chosen.output_slacks, ensure_ascii=False),
                        "targets": json.dumps(chosen.input_targets | chosen.output_targets, ensure_ascii=False),
                        "excluded_reason": None,
                    }
                else:
                    reason = _excluded_reason(used, input_names, output_names, evaluated)
                    row |= {"efficiency_crs": None, "efficiency_vrs": None, "scale_efficiency": None,
                            "peers": None, "slacks": None, "targets": None, "excluded_reason": reason}  # fmt: skip
                rows.append(row)
    columns = ["year", "unit_code", "group_code", "category", "returns_to_scale", "orientation", "inputs", "outputs",
               "decision_units", "min_decision_units", "efficiency_crs", "efficiency_vrs", "scale_efficiency",
               "peers", "slacks", "targets", "excluded_reason"]  # fmt: skip
    # typed even when empty or all null, so the table's columns have their types (DuckDB reads NaN as null)
    types = {c: "string" for c in columns} | {"year": "int64", "decision_units": "int64", "min_decision_units": "int64"}
    types |= {"efficiency_crs": "float64", "efficiency_vrs": "float64", "scale_efficiency": "float64"}
    return pd.DataFrame(rows, columns=columns).astype(types)


def _number(value) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else float(value)


def _excluded_reason(used: pd.Series, input_names: list[str], output_names: list[str], evaluated: bool) -> str:
    """Why a unit has no efficiency: a missing or non-positive measure (the unit is not a decision
    unit), else its group is too small."""
    for names, kind in ((input_names, "input"), (output_names, "output")):
        for name in names:
            value = used[name]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return f"missing_{kind}"
            if value <= 0:
                return f"non_positive_{kind}"
    assert not evaluated
    return "group_too_small"
