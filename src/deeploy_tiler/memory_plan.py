"""Whole-network static memory: every tensor that lives between nodes gets a level and an offset.

Time axis (half-open lifetimes, the allocator's convention): t = 0 is before the run (graph inputs are
written then), node i runs at t = i + 1, t = N + 1 is after the run (graph outputs are read then).
Data-free reshapes alias their input: one buffer serves every name in the chain. Constants live for
the whole run; they stay in L2 while the activations' peak leaves room, the largest move to L3 first.
"""

from __future__ import annotations

from dataclasses import dataclass

from .alloc import AllocationResult, Buffer, allocate
from .errors import InfeasibleBudget
from .hw import HwSpec
from .ir import Graph, TensorKind
from .plan import LevelUsage, PlacedBuffer


@dataclass(frozen=True)
class HomeBuffer:
    """One buffer of a home level and the tensor names that share it (aliases)."""

    root: str
    members: tuple[str, ...]
    size: int
    start: int
    end: int
    constant: bool


def _align(n: int, a: int) -> int:
    return -(-n // a) * a


def network_buffers(graph: Graph) -> list[HomeBuffer]:
    """Buffers with lifetimes from the execution order; alias chains merged into their root."""
    n = len(graph.nodes)
    root: dict[str, str] = {}
    start: dict[str, int] = {}
    end: dict[str, int] = {}

    def find(t: str) -> str:
        while t in root:
            t = root[t]
        return t

    for t in graph.input_names:
        start[t], end[t] = 0, 1
    for i, node in enumerate(graph.nodes):
        step = i + 1
        for t in node.inputs:
            if t and not graph.tensors[t].is_constant:
                r = find(t)
                end[r] = max(end[r], step + 1)
        if node.is_alias and node.inputs and not graph.tensors[node.inputs[0]].is_constant:
            root[node.outputs[0]] = find(node.inputs[0])
            continue
        for t in node.outputs:
            start[t], end[t] = step, step + 1
    for t in graph.output_names:
        r = find(t)
        end[r] = n + 2
    members: dict[str, list[str]] = {}
    for t in (*graph.input_names, *(o for node in graph.nodes for o in node.outputs)):
        members.setdefault(find(t), []).append(t)
    buffers = [
        HomeBuffer(root=r, members=tuple(dict.fromkeys(ms)), size=max(graph.tensors[m].nbytes for m in ms),
                   start=start[r], end=end[r], constant=False)
        for r, ms in members.items()
    ]
    buffers += [HomeBuffer(root=t.name, members=(t.name,), size=t.nbytes, start=0, end=n + 2, constant=True)
                for t in graph.tensors.values() if t.kind is TensorKind.CONSTANT]
    return buffers


def _live_peak(buffers: list[HomeBuffer], align: int) -> tuple[int, int]:
    """(max live bytes, time where it occurs): the allocator's lower bound."""
    events: dict[int, int] = {}
    for b in buffers:
        events[b.start] = events.get(b.start, 0) + _align(b.size, align)
        events[b.end] = events.get(b.end, 0) - _align(b.size, align)
    live = peak = 0
    at = 0
    for t in sorted(events):
        live += events[t]
        if live > peak:
            peak, at = live, t
    return peak, at


@dataclass(frozen=True)
class MemoryPlan:
    placed: tuple[PlacedBuffer, ...]
    levels: tuple[LevelUsage, ...]
    home_level: dict[str, str]  # tensor -> level name


def plan_memory(graph: Graph, hw: HwSpec, *, l2_budget: int, strategy: str = "auto",
                time_limit: float | None = 10.0) -> MemoryPlan:
    l2 = hw.memory("L2")
    l3 = next((m for m in hw.memories if m.name == "L3"), None)
    buffers = network_buffers(graph)
    activations = [b for b in buffers if not b.constant]
    constants = sorted((b for b in buffers if b.constant), key=lambda b: (-b.size, b.root))
    act_peak, at = _live_peak(activations, l2.alignment_bytes)
    if act_peak > l2_budget:
        node = graph.nodes[min(max(at - 1, 0), len(graph.nodes) - 1)].name
        raise InfeasibleBudget("L2", l2_budget, [(node, act_peak, f"activations live at step {at} of the run")])
    in_l2 = list(constants)
    in_l3: list[HomeBuffer] = []
    const_bytes = sum(_align(b.size, l2.alignment_bytes) for b in in_l2)
    while in_l2 and act_peak + const_bytes > l2_budget:
        moved = in_l2.pop(0)
        in_l3.append(moved)
        const_bytes -= _align(moved.size, l2.alignment_bytes)
    if in_l3 and l3 is None:
        raise InfeasibleBudget("L2", l2_budget, [(graph.nodes[0].name, act_peak + sum(b.size for b in in_l3),
                                                  "constants and activations exceed L2 and the spec has no L3")])
    placed: list[PlacedBuffer] = []
    levels: list[LevelUsage] = []
    for level, capacity, group in (("L2", l2_budget, activations + in_l2),
                                   ("L3", l3.size_bytes if l3 else 0, in_l3)):
        if not group:
            continue
        spec = hw.memory(level)
        result = _allocate_level(group, capacity, spec.alignment_bytes, strategy, time_limit)
        if not result.solved:
            raise InfeasibleBudget(level, capacity, [(graph.nodes[0].name, result.peak,
                                                      f"no static packing of {level} found within the budget")])
        for b in group:
            for m in b.members:
                placed.append(PlacedBuffer(tensor=m, level=level, offset=result.offsets[b.root], size=b.size,
                                           start=b.start, end=b.end, alias_of=None if m == b.root else b.root))
        levels.append(LevelUsage(level=level, capacity=capacity, peak=result.peak,
                                 lower_bound=result.lower_bound, strategy=result.strategy))
    placed.sort(key=lambda p: (p.level, p.offset, p.start, p.tensor))
    return MemoryPlan(placed=tuple(placed), levels=tuple(levels), home_level={p.tensor: p.level for p in placed})


def _allocate_level(group: list[HomeBuffer], capacity: int, alignment: int, strategy: str,
                    time_limit: float | None) -> AllocationResult:
    return allocate([Buffer(id=b.root, start=b.start, end=b.end, size=max(b.size, 1), alignment=alignment)
                     for b in group], capacity, strategy=strategy, time_limit=time_limit)
