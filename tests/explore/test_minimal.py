"""The smallest feasible budgets: the bisection, and the answers checked by planning."""

from __future__ import annotations

from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import minimal


def _fake_probe(truth: int, bound: int) -> Any:
    calls: list[int] = []

    def probe(b: int) -> dt.InfeasibleBudget | None:
        calls.append(b)
        return None if b >= truth else dt.InfeasibleBudget("L1", b, [("n", bound, "fake")])

    probe.calls = calls  # type: ignore[attr-defined]
    return probe


@pytest.mark.parametrize(("truth", "bound"), [(300, 300), (1000, 300), (5000, 1), (300, 250)])
def test_search_finds_the_boundary_from_any_lower_bound(truth: int, bound: int) -> None:
    search = minimal._Search(_fake_probe(truth, bound), ceiling=1 << 20, level="L1")
    assert search.run() == (truth, "")
    assert search.known[truth] and not search.known[truth - 1] and search.bound == bound


def test_search_survives_a_wrong_bound_another_level_and_the_ceiling() -> None:
    assert minimal._Search(_fake_probe(300, 400), ceiling=1 << 20, level="L1").run() == (300, "")  # claims 400 B
    other = minimal._Search(_fake_probe(300, 400), ceiling=1 << 20, level="L2")  # a bound about L1 is no L2 bound
    assert other.run() == (300, "") and other.bound == 0
    value, note = minimal._Search(_fake_probe(5000, 300), ceiling=4096, level="L1").run()
    assert value is None and "4096" in note
    value, note = minimal._Search(_fake_probe(5000, 8000), ceiling=4096, level="L1").run()
    assert value is None and "8000" in note


@pytest.mark.parametrize("double_buffer", [True, False])
def test_min_feasible_l1_is_verified_by_planning(graph: dt.Graph, hw: dt.HwSpec, double_buffer: bool) -> None:
    m = minimal.min_feasible_l1(graph, hw, double_buffer=double_buffer)
    assert m is not None
    plan = dt.plan(graph, hw, l1=m, double_buffer=double_buffer)
    assert max(n.l1_bytes for n in plan.nodes) <= m
    with pytest.raises(dt.InfeasibleBudget) as info:
        dt.plan(graph, hw, l1=m - 1, double_buffer=double_buffer)
    assert info.value.level == "L1"


@pytest.mark.parametrize("spec", ["siracusa", "rv32_mcu"])
def test_min_feasible_on_minimobilenet_verified(mobilenet: dt.Graph, spec: str) -> None:
    hw = dt.load_hw(spec)
    found = minimal.min_feasible(mobilenet, hw)
    l1, l2 = found.budgets["L1"], found.budgets["L2"]
    assert l1 is not None and l2 is not None and found.verified == {"L1": True, "L2": True}
    dt.plan(mobilenet, hw, l1=l1, l2=l2)
    for kwargs, level in (({"l1": l1 - 1, "l2": l2}, "L1"), ({"l1": l1, "l2": l2 - 1}, "L2")):
        with pytest.raises(dt.InfeasibleBudget) as info:
            dt.plan(mobilenet, hw, **kwargs)
        assert info.value.level == level
    assert found.lower_bounds["L1"] <= l1 and found.lower_bounds["L2"] <= l2


def test_min_feasible_l1_none_when_the_chip_is_too_small(graph: dt.Graph, hw: dt.HwSpec) -> None:
    tiny = hw.with_overrides(
        {"memories.L1.size_bytes": 200, "memories.L1.reserved_bytes": 0, "memories.L1.default_budget_bytes": None}
    )
    found = minimal.min_feasible(graph, tiny)
    assert found.budgets["L1"] is None and "200" in found.notes["L1"]


def test_smallest_l2_streams_from_l3(graph: dt.Graph, hw: dt.HwSpec) -> None:
    """With an L3, the smallest L2 is where streaming still fits, well below the bytes of the constants
    that an all-resident plan holds; the plan there streams, one byte below nothing plans."""
    m = minimal.min_feasible(graph, hw)
    l1, l2 = m.budgets["L1"], m.budgets["L2"]
    assert l1 is not None and l2 is not None and m.verified == {"L1": True, "L2": True}
    assert l2 < sum(t.nbytes for t in graph.constants)
    p = dt.plan(graph, hw, l1=l1, l2=l2)
    assert p.staging and m.l3_bytes == p.l3_bytes > 0
    with pytest.raises(dt.InfeasibleBudget):
        dt.plan(graph, hw, l1=l1, l2=l2 - 1)
    # the search starts from the early check's least L2 with streaming; here it is exact: provably minimal
    from deeploy_tiler.planner.feasibility import memory_requirement

    assert m.lower_bounds["L2"] == memory_requirement(graph, hw).required == l2
