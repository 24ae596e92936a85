"""The entry points: run every check in a fixed order (plan-wide, per node in graph order, whole-network
memory) and return or raise what they found."""

from __future__ import annotations

from ..hw.spec import HwSpec
from ..ir import Graph
from ..plan import PlacedBuffer, Plan
from .context import Context
from .memory import check_memory
from .nodes import check_node
from .plan_checks import check_budgets, check_header, match_nodes
from .violations import PlanValidationError, Report, Violation


def validate(plan: Plan, graph: Graph, hw: HwSpec) -> list[Violation]:
    """Every rule the plan breaks for this graph and spec; an empty list when the plan is valid."""
    placements: dict[str, list[PlacedBuffer]] = {}
    for p in plan.memory:
        placements.setdefault(p.tensor, []).append(p)
    alias_root = {n.output_tensor: n.alias_of for n in plan.nodes if n.alias_of is not None}
    ctx = Context(
        plan=plan,
        graph=graph,
        hw=hw,
        report=Report(),
        levels={m.name: m for m in hw.memories},
        l1=hw.l1.name,
        placements=placements,
        alias_root=alias_root,
    )
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
