"""dbt's layers run one way (docs/architecture.md): staging reads sources, seeds and snapshots;
intermediate models read staging, seeds and each other; a mart reads intermediate models (or
staging and seeds), never another mart, so each rule lives below the tables people read. Read
from dbt's manifest."""

from __future__ import annotations

import json

from dagster_project.core.dbt_project import MANIFEST

# what a model of each layer may read
ALLOWED = {
    "staging": {"source", "seed", "snapshot", "staging"},
    "intermediate": {"source", "seed", "snapshot", "staging", "intermediate"},
    "marts": {"seed", "staging", "intermediate"},
}


def _layer(node: dict) -> str:
    return node["fqn"][1] if node["resource_type"] == "model" else node["resource_type"]


def wrong_way(manifest: dict) -> list[str]:
    nodes = {**manifest["nodes"], **manifest["sources"]}
    found = []
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model":
            continue
        for parent in node["depends_on"]["nodes"]:
            if _layer(nodes[parent]) not in ALLOWED[_layer(node)]:
                found.append(f"{_layer(node)} {node['name']} reads {_layer(nodes[parent])} {nodes[parent]['name']}")
    return sorted(found)


def test_no_model_reads_a_later_layer_and_no_mart_reads_a_mart(dbt_manifest):
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert {_layer(n) for n in models} == set(ALLOWED)
    assert wrong_way(manifest) == []


def test_a_mart_on_a_mart_is_caught():
    def model(layer: str, name: str, parents: list[str]) -> dict:
        return {"resource_type": "model", "fqn": ["kaohe", layer, name], "name": name, "depends_on": {"nodes": parents}}

    manifest = {
        "nodes": {
            "model.kaohe.int_a": model("intermediate", "int_a", ["model.kaohe.a"]),
            "model.kaohe.a": model("marts", "a", []),
            "model.kaohe.b": model("marts", "b", ["model.kaohe.a", "model.kaohe.int_a"]),
        },
        "sources": {},
    }
    assert wrong_way(manifest) == ["intermediate int_a reads marts a", "marts b reads marts a"]
