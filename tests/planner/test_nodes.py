"""planner.nodes: the planning context's budget check, alias plans, node plans from a solve, the solve
cache and the infeasible-budget error of one node."""

from __future__ import annotations

import pytest

from deeploy_tiler import api
from deeploy_tiler.errors import InfeasibleBudget, PlanError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.planner.nodes import alias_plan, infeasible, make_context, node_plan, setup_node, solve_cached
from tests.solver.graphs import gemm

HW = load_hw("siracusa")


def test_context_budget_defaults_and_range() -> None:
    ctx = make_context(HW, None, None, True, None)
    assert ctx.l1 == HW.memory("L1").default_budget_bytes and ctx.params.engine == "cluster"
    usable = HW.memory("L1").size_bytes - HW.memory("L1").reserved_bytes
    assert make_context(HW, None, usable, True, None).l1 == usable
    with pytest.raises(PlanError, match=rf"L1 budget {usable + 1} B outside \[0, {usable}\] .*spec 'siracusa'"):
        make_context(HW, None, usable + 1, True, None)
    with pytest.raises(PlanError, match=r"L1 budget -1 B outside"):
        make_context(HW, None, -1, True, None)


def test_alias_plan_costs_nothing_and_names_its_input() -> None:
    graph = api.default_model()
    node = next(n for n in graph.nodes if n.is_alias)
    p = alias_plan(node, graph, "cluster")
    assert p.alias_of == node.inputs[0] and p.solve.status == "ALIAS"
    assert (p.l1_bytes, p.dma_bytes, p.cycles.total, p.num_tiles) == (0, 0, 0, 1)
    assert p.tile_shape == graph.tensor(node.outputs[0]).shape


def test_node_plan_of_a_solved_gemm_and_the_cache() -> None:
    graph = gemm(16, 64, 32)
    ctx = make_context(HW, None, 3000, True, None)
    setup = setup_node(ctx, graph.nodes[0], graph)
    cache: dict[object, object] = {}
    result, how = solve_cached(setup, ctx, cache)  # type: ignore[arg-type]
    assert how == "solved" and len(cache) == 1
    again, how2 = solve_cached(setup, ctx, cache)  # type: ignore[arg-type]
    assert how2 == "cached" and again.stats.status == "CACHED" and again.choice == result.choice
    plan = node_plan(graph.nodes[0], setup, result, ctx, handover=7)
    assert plan.l1_bytes == result.cost.l1_bytes <= 3000
    cands = setup.problem.model.space.candidates
    assert plan.tile_shape == tuple(c[i] for c, i in zip(cands, result.choice.tiles, strict=True))
    assert plan.cycles.total == result.cost.breakdown.total + 7
    assert plan.cycles.compute == result.cost.breakdown.compute + 7
    assert plan.lower_bound_cycles == setup.problem.model.lower_bound() + 7
    assert sum(1 for e in plan.events if e.kind == "compute") == plan.num_tiles


def test_a_budget_below_the_minimum_names_the_node() -> None:
    graph = gemm(16, 64, 32)
    ctx = make_context(HW, None, 64, True, None)
    setup = setup_node(ctx, graph.nodes[0], graph)
    assert not setup.fits  # callers check this before solving (solve_cached assumes a feasible budget)
    err = infeasible(ctx, [setup])
    assert isinstance(err, InfeasibleBudget) and err.level == "L1" and err.budget_bytes == 64
    with pytest.raises(InfeasibleBudget) as info:
        raise err
    assert info.value.nodes == ["n"] and info.value.min_bytes["n"] == setup.min_l1
    assert "Gemm at its smallest legal tile" in str(info.value)
