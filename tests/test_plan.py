from __future__ import annotations

import json
from pathlib import Path

import deeploy_tiler as dt
from deeploy_tiler.schemas import schemas

REPO = Path(__file__).resolve().parents[1]


def test_published_schemas_are_current() -> None:
    for name, schema in schemas().items():
        assert json.loads((REPO / "schemas" / name).read_text()) == schema, f"regenerate schemas/{name}"


def test_plan_json_round_trip_and_determinism() -> None:
    graph, hw = dt.default_model(), dt.load_hw("siracusa")
    first = dt.plan(graph, hw, l1=8_000)
    text = first.to_json()
    again = dt.Plan.from_json(text)
    assert again == first and again.to_json() == text
    assert dt.plan(graph, hw, l1=8_000).to_json() == text  # same inputs, same bytes
    assert dt.validate(again, graph, hw) == []
    doc = json.loads(text)
    assert doc["schema_version"] == "1.0" and len(doc["nodes"]) == len(graph.nodes)
    assert first.total_cycles == sum(n.cycles.total for n in first.nodes)
    assert first.lower_bound_cycles <= first.total_cycles
