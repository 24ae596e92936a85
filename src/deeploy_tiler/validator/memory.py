"""Whole-network memory checks over `plan.memory` (the half-open time axis of memory_plan.py: t = 0 before
the run, node i runs at t = i + 1, t = N + 1 after it): placements, aliases, overlaps in space and time,
budgets, reported usage, tensors a transfer needs placed, and what a weights-only level may hold."""

from __future__ import annotations

import bisect
import heapq
from collections.abc import Mapping

from ..hw.spec import ComputeEngine
from ..ir import Node
from ..plan import PlacedBuffer
from .context import Context
from .engines import npu_packed_bytes
from .violations import ViolationKind


def check_memory(ctx: Context) -> None:
    plan = ctx.plan
    if not plan.memory:
        if plan.levels:
            ctx.add(
                ViolationKind.MEMORY_MISSING,
                None,
                f"plan reports usage of {[u.level for u in plan.levels]} but places no buffer (plan.memory is empty)",
            )
        return
    known = [p for p in plan.memory if _check_placement(ctx, p)]
    _check_aliases(ctx, known)
    check_weight_memory(ctx, known)
    by_level: dict[str, list[PlacedBuffer]] = {}
    for p in known:
        by_level.setdefault(p.level, []).append(p)
    for level, group in sorted(by_level.items()):
        _check_level_overlap(ctx, level, group)
        extent = max(p.offset + p.size for p in group)
        if extent > ctx.budget(level):
            ctx.add(
                ViolationKind.BUDGET, None, f"{level} placements reach {extent} B, the budget is {ctx.budget(level)} B"
            )
    _check_level_usage(ctx, by_level)
    _check_required_placements(ctx)


def _check_placement(ctx: Context, p: PlacedBuffer) -> bool:
    mem = ctx.levels.get(p.level)
    tensor = ctx.graph.tensors.get(p.tensor)
    if mem is None:
        ctx.add(ViolationKind.UNKNOWN_LEVEL, None, f"tensor {p.tensor} placed in unknown level {p.level!r}")
        return False
    if tensor is None:
        ctx.add(ViolationKind.UNKNOWN_TENSOR, None, f"placement of unknown tensor {p.tensor!r} in {p.level}")
        return False
    if p.size < tensor.nbytes:
        ctx.add(ViolationKind.MEMORY_SIZE, None, f"{p.tensor} gets {p.size} B in {p.level}, it has {tensor.nbytes} B")
    if p.offset % mem.alignment_bytes:
        ctx.add(
            ViolationKind.ALIGNMENT,
            None,
            f"{p.tensor} at {p.level}+{p.offset} is not {mem.alignment_bytes}-byte aligned",
        )
    if p.offset + p.size > mem.usable_bytes:
        ctx.add(
            ViolationKind.LEVEL_CAPACITY,
            None,
            f"{p.tensor} spans [{p.offset}, {p.offset + p.size}) of "
            f"{p.level}, which has {mem.usable_bytes} usable bytes",
        )
    if p.start >= p.end:
        ctx.add(ViolationKind.MEMORY_LIFETIME, None, f"{p.tensor} in {p.level} has empty lifetime [{p.start}, {p.end})")
    if mem.weights_only and not tensor.is_constant:
        ctx.add(ViolationKind.HOME_LEVEL, None, f"activation {p.tensor} placed in weights-only {p.level}")
    last = len(ctx.graph.nodes) + 1
    staged = any((s.tensor, s.staged_level, s.staged_offset) == (p.tensor, p.level, p.offset) for s in ctx.plan.staging)
    if p.tensor in ctx.graph.input_names and p.start > 0 and not staged:  # staged: filled by its copy
        ctx.add(
            ViolationKind.MEMORY_LIFETIME, None, f"graph input {p.tensor} placed from t={p.start}, not before the run"
        )
    if p.tensor in ctx.graph.output_names and p.end <= last and not staged:  # staged: copied back to its home
        ctx.add(
            ViolationKind.MEMORY_LIFETIME,
            None,
            f"graph output {p.tensor} freed at t={p.end}, before the run ends (t={last})",
        )
    return True


def _check_aliases(ctx: Context, placed: list[PlacedBuffer]) -> None:
    where = {(p.tensor, p.level): p for p in placed}
    for p in placed:
        if p.alias_of is None:
            continue
        root = where.get((p.alias_of, p.level))
        if root is None or root.offset != p.offset:
            at = "not placed there" if root is None else f"at {root.offset}"
            ctx.add(
                ViolationKind.MEMORY_ALIAS,
                None,
                f"{p.tensor} aliases {p.alias_of} at {p.level}+{p.offset}, but {p.alias_of} is {at}",
            )


def _family(p: PlacedBuffer) -> str:
    return p.alias_of if p.alias_of is not None else p.tensor


