"""The sweep engine: grids, overrides, the Pareto front, the smallest feasible budgets, executors."""

from __future__ import annotations

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import sweep as sw
from deeploy_tiler.explore.sweep import SweepError, SweepPoint


def test_unknown_override_fails_before_any_point(graph: dt.Graph, hw: dt.HwSpec) -> None:
    seen: list[SweepPoint] = []
    with pytest.raises(dt.HwSpecError, match="bogus") as info:
        sw.sweep(
            graph, hw, l1_grid=[4096], overrides=[{}, {"memories.L1.bogus": 1}], executor="serial", on_point=seen.append
        )
    assert info.value.field == "memories.L1.bogus"
    assert seen == []


def test_empty_grids_and_bad_executor(graph: dt.Graph, hw: dt.HwSpec) -> None:
    with pytest.raises(SweepError, match="empty"):
        sw.sweep(graph, hw, l1_grid=[])
    with pytest.raises(SweepError, match="at least one"):
        sw.sweep(graph, hw, l1_grid=[4096], double_buffer=[])
    with pytest.raises(SweepError, match="unknown executor"):
        sw.sweep(graph, hw, l1_grid=[4096], executor="threads")  # type: ignore[arg-type]


def test_sweep_points_in_grid_order(graph: dt.Graph, hw: dt.HwSpec) -> None:
    seen: list[int] = []
    r = sw.sweep(
        graph,
        hw,
        l1_grid=[4096, 256],
        double_buffer=[True, False],
        executor="serial",
        on_point=lambda p: seen.append(p.index),
    )
    assert sorted(seen) == [0, 1, 2, 3]
    assert [(p.l1, p.double_buffer) for p in r.points] == [(256, True), (4096, True), (256, False), (4096, False)]
    bad = r.points[0]
    assert bad.status == "infeasible" and bad.infeasible_level == "L1" and bad.required_bytes == 300
    good = r.points[1]
    assert good.feasible and good.total_cycles and good.tiles and good.dma_bytes and good.l1_used
    assert good.l2 == hw.budget_bytes("L2") and good.tokens_per_s is None
    assert good.latency_s == pytest.approx(good.total_cycles / hw.clock_hz)
    assert [(m.double_buffer, m.budgets["L1"]) for m in r.min_feasible] == [(True, 300), (False, 300)]
    assert r.pareto and all(p.feasible for p in r.pareto)
    assert sw.SweepResult.model_validate_json(r.to_json()) == r
