"""planner.pipeline: the two stages chained equal the whole plan; the L2 override and an infeasible L2."""

from __future__ import annotations

import pytest

from deeploy_tiler import api
from deeploy_tiler.errors import InfeasibleBudget
from deeploy_tiler.hw import load_hw
from deeploy_tiler.planner.pipeline import place_memory, plan_network, tile_network

HW = load_hw("siracusa")


def test_stages_chained_equal_plan_network() -> None:
    graph = api.default_model()
    whole = plan_network(graph, HW, l1=32768)
    tiled = tile_network(graph, HW, l1=32768)
    assert not tiled.memory  # stage 1 places nothing in L2
    staged = place_memory(tiled, graph, HW)
    assert staged.to_json() == whole.to_json()
    assert {lv.level for lv in staged.levels} >= {"L2"}


def test_place_memory_with_an_l2_override_records_the_budget() -> None:
    graph = api.default_model()
    tiled = tile_network(graph, HW, l1=32768)
    placed = place_memory(tiled, graph, HW, l2=500_000)
    assert placed.budgets["L2"] == 500_000 and tiled.budgets["L2"] == HW.budget_bytes("L2")
    (l2,) = [lv for lv in placed.levels if lv.level == "L2"]
    assert l2.peak <= 500_000


def test_l2_below_the_activations_is_infeasible_before_tiling() -> None:
    graph = api.default_model()
    with pytest.raises(InfeasibleBudget) as info:
        plan_network(graph, HW, l2=256)
    assert info.value.level == "L2" and info.value.budget_bytes == 256
    assert info.value.required_bytes > 256
