"""L3 -> L2 staging (`Plan.staging`): every copy well-formed, its source and destination placed and live,
no node reading a staged buffer before its copy was waited for, and the modeled L3 DMA timeline
recomputed from the spec's L3 DMA and the nodes' cycles (module docstring of `deeploy_tiler.plan`).

The whole-network memory checks (memory.py) already hold every placement, staged buffers included, to
its level's budget and to no overlap in time and space; this module checks what only the copies say.
"""

from __future__ import annotations

import math

from ..plan import PlacedBuffer, Staging
from .context import Context
from .violations import ViolationKind

__all__ = ["check_staging"]


def check_staging(ctx: Context) -> None:
    plan, graph = ctx.plan, ctx.graph
    if not plan.staging:
        return
    n = len(graph.nodes)
    for k, st in enumerate(plan.staging):
        if st.id != k:
            ctx.add(ViolationKind.STAGING, None, f"staging ids are not 0..{len(plan.staging) - 1} in order ({st.id})")
        _check_record(ctx, st, n)
    for a, b in zip(plan.staging, plan.staging[1:], strict=False):
        if b.wait_step < a.wait_step or b.issue_step < a.issue_step:
            ctx.add(
                ViolationKind.STAGING,
                None,
                f"staging {b.id} ({b.tensor}) precedes {a.id} on the L3 DMA but is read or issued earlier",
            )
    _check_unrecorded(ctx)
    _check_readers(ctx)
    _check_timeline(ctx)


def _check_record(ctx: Context, st: Staging, n: int) -> None:
    graph = ctx.graph
    tag = f"staging {st.id} ({st.tensor})"
    tensor = graph.tensors.get(st.tensor)
    if tensor is None:
        ctx.add(ViolationKind.UNKNOWN_TENSOR, None, f"{tag}: no such tensor")
        return
    inputs, outputs = set(graph.input_names), set(graph.output_names)
    if st.direction == "in":
        if not (tensor.is_constant or (st.tensor in inputs and st.tensor not in outputs)):
            ctx.add(ViolationKind.STAGING, None, f"{tag}: only constants and graph inputs are staged in")
        if not 1 <= st.issue_step <= st.first_step <= st.last_step <= n:
            ctx.add(
                ViolationKind.STAGING,
                None,
                f"{tag}: steps issue {st.issue_step}, first {st.first_step}, last {st.last_step} are not "
                f"1 <= issue <= first <= last <= {n}",
            )
    else:
        if st.tensor not in outputs or st.tensor in inputs:
            ctx.add(ViolationKind.STAGING, None, f"{tag}: only graph outputs are copied back to L3")
        if not 1 <= st.first_step <= st.last_step < st.issue_step <= n + 1 or st.issue_step != st.last_step + 1:
            ctx.add(
                ViolationKind.STAGING,
                None,
                f"{tag}: out copy at step {st.issue_step} for a buffer used over {st.first_step}..{st.last_step}"
                " (the copy back runs right before the node after the last use)",
            )
    if st.bytes != tensor.nbytes:
        ctx.add(ViolationKind.TRANSFER_BYTES, None, f"{tag} copies {st.bytes} B, the tensor has {tensor.nbytes} B")
    for level in (st.home_level, st.staged_level):
        if level not in ctx.levels:
            ctx.add(ViolationKind.UNKNOWN_LEVEL, None, f"{tag}: unknown level {level!r}")
            return
    if not any(d.connects(st.home_level, st.staged_level) for d in ctx.hw.dmas):
        ctx.add(
            ViolationKind.DMA_ROUTE, None, f"{tag}: no DMA of {ctx.hw.name} copies {st.home_level} -> {st.staged_level}"
        )
    placed = ctx.placements.get(st.tensor, [])
    home = [p for p in placed if p.level == st.home_level and p.start <= st.issue_step < p.end]
    if st.direction == "out":
        home = [p for p in home if p.end == n + 2]  # what is copied back must stay until after the run
    if not home:
        ctx.add(
            ViolationKind.STAGING_BUFFER,
            None,
            f"{tag}: the tensor is not placed in {st.home_level} from the copy at step {st.issue_step}"
            + (" to the end of the run" if st.direction == "out" else ""),
        )
    need = (st.issue_step, st.last_step + 1) if st.direction == "in" else (st.first_step, st.issue_step + 1)
    stage = [p for p in placed if p.level == st.staged_level and p.offset == st.staged_offset]
    if not stage:
        ctx.add(ViolationKind.STAGING_BUFFER, None, f"{tag}: no placement at {st.staged_level}+{st.staged_offset}")
    elif not any(p.start <= need[0] and p.end >= need[1] for p in stage):
        p = stage[0]
        ctx.add(
            ViolationKind.STAGING_BUFFER,
            None,
            f"{tag}: staging buffer lives over [{p.start}, {p.end}), the copy needs [{need[0]}, {need[1]})",
        )


