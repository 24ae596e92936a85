"""Chart specs: valid plotly figures, every node and tensor drawn, and axes that hold all their data."""

from __future__ import annotations

from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import charts, curves
from deeploy_tiler.explore import sweep as sw
from deeploy_tiler.explore.plandata import memory_levels, memory_rects, node_rows

from .specs import clipped


def _stacked_tops(spec: dict[str, Any]) -> list[float]:
    bars = [t for t in spec["data"] if t["type"] == "bar"]
    return [sum(t["y"][i] for t in bars) for i in range(len(bars[0]["y"]))]


def test_cycles_chart_has_every_node_and_adds_up(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = ml64
    rows = node_rows(plan, hw, graph)
    spec = charts.cycles_chart(rows, title="t")
    assert len(spec["data"][0]["x"]) == len(plan.nodes) == 385
    assert _stacked_tops(spec) == [n.cycles.total for n in plan.nodes]
    assert clipped(spec) == []
    blocks = [a["text"] for a in spec["layout"]["annotations"]]
    assert blocks == [f"layers.{k}" for k in range(8)]  # one band per decoder layer, in order
    assert all(len(x) <= 34 for x in spec["data"][0]["x"])  # readable short names; the full one is on hover
    assert {c[0] for c in spec["data"][0]["customdata"]} == {n.name for n in plan.nodes}


def test_memory_charts_hold_every_tensor(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, _, plan = ml64
    for level in memory_levels(plan):
        rects = memory_rects(plan, level, graph)
        usage = {lv.level: lv for lv in plan.levels}
        spec = charts.memory_chart(
            rects,
            level=level,
            steps=len(plan.nodes) + 2,
            peak=usage[level].peak if level in usage else None,
            capacity=plan.budgets.get(level),
            title=level,
        )
        assert clipped(spec) == [], level
        drawn = sum(len(t["y"]) for t in spec["data"] if t["type"] == "bar")
        assert drawn == len(rects)
        texts = " ".join(h for t in spec["data"] if t["type"] == "bar" for h in t["hovertext"])
        if level == "L2":
            placed = [b for b in plan.memory if b.level == "L2" and b.alias_of is None]
            assert len(rects) < len(placed)  # the resident weights merged into blocks
            assert all(b.tensor in texts for b in placed if not b.tensor.startswith(("MatMul_12", "layers")))


def test_engines_chart_rings_the_chosen_alternative(mnv2: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = mnv2
    rows = node_rows(plan, hw, graph)
    spec = charts.engines_chart(rows, title="t")
    assert spec is not None and clipped(spec) == []
    chosen = next(t for t in spec["data"] if t["name"] == "chosen")
    with_choice = [n for n in plan.nodes if len(n.alternatives) > 1]
    assert len(chosen["x"]) == len(with_choice)
    picked = [next(a.cycles for a in n.alternatives if a.reason.startswith("chosen")) for n in with_choice]
    assert chosen["y"] == picked
    assert charts.engines_chart(node_rows(dt.plan(graph, dt.load_hw("siracusa")), None), title="t") is None


def test_specs_are_valid_plotly_figures(
    ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan], mnv2: tuple[dt.Graph, dt.HwSpec, dt.Plan], result: sw.SweepResult
) -> None:
    go = pytest.importorskip("plotly.graph_objects")
    graph, hw, plan = mnv2
    rows = node_rows(plan, hw, graph)
    specs = [charts.cycles_chart(rows, title="t"), charts.engines_chart(rows, title="t"), curves.budget_chart(result)]
    specs += [
        charts.memory_chart(memory_rects(plan, lv, graph), level=lv, steps=17, peak=1, capacity=None, title=lv)
        for lv in memory_levels(plan)
    ]
    for spec in specs:
        assert spec is not None
        go.Figure(spec)  # raises ValueError for any property plotly does not know


def test_ops_chart_adds_up_to_the_plan(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = ml64
    spec = charts.ops_chart(node_rows(plan, hw, graph), title="t")
    assert clipped(spec) == []
    tops = [sum(t["y"][i] for t in spec["data"]) for i in range(len(spec["data"][0]["x"]))]
    assert sum(tops) == plan.total_cycles and tops == sorted(tops, reverse=True)
    ops = {n.op_type for n in plan.nodes if n.alias_of is None}
    assert {x.split(" (")[0] for x in spec["data"][0]["x"]} == ops


def test_l2_map_offers_an_activations_view(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, _, plan = ml64
    rects = memory_rects(plan, "L2", graph)
    spec = charts.memory_chart(rects, level="L2", steps=387, peak=None, capacity=None, title="L2")
    everything, moving = spec["layout"]["updatemenus"][0]["buttons"]
    visible = moving["args"][0]["visible"]
    names = [t["name"] for t in spec["data"]]
    assert [n for n, v in zip(names, visible, strict=True) if not v] == [n for n in names if n.startswith("weights")]
    lo, hi = moving["args"][1]["yaxis.range"]
    active = [r for r in rects if r.kind != "weights"]
    assert lo <= min(r.offset for r in active) and hi >= max(r.offset + r.size for r in active)
    assert hi - lo < spec["layout"]["yaxis"]["range"][1] / 2  # a real zoom
    assert everything["args"][1]["yaxis.range"] == spec["layout"]["yaxis"]["range"]
