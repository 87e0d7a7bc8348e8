"""The scorecard's findings sections (scorecard_data.Extension): the efficiency frontier of
unit_dea (docs/methodology.md §12) on every page, and the clues of false results of report_clues
(§13) on the office's pages only (an agency's own page does not accuse it). Their words are in
templates/scorecard_texts.yml, their templates in templates/sections/dea.html.j2 and clues.html.j2."""

from __future__ import annotations

import json
from typing import Any

import duckdb

from dagster_project.outputs.scorecard_data import EXTENSIONS, SCHEMA, Extension

# How the page shows a DEA measure's value: spend in 万元 (10,000 yuan), the others as numbers
MEASURE_DECIMALS = {"establishment": 1, "establishment_as_of": 1, "headcount": 1, "spend": 1}


def _shown(measure: str, value: float) -> tuple[float, int]:
    """(value as shown, decimals): spend in 万元, posts and people to one decimal, others to two."""
    if measure == "spend":
        return value / 10_000, 1
    return value, MEASURE_DECIMALS.get(measure, 2)


def _target(measure: str, role: str, target: float, used: float) -> dict[str, Any]:
    value, decimals = _shown(measure, target)
    return {"measure": measure, "role": role, "value": value, "used": _shown(measure, used)[0], "decimals": decimals}


def read_dea(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any]:
    """unit_code → its frontier: efficiencies, peers by name with λ, the targets that differ from
    what the unit used (input orientation: its inputs; output: its outputs, and any slack of the
    other side), or why it was not evaluated."""
    names = dict(
        con.execute(f"select unit_code, unit_name from {SCHEMA}.unit_scores where year = ?", [year]).fetchall()
    )
    rows = con.execute(
        f"select unit_code, returns_to_scale, orientation, inputs, outputs, decision_units, min_decision_units, "
        f"efficiency_crs, efficiency_vrs, scale_efficiency, peers, targets, excluded_reason "
        f"from {SCHEMA}.unit_dea where year = ?",
        [year],
    ).df()
    out: dict[str, Any] = {}
    for r in rows.itertuples(index=False):
        inputs, outputs = json.loads(r.inputs), json.loads(r.outputs)
        section: dict[str, Any] = {
            "rts": r.returns_to_scale,
            "orientation": r.orientation,
            "decision_units": int(r.decision_units),
            "min_decision_units": int(r.min_decision_units),
            "excluded_reason": r.excluded_reason if isinstance(r.excluded_reason, str) else None,
        }
        if section["excluded_reason"] is None:
            targets = json.loads(r.targets)
            chosen = r.efficiency_vrs if r.returns_to_scale == "vrs" else r.efficiency_crs
            peers = sorted(json.loads(r.peers).items(), key=lambda p: -p[1])
            # the radial side: what the orientation changes; the other side only where it has slack
            radial, other = (inputs, outputs) if r.orientation == "input" else (outputs, inputs)
            roles = {m: "input" for m in inputs} | {m: "output" for m in outputs}
            moved = [
                _target(m, roles[m], targets[m], v)
                for m, v in [*radial.items(), *other.items()]
                if abs(targets[m] - v) > 1e-9 * max(1.0, abs(v))
            ]
            section |= {
                "efficiency": float(chosen),
                "efficiency_crs": float(r.efficiency_crs),
                "efficiency_vrs": float(r.efficiency_vrs),
                "scale_efficiency": float(r.scale_efficiency),
                "efficient": float(chosen) >= 1.0,
                "peers": [
                    {"unit_code": code, "name": names.get(code) or code, "weight": weight}
                    for code, weight in peers
                    if code != r.unit_code
                ],
                "targets": moved,
            }
        out[r.unit_code] = section
    return out


def read_clues(con: duckdb.DuckDBPyConnection, year: int) -> dict[str, Any]:
    """unit_code → its clues of false results (clue, task, detail), in the clues' order."""
    rows = con.execute(
        f"select c.unit_code, c.clue, c.task_id, c.detail from {SCHEMA}.report_clues as c "
        f"left join {SCHEMA}.dim_clue as d on c.clue = d.code where c.year = ? "
        f"order by c.unit_code, d.sort_order, c.clue, c.task_id",
        [year],
    ).fetchall()
    out: dict[str, list[dict[str, str]]] = {}
    for unit_code, clue, task_id, detail in rows:
        out.setdefault(unit_code, []).append({"clue": clue, "task_id": task_id, "detail": detail})
    return out


EXTENSIONS.extend(
    [
        Extension("dea", ("unit_dea", "unit_scores"), read_dea),
        Extension("clues", ("report_clues", "dim_clue"), read_clues, audience="office"),
    ]
)
