"""What a report shows of one plan, as plain records: per-node rows (cycles split into compute, call
overhead and exposed DMA; engine and why), blocks (layers) for grouping, and memory-map rectangles per
level (resident weights merged into blocks, every rectangle with its tensor, size, lifetime, home level,
producer and consumers).

Everything comes from the `Plan` (a saved plan JSON is enough); the spec adds call overheads and the
clock, the graph adds MACs and tells network inputs from constants. No plotting library here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import HwSpecError
from ..plan import EngineAlternative, NodePlan, Plan

if TYPE_CHECKING:
    from ..hw.spec import HwSpec
    from ..ir import Graph

__all__ = [
    "MemRect",
    "NodeRow",
    "PlanFacts",
    "memory_levels",
    "memory_rects",
    "node_blocks",
    "node_rows",
    "plan_facts",
    "short_name",
]

# Exporter noise in generated names (QuantLib, torch.onnx): dropped from the short names shown on axes.
_NOISE = re.compile(r"_?_QL_REPLACED__|INTEGERIZE_|INTEGER_|_PASS(?=_\d)|_QL_OP_TREE_REPLACE_|onnx::")
_NUMBERED = re.compile(r"^(.*?[A-Za-z_]\w*[./]\d+)(?=[./]|$)")  # a module path up to its first index
MERGE_SLACK_BYTES = 64  # alignment padding tolerated between two constants merged into one block


def short_name(name: str, width: int = 26) -> str:
    """A label for an axis or a table: exporter noise dropped; long names keep their distinctive end."""
    s = _NOISE.sub("", name).strip("_") or name
    return s if len(s) <= width else "\u2026" + s[-(width - 1) :]


@dataclass(frozen=True)
class NodeRow:
    """One planned node as a report shows it."""

    index: int  # position in the plan (node i runs at step i + 1)
    name: str
    short: str
    block: str
    op_type: str
    engine: str
    tile_shape: tuple[int, ...]
    num_tiles: int
    l1_bytes: int
    dma_bytes: int
    work: int  # kernel cycles without the per-call overheads
    overhead: int  # per-tile call overheads (0 without a spec: then inside `work`)
    exposed_dma: int
    hidden_dma: int  # DMA cycles hidden behind compute
    total: int
    lower_bound: int
    gap: float
    why: str  # why this engine (the chosen alternative's reason), "" when there was no choice
    alternatives: tuple[EngineAlternative, ...]
    macs: int | None
    alias_of: str | None
    solve: str  # how the tiling was found: OPTIMAL (proven best), FEASIBLE, UNTILED, CACHED, ...
    homes: str  # levels the node's DMA transfers reach (where its inputs, weights and output live)


def _block_of(tensor: str, depth: int = 1) -> str | None:
    """The module path of a tensor name up to its `depth`-th index (`net.0.net.1` at depth 2)."""
    parts = re.split(r"([./])", tensor)
    seen = 0
    for k in range(0, len(parts), 2):
        if parts[k].isdigit() and k > 0:
            seen += 1
            if seen == depth:
                return "".join(parts[: k + 1])
    return None


def _block_depth(names: Sequence[str], nodes: int) -> int:
    """The deepest index depth whose blocks stay few enough to read (at most one per 4 nodes, >= 8)."""
    best, best_count = 1, 0
    for depth in (1, 2, 3):
        count = len({b for t in names if (b := _block_of(t, depth))})
        if best_count < count <= max(8, nodes // 4):
            best, best_count = depth, count
    return best


def node_blocks(plan: Plan) -> dict[str, str]:
    """Node -> block: the indexed module path (`layers.3`, `net.0`) of the weights it reads, from its
        least shared weights (exporters share equal constants across layers); a node reading none belongs to
        the block before it ("prologue" before the first), and so does a node whose weights name a block met
    earlier (blocks follow the graph order)."""
    readers: dict[str, int] = {}
    for n in plan.nodes:
        for w in n.buffers:
            if w.role == "weight" and w.tensor:
                readers[w.tensor] = readers.get(w.tensor, 0) + 1
    depth = _block_depth(list(readers), len(plan.nodes))
    # Weights read by one node are the evidence when there are any: a shared constant's name may come
    # from any layer that uses it.
    exclusive = any(c == 1 and _block_of(t, depth) for t, c in readers.items())
    blocks: dict[str, str] = {}
    seen: set[str] = set()
    current = "prologue"
    for n in plan.nodes:
        named = [
            (readers[w.tensor], b)
            for w in n.buffers
            if w.role == "weight" and w.tensor and (b := _block_of(w.tensor, depth))
        ]
        fewest = 1 if exclusive else min((c for c, _ in named), default=0)
        fresh = sorted(b for c, b in named if c == fewest and b not in seen)
        if fresh:  # only a block not seen before starts a new one: stray reads of shared constants do not
            current = fresh[0]
            seen.add(current)
        blocks[n.name] = current
    return blocks


def _overhead(n: NodePlan, hw: HwSpec | None) -> int:
    if hw is None or n.alias_of is not None:
        return 0
    try:
        per_call = hw.engine(n.engine).call_overhead_cycles
    except HwSpecError:  # a plan from another spec: show the overhead inside compute rather than fail
        return 0
    return min(n.num_tiles * per_call, n.cycles.compute)


def _why(n: NodePlan) -> str:
    chosen = [a.reason for a in n.alternatives if a.reason.startswith("chosen")]
    return chosen[0] if chosen else ""


def node_rows(plan: Plan, hw: HwSpec | None = None, graph: Graph | None = None) -> list[NodeRow]:
    """Every node of the plan (data-free reshapes included, with zero cycles), in plan order."""
    blocks = node_blocks(plan)
    macs: dict[str, int] = {}
    if graph is not None:
        macs = {nd.name: nd.macs for nd in graph.nodes}
    rows = []
    for i, n in enumerate(plan.nodes):
        over = _overhead(n, hw)
        exposed = n.cycles.total - n.cycles.compute
        rows.append(
            NodeRow(
                index=i,
                name=n.name,
                short=short_name(n.name),
                block=blocks[n.name],
                op_type=n.op_type,
                engine=n.engine,
                tile_shape=n.tile_shape,
                num_tiles=n.num_tiles,
                l1_bytes=n.l1_bytes,
                dma_bytes=n.dma_bytes,
                work=n.cycles.compute - over,
                overhead=over,
                exposed_dma=exposed,
                hidden_dma=max(0, n.cycles.dma - exposed),
                total=n.cycles.total,
                lower_bound=n.lower_bound_cycles,
                gap=n.gap,
                why=_why(n),
                alternatives=n.alternatives,
                macs=macs.get(n.name),
                alias_of=n.alias_of,
                solve=n.solve.status,
                homes=", ".join(sorted({t.home_level for t in n.transfers})) or "-",
            )
        )
    return rows


@dataclass(frozen=True)
class MemRect:
    """A rectangle of a memory map: steps [x0, x1) by addresses [offset, offset + size)."""

    level: str
    x0: float
    x1: float
    offset: int
    size: int
    label: str  # the tensor (or block) name
    kind: str  # input, output, weight, scratch, descriptors (L1); weights, activation, network input (L2...)
    group: str  # the legend entry: the kind, or "weights <block>" for merged constants
    hover: str  # everything about it, as HTML lines for a tooltip


def memory_levels(plan: Plan) -> list[str]:
    """Levels a map can be drawn for: L1 (the nodes' buffers) and every level of the static plan."""
    levels = list(dict.fromkeys(b.level for n in plan.nodes for b in n.buffers))
    return [*levels, *[lv for lv in dict.fromkeys(b.level for b in plan.memory) if lv not in levels]]


def _step_name(plan: Plan, step: int) -> str:
    i = step - 1
    if 0 <= i < len(plan.nodes):
        return f"{step} ({short_name(plan.nodes[i].name)})"
    return f"{step} ({'before the first node' if i < 0 else 'after the last node'})"


def _l1_rects(plan: Plan, level: str) -> list[MemRect]:
    rects = []
    for i, n in enumerate(plan.nodes):
        for b in n.buffers:
            if b.level != level:
                continue
            tile = "x".join(map(str, b.tile_shape)) or "-"
            copies = "double-buffered (2 slots)" if b.copies == 2 else "single slot"
            rects.append(
                MemRect(
                    level=level,
                    x0=i + 1,
                    x1=i + 2,
                    offset=b.offset,
                    size=b.bytes,
                    label=b.tensor or b.name,
                    kind=b.role,
                    group=b.role,
                    hover=(
                        f"<b>{_esc(b.tensor or b.name)}</b><br>{b.role} buffer {_esc(b.name)} of node #{i} "
                        f"{_esc(short_name(n.name))}<br>{b.bytes:,} B at {b.offset:,} ({b.slot_bytes:,} B x "
                        f"{b.copies}, {copies})<br>tile {tile} {b.dtype}, {n.num_tiles} tile(s)"
                    ),
                )
            )
    return rects


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _tensor_roles(plan: Plan) -> tuple[dict[str, str], dict[str, list[str]], set[str]]:
    producer = {n.output_tensor: n.name for n in plan.nodes}
    consumers: dict[str, list[str]] = {}
    weights: set[str] = set()
    for n in plan.nodes:
        for b in n.buffers:
            if b.tensor is None or b.role in ("output", "scratch", "descriptors"):
                continue
            consumers.setdefault(b.tensor, []).append(n.name)
            if b.role == "weight":
                weights.add(b.tensor)
    return producer, consumers, weights


def memory_rects(plan: Plan, level: str, graph: Graph | None = None) -> list[MemRect]:
    """The rectangles of one level. L1: each node's buffers while it runs (x = its step). L2 / L3 /
    WMEM: each tensor of the static plan over its lifetime; weights of one block that sit side by side
    with one lifetime are merged into a single rectangle (its tooltip lists the largest of them)."""
    if level == "L1" or any(b.level == level for n in plan.nodes for b in n.buffers):
        return _l1_rects(plan, level)
    producer, consumers, weights = _tensor_roles(plan)
    read_as_input = {b.tensor for n in plan.nodes for b in n.buffers if b.role == "input" and b.tensor}
    blocks = node_blocks(plan)
    inputs = {t.name for t in graph.inputs} if graph is not None else set()
    constants = {t.name for t in graph.constants} if graph is not None else set()
    placed = sorted((b for b in plan.memory if b.level == level and b.alias_of is None), key=lambda b: b.offset)

    def kind(t: str) -> str:
        if t in weights or t in constants:
            return "weights"
        if t in producer:
            return "activation"
        if graph is not None:
            return "network input" if t in inputs else "weights"
        return "network input" if t in read_as_input else "weights"

    rects: list[MemRect] = []
    run: list[tuple[str, int, int, str]] = []  # (tensor, offset, size, block) of the weights being merged
    span = (0, 0)

    def flush() -> None:
        if not run:
            return
        total = sum(s for _, _, s, _ in run)
        top = sorted(run, key=lambda r: -r[2])[:6]
        listed = "<br>".join(f"&nbsp;&nbsp;{_esc(t)}: {s:,} B at {o:,}" for t, o, s, _ in top)
        more = f"<br>&nbsp;&nbsp;... and {len(run) - len(top)} more" if len(run) > len(top) else ""
        block = run[0][3]
        first = run[0][0]
        users = ", ".join(short_name(c) for c in list(dict.fromkeys(consumers.get(first, [])))[:4]) or "-"
        label = first if len(run) == 1 else f"{block} weights ({len(run)})"
        rects.append(
            MemRect(
                level=level,
                x0=span[0],
                x1=span[1],
                offset=run[0][1],
                size=run[-1][1] + run[-1][2] - run[0][1],
                label=label,
                kind="weights",
                group=f"weights {block}",
                hover=(
                    f"<b>{_esc(label)}</b><br>{len(run)} constant(s), {total:,} B, home {level}, resident over "
                    f"steps {span[0]}..{span[1]}<br>block {_esc(block)}; read by {_esc(users)}<br>{listed}{more}"
                ),
            )
        )
        run.clear()

    for b in placed:
        k = kind(b.tensor)
        if k == "weights":
            users = consumers.get(b.tensor, [])
            block = blocks[users[0]] if users else (_block_of(b.tensor) or "read in place")
            adjacent = run and b.offset - (run[-1][1] + run[-1][2]) <= MERGE_SLACK_BYTES
            if not (adjacent and run[-1][3] == block and span == (b.start, b.end)):
                flush()
                span = (b.start, b.end)
            run.append((b.tensor, b.offset, b.size, block))
            continue
        made = producer.get(b.tensor)
        users = list(dict.fromkeys(consumers.get(b.tensor, [])))
        rects.append(
            MemRect(
                level=level,
                x0=b.start,
                x1=b.end,
                offset=b.offset,
                size=b.size,
                label=b.tensor,
                kind=k,
                group=k,
                hover=(
                    f"<b>{_esc(b.tensor)}</b><br>{k}, {b.size:,} B at {b.offset:,}, home {level}<br>live from step "
                    f"{_esc(_step_name(plan, b.start))} to {_esc(_step_name(plan, b.end))}<br>produced by "
                    f"{_esc(short_name(made) if made else 'the caller')}; read by "
                    f"{_esc(', '.join(short_name(c) for c in users[:4]) or '-')}"
                    + (f" and {len(users) - 4} more" if len(users) > 4 else "")
                ),
            )
        )
    flush()
    return rects


@dataclass(frozen=True)
class PlanFacts:
    """The five-second summary of a plan."""

    model: str
    hw: str
    budgets: dict[str, int]
    nodes: int
    tiles: int
    total_cycles: int
    lower_bound_cycles: int
    gap: float
    latency_s: float | None
    tokens_per_s: float | None
    work: int
    overhead: int
    exposed_dma: int
    dma_bytes: int
    l1_peak: int
    level_peaks: dict[str, tuple[int, int]]  # level -> (peak, capacity) of the static plan
    engines: dict[str, int]  # engine -> nodes on it
    top_nodes: tuple[tuple[str, int], ...]  # the most expensive nodes (short name, cycles)
    macs: int | None
    l3_bytes: int = 0  # the L3 DMA's bytes per run (staged copies in and back)
    l3_copies: int = 0
    l3_wait_cycles: int = 0  # cycles nodes wait for L3 copies (part of total_cycles)
    l3_bytes_per_token: float | None = None


def plan_facts(
    plan: Plan, rows: Sequence[NodeRow], hw: HwSpec | None = None, *, tokens_per_step: int | None = None
) -> PlanFacts:
    real = [r for r in rows if r.alias_of is None]
    latency = plan.total_cycles / hw.clock_hz if hw is not None and hw.clock_hz else None
    engines: dict[str, int] = {}
    for r in real:
        engines[r.engine] = engines.get(r.engine, 0) + 1
    macs = [r.macs for r in real if r.macs is not None]
    return PlanFacts(
        model=plan.model,
        hw=plan.hw,
        budgets=dict(plan.budgets),
        nodes=len(real),
        tiles=plan.num_tiles,
        total_cycles=plan.total_cycles,
        lower_bound_cycles=plan.lower_bound_cycles,
        gap=plan.gap,
        latency_s=latency,
        tokens_per_s=tokens_per_step / latency if tokens_per_step and latency else None,
        work=sum(r.work for r in real),
        overhead=sum(r.overhead for r in real),
        exposed_dma=sum(r.exposed_dma for r in real),
        dma_bytes=sum(r.dma_bytes for r in real),
        l1_peak=max((r.l1_bytes for r in real), default=0),
        level_peaks={lv.level: (lv.peak, lv.capacity) for lv in plan.levels},
        engines=engines,
        top_nodes=tuple((r.short, r.total) for r in sorted(real, key=lambda r: -r.total)[:3]),
        macs=sum(macs) if macs else None,
        l3_bytes=plan.l3_bytes,
        l3_copies=len(plan.staging),
        l3_wait_cycles=sum(s.exposed_cycles for s in plan.staging),
        l3_bytes_per_token=plan.l3_bytes / tokens_per_step if tokens_per_step else None,
    )
