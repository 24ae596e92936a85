"""The entry points: run every check in a fixed order (plan-wide, per node in graph order, whole-network
memory) and return or raise what they found."""

from __future__ import annotations

from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import Plan
from .context import Context
from .memory import check_memory
from .nodes import check_node
from .plan_checks import check_budgets, check_header, match_nodes
from .violations import PlanValidationError, Violation


def validate(plan: Plan, graph: Graph, hw: HwSpec) -> list[Violation]:
    """Every rule the plan breaks for this graph and spec; an empty list when the plan is valid."""
    ctx = Context.for_plan(plan, graph, hw)
    check_header(ctx)
    check_budgets(ctx)
    index = {n.name: i for i, n in enumerate(graph.nodes)}
    for node_plan, node in match_nodes(ctx):
        check_node(ctx, index[node.name], node_plan, node)
    check_memory(ctx)
    return ctx.report.finish()


def assert_valid(plan: Plan, graph: Graph, hw: HwSpec) -> None:
    """Raise `PlanValidationError` listing every violation, if any."""
    violations = validate(plan, graph, hw)
    if violations:
        raise PlanValidationError(violations)
