"""What every check reads: the plan, graph and spec, the report it adds to, and look-ups built once."""

from __future__ import annotations

from dataclasses import dataclass

from ..hw.spec import HwSpec, MemoryLevel
from ..ir import Graph
from ..plan import PlacedBuffer, Plan
from .violations import Report, ViolationKind


@dataclass
class Context:
    """The inputs of one validation, the report it fills, and look-ups the checks share."""

    plan: Plan
    graph: Graph
    hw: HwSpec
    report: Report
    levels: dict[str, MemoryLevel]
    l1: str
    placements: dict[str, list[PlacedBuffer]]
    alias_root: dict[str, str]

    @classmethod
    def for_plan(cls, plan: Plan, graph: Graph, hw: HwSpec) -> Context:
        placements: dict[str, list[PlacedBuffer]] = {}
        for p in plan.memory:
            placements.setdefault(p.tensor, []).append(p)
        alias_root = {n.output_tensor: n.alias_of for n in plan.nodes if n.alias_of is not None}
        return cls(
            plan=plan,
            graph=graph,
            hw=hw,
            report=Report(),
            levels={m.name: m for m in hw.memories},
            l1=hw.l1.name,  # the cluster engine's local level, whatever the spec calls it
            placements=placements,
            alias_root=alias_root,
        )

    def add(self, kind: ViolationKind, node: str | None, message: str) -> None:
        self.report.add(kind, node, message)

    def budget(self, level: str) -> int:
        """The plan's budget for `level`, else the spec's default budget."""
        if level in self.plan.budgets:
            return self.plan.budgets[level]
        return self.levels[level].budget_bytes

    def root(self, tensor: str) -> str:
        """The tensor an aliased reshape output finally stands for (stops on an alias cycle)."""
        seen = set()
        while tensor in self.alias_root and tensor not in seen:
            seen.add(tensor)
            tensor = self.alias_root[tensor]
        return tensor

    def placed(self, tensor: str) -> list[PlacedBuffer]:
        """Placements of `tensor`, else of its alias root."""
        return self.placements.get(tensor) or self.placements.get(self.root(tensor), [])
