"""Chart specs: valid plotly figures, every node and tensor drawn, and axes that hold all their data."""

from __future__ import annotations

import math
from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import charts
from deeploy_tiler.explore import sweep as sw
from deeploy_tiler.explore.plandata import memory_levels, memory_rects, node_rows


def _extent(values: list[Any]) -> list[float]:
    nums = [float(v) for v in values if v is not None and not isinstance(v, str)]
    return [min(nums), max(nums)] if nums else []


def _clipped(spec: dict[str, Any]) -> list[str]:
    """Traces whose data leave an axis range (numeric axes; a category axis holds indices 0..n-1)."""
    layout = spec["layout"]
    problems = []
    for t in spec["data"]:
        for axis, key in (("xaxis", "x"), ("yaxis", "y")):
            ax = layout[axis]
            lo, hi = ax["range"]
            values = t.get(key, [])
            if ax.get("type") == "category" or (values and isinstance(values[0], str)):
                cats = ax.get("categoryarray") or list(dict.fromkeys(values))
                data = [cats.index(v) for v in values]
                data = [min(data) - 0.5, max(data) + 0.5] if data else []
            elif t["type"] == "bar" and key == "y":
                base = t.get("base") or [0] * len(values)
                data = _extent([b + v for b, v in zip(base, values, strict=True)] + list(base))
            elif t["type"] == "bar" and key == "x" and "width" in t:
                data = _extent([x - w / 2 for x, w in zip(values, t["width"], strict=True)])
                data += _extent([x + w / 2 for x, w in zip(values, t["width"], strict=True)])
            else:
                data = _extent(values)
            if not data:
                continue
            if ax.get("type") == "log":
                data = [math.log10(v) for v in data]
            if min(data) < lo - 1e-9 or max(data) > hi + 1e-9:
                problems.append(f"{t.get('name')}: {key} {min(data)}..{max(data)} outside {lo}..{hi}")
    return problems


def _stacked_tops(spec: dict[str, Any]) -> list[float]:
    bars = [t for t in spec["data"] if t["type"] == "bar"]
    return [sum(t["y"][i] for t in bars) for i in range(len(bars[0]["y"]))]


def test_cycles_chart_has_every_node_and_adds_up(ml64: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = ml64
    rows = node_rows(plan, hw, graph)
    spec = charts.cycles_chart(rows, title="t")
    assert len(spec["data"][0]["x"]) == len(plan.nodes) == 385
    assert _stacked_tops(spec) == [n.cycles.total for n in plan.nodes]
    assert _clipped(spec) == []
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
        assert _clipped(spec) == [], level
        drawn = sum(len(t["y"]) for t in spec["data"] if t["type"] == "bar")
        assert drawn == len(rects)
        texts = " ".join(h for t in spec["data"] if t["type"] == "bar" for h in t["hovertext"])
        if level == "L2":
            placed = [b for b in plan.memory if b.level == "L2" and b.alias_of is None]
            assert len(rects) < len(placed)  # the resident weights merged into blocks
            assert all(b.tensor in texts for b in placed if not b.tensor.startswith(("MatMul_12", "layers")))


@pytest.mark.parametrize("metric", ["latency_ms", "cycles"])
def test_budget_chart_axes_hold_all_their_data(result: sw.SweepResult, metric: str) -> None:
    spec = charts.budget_chart(result, metric=metric)
    assert _clipped(spec) == []
    names = [t["name"] for t in spec["data"]]
    assert any(n.startswith("min feasible L1 300 B") for n in names) and "Pareto front" in names
    infeasible = [t for t in spec["data"] if t["name"].startswith("infeasible")]
    assert [t["x"] for t in infeasible] == [[256], [256]]  # both configurations, on the axis at 0


def test_tokens_per_second_of_a_decode_sweep(ml8_sweep: tuple[dt.Graph, dt.HwSpec, sw.SweepResult, dt.Plan]) -> None:
    _, _, result, _ = ml8_sweep
    spec = charts.budget_chart(result, metric="tokens_per_s")
    assert _clipped(spec) == []
    curve = spec["data"][0]
    assert curve["x"] == [4096, 16384, 65536] and curve["y"] == [p.tokens_per_s for p in result.points]


def test_the_clip_check_finds_a_clipped_axis(result: sw.SweepResult) -> None:
    spec = charts.budget_chart(result)
    spec["layout"]["yaxis"]["range"] = [0, 1e-6]
    assert _clipped(spec)


def test_engines_chart_rings_the_chosen_alternative(mnv2: tuple[dt.Graph, dt.HwSpec, dt.Plan]) -> None:
    graph, hw, plan = mnv2
    rows = node_rows(plan, hw, graph)
    spec = charts.engines_chart(rows, title="t")
    assert spec is not None and _clipped(spec) == []
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
    specs = [charts.cycles_chart(rows, title="t"), charts.engines_chart(rows, title="t"), charts.budget_chart(result)]
    specs += [
        charts.memory_chart(memory_rects(plan, lv, graph), level=lv, steps=17, peak=1, capacity=None, title=lv)
        for lv in memory_levels(plan)
    ]
    for spec in specs:
        assert spec is not None
        go.Figure(spec)  # raises ValueError for any property plotly does not know
