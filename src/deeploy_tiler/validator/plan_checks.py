"""Plan-wide checks: the header (schema, model, hw), the budgets against the spec's levels, and the node
list against the graph (unknown, missing, duplicate, out of order)."""

from __future__ import annotations

from ..ir import Node
from ..plan import SCHEMA_VERSION, NodePlan
from .context import Context
from .violations import ViolationKind


def check_header(ctx: Context) -> None:
    plan = ctx.plan
    if plan.schema_version != SCHEMA_VERSION:
        ctx.add(
            ViolationKind.PLAN_HEADER,
            None,
            f"schema_version {plan.schema_version!r}, this validator checks {SCHEMA_VERSION!r}",
        )
    if plan.model != ctx.graph.name:
        ctx.add(ViolationKind.PLAN_HEADER, None, f"plan is for model {plan.model!r}, graph is {ctx.graph.name!r}")
    if plan.hw != ctx.hw.name:
        ctx.add(ViolationKind.PLAN_HEADER, None, f"plan is for hw {plan.hw!r}, spec is {ctx.hw.name!r}")


def check_budgets(ctx: Context) -> None:
    for level, budget in sorted(ctx.plan.budgets.items()):
        mem = ctx.levels.get(level)
        if mem is None:
            ctx.add(
                ViolationKind.UNKNOWN_LEVEL,
                None,
                f"budget for level {level!r}, spec {ctx.hw.name} has {sorted(ctx.levels)}",
            )
        elif budget + mem.reserved_bytes > mem.size_bytes:
            ctx.add(
                ViolationKind.LEVEL_CAPACITY,
                None,
                f"{level} budget {budget} B + reserved {mem.reserved_bytes} B (stacks, runtime) = "
                f"{budget + mem.reserved_bytes} B exceeds its {mem.size_bytes} B",
            )


def match_nodes(ctx: Context) -> list[tuple[NodePlan, Node]]:
    graph_nodes = {n.name: n for n in ctx.graph.nodes}
    seen: dict[str, NodePlan] = {}
    for np_ in ctx.plan.nodes:
        if np_.name in seen:
            ctx.add(ViolationKind.DUPLICATE_NODE, np_.name, "planned more than once")
        elif np_.name not in graph_nodes:
            ctx.add(ViolationKind.UNKNOWN_NODE, np_.name, f"not a node of graph {ctx.graph.name}")
        else:
            seen[np_.name] = np_
    for name in graph_nodes:
        if name not in seen:
            ctx.add(ViolationKind.MISSING_NODE, name, "graph node has no NodePlan")
    planned_order = list(seen)
    graph_order = [n.name for n in ctx.graph.nodes if n.name in seen]
    if planned_order != graph_order:
        first = next(i for i, (a, b) in enumerate(zip(planned_order, graph_order, strict=True)) if a != b)
        ctx.add(
            ViolationKind.NODE_ORDER,
            planned_order[first],
            f"planned at position {first}, where the graph runs {graph_order[first]}",
        )
    return [(seen[name], graph_nodes[name]) for name in graph_order]
