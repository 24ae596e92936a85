"""Whole-network static memory: every tensor that lives between nodes gets a level and an offset.

Time axis (half-open lifetimes, the allocator's convention): t = 0 is before the run (graph inputs are
written then), node i runs at t = i + 1, t = N + 1 is after the run (graph outputs are read then).
Data-free reshapes alias their input: one buffer serves every name in the chain. Constants live for
the whole run; they stay in L2 while the activations' peak leaves room, the largest move to L3 first.

Weight memory: given the tiling plan, a constant that some node reads in place (no L1 buffer for it,
the node's engine reading a weights-only level such as the NPU's WMEM) is placed in that level, packed
back to back (aligned) in the NPU's layout size, live over the whole run; it is left out of L2 unless
another node still DMAs it from there. The engine choice (solver/engine_choice.py) already kept the
placed bytes within the level's capacity.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import InfeasibleBudget, PlanError
from ..hw.spec import HwSpec
from ..hw.target import target_of
from ..ir import Graph, TensorKind
from ..ops.engines import packed_weight_bytes
from ..plan import LevelUsage, PlacedBuffer, Plan, Staging
from ..units import align_up
from .alloc import AllocationResult, Buffer, allocate


@dataclass(frozen=True)
class HomeBuffer:
    """One buffer of a home level and the tensor names that share it (aliases)."""

    root: str
    members: tuple[str, ...]
    size: int
    start: int
    end: int
    constant: bool


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
        HomeBuffer(
            root=r,
            members=tuple(dict.fromkeys(ms)),
            size=max(graph.tensors[m].nbytes for m in ms),
            start=start[r],
            end=end[r],
            constant=False,
        )
        for r, ms in members.items()
    ]
    buffers += [
        HomeBuffer(root=t.name, members=(t.name,), size=t.nbytes, start=0, end=n + 2, constant=True)
        for t in graph.tensors.values()
        if t.kind is TensorKind.CONSTANT
    ]
    return buffers


def _live_peak(buffers: list[HomeBuffer], align: int) -> tuple[int, int]:
    """(max live bytes, time where it occurs): the allocator's lower bound."""
    events: dict[int, int] = {}
    for b in buffers:
        events[b.start] = events.get(b.start, 0) + align_up(b.size, align)
        events[b.end] = events.get(b.end, 0) - align_up(b.size, align)
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
    staging: tuple[Staging, ...] = ()


@dataclass(frozen=True)
class Streamed:
    """A tensor whose home is L3 with an L2 staging buffer (the fields of `plan.Staging`): in, a read-only
    tensor copied in at `issue` and read over [first, last]; out, a graph output written at `first`, read
    up to `last` and copied back at `issue` = last + 1."""

    tensor: str
    issue: int
    first: int
    last: int
    cycles: int
    exposed: int
    direction: str = "in"

    @property
    def span(self) -> tuple[int, int]:
        """[start, end) of the L2 staging buffer."""
        return (self.issue, self.last + 1) if self.direction == "in" else (self.first, self.issue + 1)


def in_place_weights(
    plan: Plan, graph: Graph, hw: HwSpec, packed: Mapping[str, int] | None = None
) -> dict[str, tuple[str, int]]:
    """Constants some node reads in place from a weights-only level: tensor -> (level, bytes to place,
    the NPU's packed size when the reader is an NPU). `packed` is the tiling stage's record (node ->
    packed weight bytes, from its task model); a node missing from it (a plan read back from JSON) has
    the size derived again by the same ops function."""
    target = target_of(hw)
    names = {e.name for e in target.engines}
    out: dict[str, tuple[str, int]] = {}
    for np_ in plan.nodes:
        if np_.alias_of is not None:
            continue
        reader = target.engine(np_.engine if np_.engine in names else None)
        if reader.weight is None or not reader.weight.weights_only:
            continue
        level = reader.weight.name
        engine = hw.engine(reader.name)
        node = graph.node(np_.name)
        held = {b.tensor for b in np_.buffers}
        for t in node.inputs:
            if not t or t in held or not graph.tensors[t].is_constant or graph.tensors[t].numel == 0:
                continue
            size = graph.tensors[t].nbytes
            # the weight operand: in the engine's own layout, if it packs weights
            if len(node.inputs) > 1 and node.inputs[1] == t:
                own = packed.get(node.name) if packed is not None else None
                if own is None:
                    own = packed_weight_bytes(node, graph, engine)
                if own is not None:
                    size = max(size, own)
            out[t] = (level, max(size, out.get(t, (level, 0))[1]))
    return out


