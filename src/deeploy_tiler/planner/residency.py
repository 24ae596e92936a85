"""Residency of read-only tensors (weights, graph inputs such as KV caches) between L2 and L3.

Two questions, asked at two moments:

* Before tiling (`check_memory_levels`): can the memory levels hold the network at all? Budgets above a
  level's usable bytes (size minus reserved) are a `BudgetError`. The least L2 any plan needs is, at
  every step, the activations live then plus the whole read-only operands of the node running then
  (each staged from L3 just for it; without an L3 every DMA-read constant stays resident all run). The
  answer names the step, its node and the parts, in well under a second.
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
from ..solver.residency import MIN_STREAM_BYTES, Candidate, ResidencyProblem, ResidencyResult, l2_live, solve_residency

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


def _weights_in_place_possible(hw: HwSpec, op_type: str) -> bool:
    weights_only = {m.name for m in hw.memories if m.weights_only}
    return any(e.supports(op_type) and set(e.reads_levels) & weights_only for e in hw.engines)


def check_memory_levels(graph: Graph, hw: HwSpec, l2_budget: int) -> None:
    """Raise `InfeasibleBudget` when no plan can fit L2 (module docstring); cheap: one pass over the graph.

    With an L3, the least live profile is every streamable tensor staged over just its readers' steps
    (a constant or graph input of at least `MIN_STREAM_BYTES`, read by non-alias nodes; a smaller one
    stays resident, as the residency solve keeps it); without one, every constant is resident all run."""
    home, backing = _levels(hw)
    l2 = hw.memory(home)
    has_l3 = backing is not None
    a = l2.alignment_bytes
    n = len(graph.nodes)
    readers: dict[str, list[int]] = {}
    for i, node in enumerate(graph.nodes):
        for name in dict.fromkeys(x for x in node.inputs if x):
            readers.setdefault(name, []).append(-1 if node.is_alias else i + 1)
    outputs = set(graph.output_names)
    live = [0] * (n + 2)
    staged = [0] * (n + 2)
    resident = 0
    for b in network_buffers(graph):
        steps = readers.get(b.root, [])
        size = _align(b.size, a)
        if b.constant:
            op_types = {graph.nodes[s - 1].op_type for s in steps if s > 0}
            if any(_weights_in_place_possible(hw, op) for op in op_types):
                continue  # maybe read in place from a weight memory: no L2 at all (a lower bound)
        streamable = (
            has_l3
            and steps
            and -1 not in steps
            and b.size >= MIN_STREAM_BYTES
            and (b.constant or (b.root in graph.input_names and len(b.members) == 1 and b.root not in outputs))
        )
        out_streamable = (
            has_l3
            and -1 not in steps
            and b.size >= MIN_STREAM_BYTES
            and not b.constant
            and b.root in outputs
            and b.root not in graph.input_names
            and len(b.members) == 1
        )
        if out_streamable:  # from its producer to its copy back, right before the node after its last use
            for t in range(b.start, min(max([b.start, *steps]) + 2, n + 2)):
                staged[t] += size
        elif streamable:
            for t in range(min(steps), max(steps) + 1):
                staged[t] += size
        elif b.constant:
            resident += size
        else:
            for t in range(b.start, min(b.end, n + 2)):
                live[t] += size
    need = [live[t] + staged[t] + resident for t in range(n + 2)]
    at = max(range(n + 2), key=lambda t: (need[t], -t))
    if need[at] <= l2_budget:
        return
    where = graph.nodes[min(max(at - 1, 0), n - 1)].name
    if has_l3:
        why = (
            f"at step {at}: {live[at]} B of activations live, {staged[at]} B of read-only operands staged whole "
            f"from L3 for the nodes reading them (tiling a tensor at L2 is not planned), {resident} B of small "
            "constants resident"
        )
    else:
        why = (
            f"{resident} B of constants resident all run (spec {hw.name!r} has no L3) plus {live[at]} B "
            f"of activations live at step {at}"
        )
    raise InfeasibleBudget(home, l2_budget, [(where, need[at], why)])


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