def disjoint_while_live(group: list[PlacedBuffer]) -> bool:
    """True iff no two placements of different families share addresses while both live, decided in
    n log n: one placement per family (aliases sit on their root), a sweep over time keeping the live
    address ranges sorted, each new range compared with its two neighbours. False also when a family's
    members disagree on their range or lifetime; the pairwise sweep then decides and reports."""
    reps: dict[str, tuple[int, int, int, int]] = {}
    for p in group:
        if p.start >= p.end or p.size == 0:
            continue  # never in a conflict (see the pairwise sweep)
        if p.size < 0:
            return False
        key = (p.start, p.end, p.offset, p.offset + p.size)
        if reps.setdefault(_family(p), key) != key:
            return False
    ending: list[tuple[int, int]] = []  # heap of (end, lo) of the live ranges
    los: list[int] = []  # live ranges, sorted by address and disjoint
    his: list[int] = []
    for start, end, lo, hi in sorted(reps.values()):
        while ending and ending[0][0] <= start:
            _, old = heapq.heappop(ending)
            k = bisect.bisect_left(los, old)
            del los[k], his[k]
        k = bisect.bisect_left(los, lo)
        if (k < len(los) and los[k] < hi) or (k and his[k - 1] > lo):
            return False
        los.insert(k, lo)
        his.insert(k, hi)
        heapq.heappush(ending, (end, lo))
    return True


def _check_level_overlap(ctx: Context, level: str, group: list[PlacedBuffer]) -> None:
    if disjoint_while_live(group):  # the common case, in n log n; else every clashing pair is listed
        return
    active: list[PlacedBuffer] = []
    for p in sorted(group, key=lambda q: (q.start, q.offset)):
        active = [a for a in active if a.end > p.start]
        for a in active:
            if _family(a) == _family(p) or p.start >= p.end or not (p.size and a.size):
                continue
            if a.offset < p.offset + p.size and p.offset < a.offset + a.size:
                ctx.add(
                    ViolationKind.MEMORY_OVERLAP,
                    None,
                    f"{a.tensor} [{a.offset}, {a.offset + a.size}) t[{a.start}, {a.end}) and {p.tensor} "
                    f"[{p.offset}, {p.offset + p.size}) t[{p.start}, {p.end}) overlap in {level}",
                )
        active.append(p)


def _check_level_usage(ctx: Context, by_level: Mapping[str, list[PlacedBuffer]]) -> None:
    for u in ctx.plan.levels:
        mem = ctx.levels.get(u.level)
        if mem is None:
            ctx.add(ViolationKind.UNKNOWN_LEVEL, None, f"level usage reported for unknown level {u.level!r}")
            continue
        group = by_level.get(u.level, [])
        extent = max((p.offset + p.size for p in group), default=0)
        if u.peak < extent:
            ctx.add(
                ViolationKind.LEVEL_USAGE, None, f"{u.level} usage reports peak {u.peak} B, placements reach {extent} B"
            )
        if u.capacity > mem.usable_bytes:
            ctx.add(
                ViolationKind.LEVEL_CAPACITY,
                None,
                f"{u.level} usage reports capacity {u.capacity} B > {mem.usable_bytes} usable bytes",
            )


def _check_required_placements(ctx: Context) -> None:
    reported: set[tuple[str, str]] = set()
    for np_ in ctx.plan.nodes:
        for t in np_.transfers:
            tensor = ctx.graph.tensors.get(t.tensor)
            if tensor is None or tensor.is_constant or (t.tensor, t.home_level) in reported:
                continue
            if not ctx.placed(t.tensor):
                reported.add((t.tensor, t.home_level))
                ctx.add(
                    ViolationKind.MEMORY_MISSING,
                    np_.name,
                    f"transfer {t.id} moves {t.tensor} to/from {t.home_level}, but plan.memory does not place it",
                )


def check_weight_memory(ctx: Context, placed: list[PlacedBuffer]) -> None:
    """A weights-only level (the NPU's WMEM) holds only weights some NPU node reads there in place, each
    in at least its packed size."""
    plans = {n.name: n for n in ctx.plan.nodes}
    for p in placed:
        mem = ctx.levels.get(p.level)
        tensor = ctx.graph.tensors.get(p.tensor)
        if mem is None or not mem.weights_only or tensor is None or not tensor.is_constant:
            continue
        readers: list[tuple[Node, ComputeEngine]] = []
        for node in ctx.graph.consumers(p.tensor):
            np_ = plans.get(node.name)
            engine = next((e for e in ctx.hw.engines if np_ is not None and e.name == np_.engine), None)
            if (
                np_ is None
                or engine is None
                or engine.npu is None
                or p.level not in engine.reads_levels
                or any(b.tensor == p.tensor for b in np_.buffers)
            ):
                continue
            readers.append((node, engine))
        if not readers:
            ctx.add(ViolationKind.NPU_RULE, None, f"{p.level} holds {p.tensor}, which no NPU node reads there in place")
            continue
        for node, engine in readers:
            if node.inputs[1] == p.tensor and node.op_type in ("Conv", "Gemm", "MatMul"):
                need = npu_packed_bytes(node, ctx.graph, engine)
                if p.size < need:
                    ctx.add(
                        ViolationKind.MEMORY_SIZE,
                        node.name,
                        f"{p.tensor} gets {p.size} B in {p.level}; {engine.name}'s packed layout needs {need} B",
                    )
