"""Plan-wide checks: header, budgets against the spec, and the node list against the graph."""

from __future__ import annotations

from deeploy_tiler.plan import SCHEMA_VERSION
from deeploy_tiler.validator import validate

from .builders import HW, K, assert_clean, kinds, with_node
from .cases import two_node


def test_node_list_defects() -> None:
    graph, plan = two_node()
    assert_clean(plan, graph)
    a, b = plan.nodes
    assert kinds(plan.model_copy(update={"nodes": (a,)}), graph) == {K.MISSING_NODE}
    assert kinds(plan.model_copy(update={"nodes": (b, a)}), graph) == {K.NODE_ORDER}
    assert K.DUPLICATE_NODE in kinds(plan.model_copy(update={"nodes": (a, a, b)}), graph)
    ghost = a.model_copy(update={"name": "ghost"})
    assert kinds(plan.model_copy(update={"nodes": (a, b, ghost)}), graph) == {K.UNKNOWN_NODE}
    assert kinds(with_node(plan, 0, op_type="Clip"), graph) == {K.OP_TYPE}
    assert kinds(with_node(plan, 0, output_tensor="y"), graph) == {K.OUTPUT_TENSOR}
    assert kinds(with_node(plan, 0, alias_of="x"), graph) == {K.ALIAS}
    assert kinds(plan.model_copy(update={"model": "other"}), graph) == {K.PLAN_HEADER}
    assert kinds(plan.model_copy(update={"hw": "rv32_mcu"}), graph) == {K.PLAN_HEADER}


def test_header_and_budget_violations_are_plan_wide_and_name_both_sides() -> None:
    graph, plan = two_node()
    bad = plan.model_copy(update={"model": "other", "schema_version": "0.0"})
    assert [(v.kind, v.node, v.message) for v in validate(bad, graph, HW)] == [
        (K.PLAN_HEADER, None, f"schema_version '0.0', this validator checks {SCHEMA_VERSION!r}"),
        (K.PLAN_HEADER, None, "plan is for model 'other', graph is 'two'"),
    ]
    l1 = HW.l1
    budgets = {**plan.budgets, "L9": 4, l1.name: l1.size_bytes}  # reported in level-name order
    found = validate(plan.model_copy(update={"budgets": budgets}), graph, HW)
    assert [(v.kind, v.node) for v in found] == [(K.LEVEL_CAPACITY, None), (K.UNKNOWN_LEVEL, None)]
    assert f"reserved {l1.reserved_bytes} B" in found[0].message and "'L9'" in found[1].message


def test_node_order_names_the_first_node_out_of_place() -> None:
    graph, plan = two_node()
    a, b = plan.nodes
    found = validate(plan.model_copy(update={"nodes": (b, a)}), graph, HW)
    assert [(v.kind, v.node, v.message) for v in found] == [
        (K.NODE_ORDER, "r2", "planned at position 0, where the graph runs r1")
    ]
