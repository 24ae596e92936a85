"""Cheap feasibility: activations beyond the L2 budget are answered before any tile grid is built."""

from __future__ import annotations

import pytest

import deeploy_tiler as dt


def _relu(shape: list[int]) -> dt.Graph:
    return dt.graph_from_layer_list(
        {
            "name": "big",
            "tensors": [
                {"name": "x", "shape": shape, "dtype": "int8", "kind": "input"},
                {"name": "y", "shape": shape, "dtype": "int8", "kind": "output"},
            ],
            "nodes": [{"name": "r", "op": "Relu", "inputs": ["x"], "outputs": ["y"]}],
            "inputs": ["x"],
            "outputs": ["y"],
        }
    )


def test_a_1e11_byte_activation_is_an_answer_not_a_tile_grid() -> None:
    g = _relu([1, 100_000, 1000, 1000])  # 1e11 B in, 1e11 B out
    with pytest.raises(dt.InfeasibleBudget) as info:
        dt.plan(g, "siracusa", l1=64_000)
    assert info.value.level == "L2" and info.value.required_bytes == 2 * 10**11
    with pytest.raises(dt.InfeasibleBudget, match=r"node r needs at least 200000000000 B of L2"):
        dt.plan_node(g, "r", "siracusa", l1=64_000)
    # (the fuzz suite's harness bounds such calls by time and memory; here the answer is what counts)


def test_fitting_activations_still_plan() -> None:
    g = _relu([1, 4, 16, 16])
    p = dt.plan(g, "siracusa")
    assert dt.validate(p, g, "siracusa") == []


def test_tile_count_is_bounded_even_with_a_huge_l2() -> None:
    g = _relu([1, 100_000, 1000, 1000])
    with pytest.raises(dt.InfeasibleBudget, match=r"in at most 100000 tiles") as info:
        dt.plan(g, "siracusa", l1=64_000, l2=2**40)
    assert info.value.level == "L1" and info.value.required_bytes == 10**11 // 100_000
