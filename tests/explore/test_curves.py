"""Budget curves of a sweep: every point, cross, ring and line inside the axes."""

from __future__ import annotations

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import curves
from deeploy_tiler.explore import sweep as sw

from .specs import clipped


@pytest.mark.parametrize("metric", ["latency_ms", "cycles"])
def test_budget_chart_axes_hold_all_their_data(result: sw.SweepResult, metric: str) -> None:
    spec = curves.budget_chart(result, metric=metric)
    assert clipped(spec) == []
    names = [t["name"] for t in spec["data"]]
    assert any(n.startswith("min feasible L1 300 B") for n in names) and "Pareto front" in names
    infeasible = [t for t in spec["data"] if t["name"].startswith("infeasible")]
    assert [t["x"] for t in infeasible] == [[256], [256]]  # both configurations, on the axis at 0


def test_tokens_per_second_of_a_decode_sweep(ml8_sweep: tuple[dt.Graph, dt.HwSpec, sw.SweepResult, dt.Plan]) -> None:
    _, _, result, _ = ml8_sweep
    spec = curves.budget_chart(result, metric="tokens_per_s")
    assert clipped(spec) == []
    curve = spec["data"][0]
    assert curve["x"] == [4096, 16384, 65536] and curve["y"] == [p.tokens_per_s for p in result.points]


def test_the_clip_check_finds_a_clipped_axis(result: sw.SweepResult) -> None:
    spec = curves.budget_chart(result)
    spec["layout"]["yaxis"]["range"] = [0, 1e-6]
    assert clipped(spec)
