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


@pytest.mark.parametrize("metric", ["latency_ms", "l3_bytes"])
def test_l2_chart_from_all_streamed_to_all_resident(l2_sweep: sw.SweepResult, metric: str) -> None:
    spec = curves.l2_chart(l2_sweep, metric=metric)
    assert clipped(spec) == []
    assert spec["layout"]["xaxis"]["type"] == "log"
    (curve,) = [t for t in spec["data"] if t["mode"] == "lines+markers"]
    assert curve["x"] == sorted(p.l2 for p in l2_sweep.points if p.feasible)
    if metric == "l3_bytes":
        assert curve["y"][0] > 0 and curve["y"][-1] == 0  # smallest L2 streams, largest holds everything
    (bad,) = [t for t in spec["data"] if t["name"].startswith("infeasible")]
    assert bad["x"] == [3500]
    (m,) = l2_sweep.min_feasible
    assert any(t["name"].startswith(f"min feasible L2 {m.budgets['L2']:,} B") for t in spec["data"])


def test_l2_chart_refuses_an_l1_metric(l2_sweep: sw.SweepResult) -> None:
    with pytest.raises(ValueError, match="l2_chart draws one of"):
        curves.l2_chart(l2_sweep, metric="tokens_per_s")
