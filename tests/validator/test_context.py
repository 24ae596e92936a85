"""The shared check context: look-ups built from the plan (placements, alias roots) and budget fallback."""

from __future__ import annotations

from deeploy_tiler.validator.context import Context

from .builders import HW, K, make_plan
from .cases import conv_plan, two_node


def test_for_plan_indexes_levels_placements_and_the_l1_of_the_spec() -> None:
    graph, plan = two_node()
    ctx = Context.for_plan(plan, graph, HW)
    assert ctx.l1 == HW.l1.name and set(ctx.levels) == {m.name for m in HW.memories}
    assert set(ctx.placements) == set(graph.tensors)
    assert [p.tensor for p in ctx.placed("h")] == ["h"]
    assert ctx.alias_root == {} and ctx.report.violations == []
    ctx.add(K.BUDGET, "r1", "too big")
    assert [(v.kind, v.node) for v in ctx.report.finish()] == [(K.BUDGET, "r1")]


def test_budget_prefers_the_plan_then_the_spec_default() -> None:
    graph, plan = conv_plan()
    ctx = Context.for_plan(plan, graph, HW)
    assert ctx.budget("L1") == plan.budgets["L1"] == 64_000
    assert "L3" not in plan.budgets
    assert ctx.budget("L3") == HW.memory("L3").budget_bytes


def test_alias_roots_follow_chains_and_stop_on_cycles() -> None:
    graph, plan = two_node()
    ctx = Context.for_plan(make_plan(graph, plan.nodes, memory=False), graph, HW)
    ctx.alias_root = {"c": "b", "b": "a"}
    assert ctx.root("c") == "a" and ctx.root("a") == "a" and ctx.root("zzz") == "zzz"
    ctx.alias_root = {"p": "q", "q": "p"}
    assert ctx.root("p") == "p"  # p -> q -> p: stops where the cycle closes
    assert ctx.placed("p") == []


def test_placed_falls_back_to_the_alias_root() -> None:
    graph, plan = two_node()
    ctx = Context.for_plan(plan, graph, HW)
    ctx.placements = {k: v for k, v in ctx.placements.items() if k != "h"}
    ctx.alias_root = {"h": "x"}
    assert [p.tensor for p in ctx.placed("h")] == ["x"]
