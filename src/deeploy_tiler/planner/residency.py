"""Residency of read-only tensors (weights, graph inputs such as KV caches) between L2 and L3.

Two questions, asked at two moments:

* Before tiling: budgets above a level's usable bytes (size minus reserved) are a `BudgetError`
  (`check_budgets`); whether the memory levels can hold the network at all is the one early memory check,
  `planner.feasibility.check_memory_levels` (re-exported here), which names the step, its node and the
  parts, in well under a second.
* After tiling (`residency_problem` / `decide_residency`): which candidates stay resident and when each
  streamed copy is issued, minimising the modeled makespan (solver/residency.py, CP-SAT). A candidate
  is a whole read-only tensor that every node reading it DMAs from its home (a weight some node reads
  in place from a weight memory is left out).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ..errors import BudgetError, InfeasibleBudget, PlanError
from ..hw.spec import HwSpec
from ..hw.target import target_of
from ..ir import Graph
from ..memory.network import in_place_weights, network_buffers
from ..plan import Plan
from ..solver import SolverOptions
from ..solver.residency import Candidate, ResidencyProblem, ResidencyResult, l2_live, solve_residency
from .feasibility import check_memory_levels

__all__ = ["Residency", "check_budgets", "check_memory_levels", "decide_residency", "residency_problem"]


def _levels(hw: HwSpec) -> tuple[str, str | None]:
    """(home level, backing level reachable by a DMA from it, or None): L2 and L3 on Siracusa."""
    target = target_of(hw)
    backing = target.backing
    if backing is not None and not any(d.connects(backing.name, target.home.name) for d in hw.dmas):
        backing = None
    return target.home.name, backing.name if backing is not None else None


def _align(n: int, a: int) -> int:
    return -(-n // a) * a


def check_budgets(hw: HwSpec, budgets: dict[str, int | None]) -> None:
    """A budget above its level's usable bytes (size minus reserved), or negative, is a `BudgetError`."""
    names = {m.name for m in hw.memories}
    for level, budget in budgets.items():
        if budget is None:
            continue
        if level not in names:
            raise BudgetError(f"spec {hw.name!r} has no memory level {level!r} to budget", level=level)
        mem = hw.memory(level)
        if not 0 <= budget <= mem.usable_bytes:
            raise BudgetError(
                f"{level} budget {budget} B outside [0, {mem.usable_bytes}] of spec {hw.name!r} (size "
                f"{mem.size_bytes} B minus {mem.reserved_bytes} B reserved); derive a bigger part with "
                "HwSpec.with_overrides",
                level=level,
            )


@dataclass(frozen=True)
class Residency:
    problem: ResidencyProblem
    result: ResidencyResult
    members: dict[str, tuple[str, ...]]  # candidate name -> tensor names (itself)

    def streamed(self) -> list[tuple[Candidate, int, int]]:
        """(candidate, issue step, exposed cycles) of every streamed candidate, in L3 DMA order."""
        out = []
        for k in self.problem.order():
            j = self.result.issue[k]
            if j is not None:
                out.append((self.problem.candidates[k], j, self.result.exposed[k]))
        return out


def residency_problem(plan: Plan, graph: Graph, hw: HwSpec, l2_budget: int, *, window: int = 32) -> ResidencyProblem:
    """The residency problem of a tiled plan (module docstring)."""
    home, backing = _levels(hw)
    if backing is None:
        raise PlanError(f"spec {hw.name!r} has no level to stream from beyond {home}")
    a = hw.memory(home).alignment_bytes
    dma = hw.dma(backing, home)
    n = len(graph.nodes)
    readers: dict[str, list[int]] = {}
    dma_read: dict[str, set[int]] = {}
    for i, (np_, node) in enumerate(zip(plan.nodes, graph.nodes, strict=True)):
        if node.is_alias:
            for name in node.inputs:
                if name:
                    readers.setdefault(name, []).append(-1)  # read through an alias: not a candidate
            continue
        for name in dict.fromkeys(x for x in node.inputs if x):
            readers.setdefault(name, []).append(i + 1)
        for tr in np_.transfers:
            if tr.direction == "in":
                dma_read.setdefault(tr.tensor, set()).add(i + 1)
    outputs = set(graph.output_names)
    inputs = set(graph.input_names)
    in_place = in_place_weights(plan, graph, hw)
    dma_written: dict[str, set[int]] = {}
    for i, np_ in enumerate(plan.nodes):
        for tr in np_.transfers:
            if tr.direction == "out":
                dma_written.setdefault(tr.tensor, set()).add(i + 1)
    cands: list[Candidate] = []
    base = [0] * (n + 2)
    for b in network_buffers(graph):
        steps = readers.get(b.root, [])
        size = _align(b.size, a)
        single = len(b.members) == 1 and graph.tensors[b.root].numel > 0
        is_input = not b.constant and b.root in inputs and single and b.root not in outputs
        is_output = not b.constant and b.root in outputs and single and b.root not in inputs
        reads_by_dma = -1 not in steps and set(steps) <= dma_read.get(b.root, set())
        cycles = math.ceil(dma.transfer_cycles(b.size))
        if (b.constant or is_input) and steps and reads_by_dma and graph.tensors[b.root].numel > 0:
            cands.append(Candidate(b.root, size, min(steps), max(steps), cycles, (b.start, b.end)))
        elif is_output and reads_by_dma and dma_written.get(b.root) == {b.start}:
            back = max([b.start, *steps]) + 1  # copied back right before the node after its last use
            cands.append(Candidate(b.root, size, back, back, cycles, (b.start, b.end), producer=b.start))
        elif not b.constant or b.root not in in_place or b.root in dma_read:
            for t in range(b.start, min(b.end, n + 2)):
                base[t] += size
    compute = tuple(np_.cycles.total for np_ in plan.nodes)
    return ResidencyProblem(compute=compute, base=tuple(base), candidates=tuple(cands), budget=l2_budget, window=window)


def decide_residency(
    plan: Plan,
    graph: Graph,
    hw: HwSpec,
    l2_budget: int,
    *,
    window: int = 32,
    options: SolverOptions | None = None,
) -> Residency:
    """Solve the residency problem; `InfeasibleBudget` when streaming everything still does not fit."""
    problem = residency_problem(plan, graph, hw, l2_budget, window=window)
    problem_home = _levels(hw)[0]
    # the deterministic limit is the one that binds (same plan under any machine load); the wall limit only
    # guards against a runaway solve, so a loaded machine does not cut the search short
    result = solve_residency(problem, options or SolverOptions(time_limit_s=600.0, deterministic_time_limit=0.5))
    if result is None:
        live = l2_live(problem, tuple(c.first for c in problem.candidates))
        at = max(range(len(live)), key=lambda t: (live[t], -t))
        node = graph.nodes[min(max(at - 1, 0), len(graph.nodes) - 1)].name
        staged = live[at] - problem.base[at]
        raise InfeasibleBudget(
            problem_home,
            l2_budget,
            [(node, live[at], f"at step {at}: {problem.base[at]} B live beside {staged} B staged from L3")],
        )
    return Residency(problem=problem, result=result, members={c.name: (c.name,) for c in problem.candidates})