def _place_in_place(
    weights: dict[str, tuple[str, int]], hw: HwSpec, n_steps: int, budgets: dict[str, int]
) -> tuple[list[PlacedBuffer], list[LevelUsage]]:
    placed: list[PlacedBuffer] = []
    levels: list[LevelUsage] = []
    target = target_of(hw)
    for level in sorted({lv for lv, _ in weights.values()}):
        mem = target.level(level)
        capacity = budgets.get(level, mem.budget_bytes)
        offset = 0
        for t in sorted(w for w, (lv, _) in weights.items() if lv == level):
            size = weights[t][1]
            placed.append(PlacedBuffer(tensor=t, level=level, offset=offset, size=size, start=0, end=n_steps + 2))
            offset = align_up(offset + size, mem.alignment)
        if offset > capacity:
            raise InfeasibleBudget(
                level, capacity, [(next(iter(weights)), offset, f"weights read in place from {level}")]
            )
        levels.append(
            LevelUsage(level=level, capacity=capacity, peak=offset, lower_bound=offset, strategy="sequential")
        )
    return placed, levels


# Wall-clock safety net of a work-limited packing: far above what the work limit takes, so it never binds
# on a working machine (a plan must not depend on the load).
SAFETY_NET_S = 600.0


def plan_memory(
    graph: Graph,
    hw: HwSpec,
    *,
    l2_budget: int,
    strategy: str = "auto",
    work_limit: float | None = 10.0,
    plan: Plan | None = None,
    constants_to_l3: bool = False,
    packed_weights: Mapping[str, int] | None = None,
    streamed: tuple[Streamed, ...] = (),
) -> MemoryPlan:
    """Static offsets of every tensor living between nodes; with the tiling `plan`, the weights its nodes
    read in place go to their weight memory (see the module docstring).

    By default every constant the tiles stream stays resident in L2 (the tiler moves data between L2 and
    L1 only): an L2 budget too small for that is infeasible, with the exact L2 it takes. With
    `constants_to_l3=True` the largest constants move to L3 instead (a layout the emitter can realise,
    but whose transfers the tiler has not costed).

    `work_limit` bounds each level's packing effort reproducibly (search nodes and CP-SAT deterministic
    time, about seconds on an idle machine); None: the allocator's own defaults, no bound.

    `streamed` (the residency decision, planner/residency.py): those tensors live in the backing level
    (L3), each with a home-level staging buffer over its span; the `Staging` records say when to copy."""
    if plan is not None and plan.model != graph.name:
        raise PlanError(f"plan is for model {plan.model!r}, graph is {graph.name!r}")
    target = target_of(hw)
    l2, l3 = target.home, target.backing  # activations' level; where constants may spill (None: nowhere)
    buffers = network_buffers(graph)
    in_place = in_place_weights(plan, graph, hw, packed_weights) if plan is not None else {}
    dma_read = {t.tensor for np_ in plan.nodes for t in np_.transfers} if plan is not None else set()
    wmem_placed, wmem_levels = _place_in_place(in_place, hw, len(graph.nodes), dict(plan.budgets) if plan else {})
    stream_of = {s.tensor: s for s in streamed}
    if stream_of and l3 is None:
        raise PlanError(f"spec {hw.name!r} has no backing level to stream {sorted(stream_of)[:3]} from")
    homed_l3 = [b for b in buffers if b.root in stream_of]
    stagings = [
        HomeBuffer(
            root=f"{b.root}@stage{stream_of[b.root].issue}",
            members=b.members,
            size=b.size,
            start=stream_of[b.root].span[0],
            end=stream_of[b.root].span[1],
            constant=False,
        )
        for b in homed_l3
    ]
    buffers = [b for b in buffers if b.root not in stream_of]
    activations = [b for b in buffers if not b.constant]
    constants = sorted(
        (b for b in buffers if b.constant and (b.root not in in_place or b.root in dma_read)),
        key=lambda b: (-b.size, b.root),
    )
    act_peak, at = _live_peak(activations + stagings, l2.alignment)
    resident = act_peak + sum(align_up(b.size, l2.alignment) for b in constants)
    if not constants_to_l3 and resident > l2_budget:
        node = graph.nodes[min(max(at - 1, 0), len(graph.nodes) - 1)].name
        raise InfeasibleBudget(
            l2.name,
            l2_budget,
            [
                (
                    node,
                    resident,
                    f"{resident - act_peak} B of streamed constants stay resident beside {act_peak} B of "
                    f"activations live at step {at} (staging weights from L3 is not planned)",
                )
            ],
        )
    if act_peak > l2_budget:
        node = graph.nodes[min(max(at - 1, 0), len(graph.nodes) - 1)].name
        raise InfeasibleBudget(l2.name, l2_budget, [(node, act_peak, f"activations live at step {at} of the run")])
    in_l2 = list(constants)
    in_l3: list[HomeBuffer] = list(homed_l3)
    const_bytes = sum(align_up(b.size, l2.alignment) for b in in_l2)
    while constants_to_l3 and in_l2 and act_peak + const_bytes > l2_budget:
        moved = in_l2.pop(0)
        in_l3.append(moved)
        const_bytes -= align_up(moved.size, l2.alignment)
    if in_l3 and l3 is None:
        # Constants live for the whole run, so the binding moment is the activations' peak.
        node = graph.nodes[min(max(at - 1, 0), len(graph.nodes) - 1)].name
        total_const = sum(align_up(b.size, l2.alignment) for b in constants)
        raise InfeasibleBudget(
            l2.name,
            l2_budget,
            [
                (
                    node,
                    act_peak + total_const,
                    f"{total_const} B of resident constants plus {act_peak} B of activations live at step {at}; "
                    f"{hw.name} has no L3 to hold weights",
                )
            ],
        )
    placed: list[PlacedBuffer] = []
    levels: list[LevelUsage] = []
    tiers = [(l2, l2_budget, activations + in_l2 + stagings)] + ([(l3, l3.size_bytes, in_l3)] if l3 is not None else [])
    for tier, capacity, group in tiers:
        if not group:
            continue
        level = tier.name
        result = _allocate_level(group, capacity, tier.alignment, strategy, work_limit)
        if not result.solved:
            raise InfeasibleBudget(
                level,
                capacity,
                [(graph.nodes[0].name, result.peak, f"no static packing of {level} found within the budget")],
            )
        for b in group:
            root = b.members[0] if "@stage" in b.root else b.root
            for m in b.members:
                placed.append(
                    PlacedBuffer(
                        tensor=m,
                        level=level,
                        offset=result.offsets[b.root],
                        size=b.size,
                        start=b.start,
                        end=b.end,
                        alias_of=None if m == root else root,
                    )
                )
        levels.append(
            LevelUsage(
                level=level,
                capacity=capacity,
                peak=result.peak,
                lower_bound=result.lower_bound,
                strategy=result.strategy,
            )
        )
    staged_at = {(p.tensor, p.start): p.offset for p in placed if p.level == l2.name and p.tensor in stream_of}
    staging = tuple(
        Staging(
            id=k,
            tensor=s.tensor,
            direction="in" if s.direction == "in" else "out",
            home_level=l3.name if l3 is not None else "",
            staged_level=l2.name,
            staged_offset=staged_at[(s.tensor, s.span[0])],
            bytes=graph.tensors[s.tensor].nbytes,
            issue_step=s.issue,
            first_step=s.first,
            last_step=s.last,
            cycles=s.cycles,
            exposed_cycles=s.exposed,
        )
        for k, s in enumerate(streamed)
    )
    home = {p.tensor: p.level for p in placed if p.tensor not in stream_of}  # a weight also DMA'd: L2 / L3
    home.update({s.tensor: l3.name for s in streamed if l3 is not None})
    home.update({t: lv for t, (lv, _) in in_place.items() if t not in home})
    placed += wmem_placed
    levels += wmem_levels
    placed.sort(key=lambda p: (p.level, p.offset, p.start, p.tensor))
    return MemoryPlan(placed=tuple(placed), levels=tuple(levels), home_level=home, staging=staging)


def _allocate_level(
    group: list[HomeBuffer], capacity: int, alignment: int, strategy: str, work_limit: float | None
) -> AllocationResult:
    # effort bounded reproducibly (work units), not by the wall clock: the same plan on a busy machine
    return allocate(
        [Buffer(id=b.root, start=b.start, end=b.end, size=max(b.size, 1), alignment=alignment) for b in group],
        capacity,
        strategy=strategy,
        time_limit=None if work_limit is None else SAFETY_NET_S,
        work_limit=work_limit,
    )
