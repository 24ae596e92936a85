"""Independent checks of planned nodes, shared by the planner / solver tests.

They read only the Plan, the Graph and the HwSpec: painting the output tiles, simulating the event
list for hazards, and recomputing the modeled cycles from the transfers with the documented formula.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise
from math import prod

import numpy as np

from deeploy_tiler.hw import HwSpec
from deeploy_tiler.ir import Graph
from deeploy_tiler.plan import NodePlan, Plan

Region = tuple[tuple[int, int], ...]


def runs(region: Region, shape: tuple[int, ...], max_dims: int = 0) -> int:
    """Contiguous runs of a row-major region, or strided transfers of <= max_dims dims (independent)."""
    j = 0
    for k in range(len(shape) - 1, -1, -1):
        if region[k][1] != shape[k]:
            j = k
            break
    outer = max(j - (max_dims - 1), 0) if max_dims else j
    return prod(region[i][1] for i in range(outer))


def paint_coverage(node: NodePlan, graph: Graph) -> None:
    out = np.zeros(graph.tensor(node.output_tensor).shape, dtype=np.int64)
    for step in node.steps:
        out[tuple(slice(s, s + z) for s, z in step.output_region)] += 1
    assert (out == 1).all(), f"{node.name}: output not covered exactly once"


def simulate(node: NodePlan) -> None:
    """Replay the events: no hazard, every transfer waited for, every compute sees its regions."""
    transfers = {t.id: t for t in node.transfers}
    started: set[int] = set()
    done: set[int] = set()
    content: dict[tuple[str, int], int] = {}  # (buffer, slot) -> last transfer id into it (loads)
    pending_store: dict[tuple[str, int], int] = {}
    written: dict[tuple[str, int], Region] = {}  # output slot -> region of the compute that wrote it
    out_buf = next(b.name for b in node.buffers if b.role == "output")
    for ev in node.events:
        if ev.kind == "dma_start":
            t = transfers[ev.ref]
            assert ev.ref not in started
            started.add(ev.ref)
            key = (t.buffer, t.slot)
            if t.direction == "in":
                prev = content.get(key)
                assert prev is None or prev in done, f"{node.name}: load {t.id} over a pending load"
                content[key] = t.id
            else:
                assert written.get(key) == t.region, f"{node.name}: store {t.id} of an unwritten region"
                pending_store[key] = t.id
        elif ev.kind == "dma_wait":
            assert ev.ref in started and ev.ref not in done
            done.add(ev.ref)
            for k, v in list(pending_store.items()):
                if v == ev.ref:
                    del pending_store[k]
        else:
            step = node.steps[ev.ref]
            for buf, slot in step.slots.items():
                key = (buf, slot)
                if buf == out_buf:
                    assert key not in pending_store, f"{node.name}: compute {ev.ref} over a pending store"
                    written[key] = step.output_region
                else:
                    tid = content.get(key)
                    assert tid is not None and tid in done, f"{node.name}: compute {ev.ref} before its load"
                    assert transfers[tid].region == step.regions[buf]
    assert done == set(transfers), f"{node.name}: transfers never waited for"
    assert not pending_store


def check_buffers(node: NodePlan, budget: int, alignment: int) -> None:
    spans = sorted((b.offset, b.offset + b.bytes) for b in node.buffers)
    for (_, e0), (s1, _) in pairwise(spans):
        assert e0 <= s1, f"{node.name}: buffers overlap"
    assert all(b.offset % alignment == 0 and b.slot_bytes % alignment == 0 for b in node.buffers)
    assert sum(b.bytes for b in node.buffers) == node.l1_bytes <= budget
    bufs = {b.name: b for b in node.buffers}
    for t in node.transfers:
        b = bufs[t.buffer]
        assert t.slot < b.copies
        assert all(z <= m for (_, z), m in zip(t.region, b.tile_shape, strict=True))
        assert t.bytes <= b.slot_bytes


def recompute_cycles(node: NodePlan, graph: Graph, hw: HwSpec, handover: int = 0) -> int:
    """Modeled cycles from the transfers (cost.py's documented formula, written out again); `handover`
    cycles of an engine switch before the node are in its compute and added once to its total."""
    eng = hw.engine(node.engine)
    l1 = eng.reads_levels[0]
    dma = hw.dma(node.transfers[0].home_level, l1)
    bw = Fraction(dma.bandwidth_bytes_per_cycle).limit_denominator(10**6)

    def cyc(t_bytes: int, region: Region, tensor: str) -> Fraction:
        shape = graph.tensor(tensor).shape
        return (
            dma.setup_latency_cycles * runs(region, shape, dma.max_dims)
            + dma.per_row_cycles * max(runs(region, shape), 1)
            + Fraction(t_bytes) / bw
        )

    per_buf: dict[str, list[Fraction]] = {}
    for t in node.transfers:
        per_buf.setdefault(t.buffer, []).append(cyc(t.bytes, t.region, t.tensor))
    copies = {b.name: b.copies for b in node.buffers}
    roles = {b.name: b.role for b in node.buffers}
    edge = single = double = Fraction(0)
    for buf, cs in per_buf.items():
        e = cs[-1] if roles[buf] == "output" else cs[0]
        edge += e
        if copies[buf] == 2:
            double += sum(cs) - e
        else:
            single += sum(cs) - e
    compute = Fraction(node.cycles.compute - handover)
    total = edge + single + max(compute, double) + handover
    return int(-(-total // 1))


def handovers(plan: Plan, hw: HwSpec) -> dict[str, int]:
    """Per compute node, the handover cycles it pays: an engine kind different from the previous compute
    node's (the run starts on the cluster), at the plan's `handover_cycles`."""
    cost = int(plan.options.get("handover_cycles", 0))
    kinds = {e.name: e.kind for e in hw.engines}
    out: dict[str, int] = {}
    prev = "cluster"
    for node in plan.nodes:
        if node.alias_of is not None:
            continue
        kind = kinds.get(node.engine, "cluster")
        out[node.name] = cost if kind != prev else 0
        prev = kind
    return out


def check_plan(plan: Plan, graph: Graph, hw: HwSpec) -> None:
    alignment = hw.memory(hw.engine(plan.nodes[0].engine).reads_levels[0]).alignment_bytes
    budget = next(iter(plan.budgets.values()))
    paid = handovers(plan, hw)
    for node in plan.nodes:
        if node.alias_of is not None:
            continue
        paint_coverage(node, graph)
        simulate(node)
        check_buffers(node, budget, alignment)
        assert recompute_cycles(node, graph, hw, paid[node.name]) == node.cycles.total, node.name
        assert node.lower_bound_cycles <= node.cycles.total
        assert node.num_tiles == len(node.steps)
    assert plan.total_cycles == sum(n.cycles.total for n in plan.nodes)
