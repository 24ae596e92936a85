"""Plan-wide checks: header, budgets against the spec, and the node list against the graph."""

from __future__ import annotations

from .builders import K, assert_clean, kinds, with_node
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
