"""What every check reads: the plan, graph and spec, the report it adds to, and look-ups built once."""

from __future__ import annotations

from dataclasses import dataclass

from ..hw.spec import HwSpec, MemoryLevel
from ..ir import Graph
from ..plan import PlacedBuffer, Plan
from .violations import Report, ViolationKind


@dataclass
class Context:
    plan: Plan
    graph: Graph
    hw: HwSpec
    report: Report
    levels: dict[str, MemoryLevel]
    l1: str
    placements: dict[str, list[PlacedBuffer]]
    alias_root: dict[str, str]

    def add(self, kind: ViolationKind, node: str | None, message: str) -> None:
        self.report.add(kind, node, message)

    def budget(self, level: str) -> int:
        if level in self.plan.budgets:
            return self.plan.budgets[level]
        return self.levels[level].budget_bytes

    def root(self, tensor: str) -> str:
        seen = set()
        while tensor in self.alias_root and tensor not in seen:
            seen.add(tensor)
            tensor = self.alias_root[tensor]
        return tensor

    def placed(self, tensor: str) -> list[PlacedBuffer]:
        return self.placements.get(tensor) or self.placements.get(self.root(tensor), [])