def _is_staging_buffer(ctx: Context, p: PlacedBuffer) -> bool:
    """A placement of a tensor that is also placed in an outer level a DMA copies into this one (L3 for
    L2): a copy of that home, whose bytes only a staging record can bring."""
    outer = {d.src for d in ctx.hw.dmas if d.dst == p.level}
    return any(q.level in outer for q in ctx.placements.get(p.tensor, []))


def _check_unrecorded(ctx: Context) -> None:
    """A tensor placed both at its L3 home and in L2 has its L2 bytes filled only by a recorded copy."""
    recorded = {(s.tensor, s.staged_level, s.staged_offset) for s in ctx.plan.staging}
    for p in ctx.plan.memory:
        if _is_staging_buffer(ctx, p) and (p.tensor, p.level, p.offset) not in recorded:
            ctx.add(
                ViolationKind.STAGING_BUFFER,
                None,
                f"{p.tensor} at {p.level}+{p.offset} t[{p.start}, {p.end}) is a copy of its L3 home no staging fills",
            )


def _check_readers(ctx: Context) -> None:
    """Every node reading a staged tensor runs inside the window of one of its copies."""
    windows: dict[str, list[tuple[int, int]]] = {p.tensor: [] for p in ctx.plan.memory if _is_staging_buffer(ctx, p)}
    for s in ctx.plan.staging:
        windows.setdefault(s.tensor, []).append((s.first_step, s.last_step))
    for i, node in enumerate(ctx.graph.nodes):
        step = i + 1
        for t in dict.fromkeys(x for x in (*node.inputs, *node.outputs) if x):
            spans = windows.get(t)
            if spans is None or node.is_alias:
                continue
            if not any(lo <= step <= hi for lo, hi in spans):
                ctx.add(
                    ViolationKind.HAZARD_STAGED_BEFORE_WAIT,
                    node.name,
                    f"uses {t} at step {step}, outside every copy's window {sorted(spans)} (before its copy in "
                    "was waited for, or after its staging buffer was given up / copied back)",
                )


def _check_timeline(ctx: Context) -> None:
    """Copy cycles from the spec's DMA; the waits from replaying the L3 DMA queue over the nodes' cycles."""
    plan = ctx.plan
    by_first: dict[int, list[Staging]] = {}
    copy: dict[int, int] = {}
    for s in plan.staging:
        dma = next((d for d in ctx.hw.dmas if d.connects(s.home_level, s.staged_level)), None)
        if dma is None:
            return
        copy[s.id] = math.ceil(dma.transfer_cycles(s.bytes))
        if s.cycles != copy[s.id]:
            ctx.add(
                ViolationKind.STAGING_CYCLES,
                None,
                f"staging {s.id} ({s.tensor}): {s.cycles} cycles, the spec's {dma.name} takes {copy[s.id]}",
            )
        by_first.setdefault(s.wait_step, []).append(s)
    queue = list(plan.staging)
    finish: dict[int, int] = {}
    now = dma_free = qi = 0
    cycles = [np_.cycles.total for np_ in plan.nodes] + [0]  # step N + 1: after the run
    names = [np_.name for np_ in plan.nodes] + ["<after the run>"]
    for step, (name, node_cycles) in enumerate(zip(names, cycles, strict=True), start=1):
        while qi < len(queue) and queue[qi].issue_step <= step:
            dma_free = max(dma_free, now) + copy[queue[qi].id]
            finish[queue[qi].id] = dma_free
            qi += 1
        waiting = by_first.get(step, [])
        if any(s.id not in finish for s in waiting):
            return  # out of order: reported above
        wait = max((finish[s.id] - now for s in waiting), default=0)
        stated = sum(s.exposed_cycles for s in waiting)
        if max(wait, 0) != stated:
            ctx.add(
                ViolationKind.STAGING_CYCLES,
                name,
                f"waits {max(wait, 0)} cycles for its staged copies by the L3 DMA timeline, the plan says {stated}",
            )
        now += max(wait, 0) + node_cycles
