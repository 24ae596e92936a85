"""Independent checker of a `Plan`: everything is recomputed from the graph, the hardware spec and the plan.

It never imports the solver, the operator geometry (`ops/`) or the cost model: the operand regions a tile
needs are derived here from the operator semantics, footprints from tile shapes and dtypes, and hazards
from a simulation of each node's event list. `validate` returns every violation found (empty: valid);
`assert_valid` raises `PlanValidationError` listing them.

Conventions read from the contract (plan.py, memory_plan.py):
- a buffer slot holds one region of its tensor densely packed; a transfer fills (in) or drains (out) a
  whole slot; a compute reads its input slots and writes its output slot;
- whole-network placements (`plan.memory`) use the half-open time axis of memory_plan.py: t = 0 before
  the run, node i runs at t = i + 1, t = N + 1 after it.

Engine-specific legality is a table of rules per engine kind (`ENGINE_RULES`). NPU rules: operator,
kernel, stride, dilation, padding, batch 1, constant 8-bit weights, 8-bit activations, 8-bit (requantized)
or int32 outputs, per-channel scale / bias; every tile holds all input channels and the full weights of its
output channels; output-channel tiles start on a pass boundary. A weights-only level (WMEM) holds only
weights some NPU node reads there in place, each at least its packed size; its budget is checked like any
level's.
"""

from __future__ import annotations

import bisect
import heapq
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from ..errors import HwSpecError, PlanError
from ..hw.spec import ComputeEngine, HwSpec, MemoryLevel
from ..ir import DType, Graph, Node, Tensor
from ..plan import SCHEMA_VERSION, ComputeStep, L1Buffer, NodePlan, PlacedBuffer, Plan, Region, Transfer

__all__ = [
    "ENGINE_RULES",
    "PlanValidationError",
    "Violation",
    "ViolationKind",
    "assert_valid",
    "needed_regions",
    "validate",
]

_MAX_PER_KIND = 20  # messages kept per (node, kind); the rest are summarized in one line


class ViolationKind(StrEnum):
    # plan header and levels
    PLAN_HEADER = "PLAN_HEADER"  # schema version, model or hw name differ from the given graph / spec
    UNKNOWN_LEVEL = "UNKNOWN_LEVEL"  # a memory level the hw spec does not have
    LEVEL_CAPACITY = "LEVEL_CAPACITY"  # budget + reserved bytes (stacks) exceed the level's physical size
    BUDGET = "BUDGET"  # a buffer, a node or a level peak beyond the planned budget
    # node list
    UNKNOWN_NODE = "UNKNOWN_NODE"
    MISSING_NODE = "MISSING_NODE"
    DUPLICATE_NODE = "DUPLICATE_NODE"
    NODE_ORDER = "NODE_ORDER"
    OP_TYPE = "OP_TYPE"
    OUTPUT_TENSOR = "OUTPUT_TENSOR"
    ALIAS = "ALIAS"  # alias_of inconsistent with the operator, or an aliased node that moves data
    NUM_TILES = "NUM_TILES"
    LOOP_ORDER = "LOOP_ORDER"
    TILE_SHAPE = "TILE_SHAPE"  # a region larger than the tile shape it is held in, or a rank mismatch
    DMA_BYTES = "DMA_BYTES"  # node.dma_bytes != sum of its transfers
    # buffers
    DUPLICATE_BUFFER = "DUPLICATE_BUFFER"
    BUFFER_TENSOR = "BUFFER_TENSOR"  # buffer holds a tensor that is no operand, or a role that does not fit
    MISSING_BUFFER = "MISSING_BUFFER"  # an operand or the output has no buffer the engine could use
    BUFFER_LEVEL = "BUFFER_LEVEL"  # buffer in a level the engine does not read / write
    DTYPE = "DTYPE"
    FOOTPRINT = "FOOTPRINT"  # slot_bytes smaller than the aligned bytes of the tile shape
    ALIGNMENT = "ALIGNMENT"
    BUFFER_OVERLAP = "BUFFER_OVERLAP"
    L1_BYTES = "L1_BYTES"  # node.l1_bytes != bytes its L1 buffers occupy
    # tiles and regions
    COVERAGE = "COVERAGE"
    OUTPUT_REGION = "OUTPUT_REGION"
    INPUT_REGION = "INPUT_REGION"
    REGION_BOUNDS = "REGION_BOUNDS"
    UNSUPPORTED_OP = "UNSUPPORTED_OP"  # the validator cannot derive the operand regions of this operator
    # transfers
    UNKNOWN_BUFFER = "UNKNOWN_BUFFER"
    SLOT = "SLOT"
    TRANSFER_TENSOR = "TRANSFER_TENSOR"  # transfer tensor / direction inconsistent with its buffer
    TRANSFER_BYTES = "TRANSFER_BYTES"
    TRANSFER_ROWS = "TRANSFER_ROWS"
    DMA_ROUTE = "DMA_ROUTE"  # no DMA engine copies between the two levels
    HOME_LEVEL = "HOME_LEVEL"  # transfer home level differs from where the tensor is placed
    # schedule
    SCHEDULE = "SCHEDULE"  # malformed events: unknown refs, double start, wait without start, step not run
    TRANSFER_NOT_STARTED = "TRANSFER_NOT_STARTED"
    UNWAITED_TRANSFER = "UNWAITED_TRANSFER"
    REGION_MISMATCH = "REGION_MISMATCH"  # step region differs from what the slot holds
    HAZARD_LOAD_BEFORE_COMPUTE = "HAZARD_LOAD_BEFORE_COMPUTE"  # compute before the wait of its load
    HAZARD_OVERWRITE_WHILE_READ = "HAZARD_OVERWRITE_WHILE_READ"  # load overwrites data still to be read
    HAZARD_DMA_RACE = "HAZARD_DMA_RACE"  # two DMAs (or a DMA and a compute write) on one slot at once
    HAZARD_STORE_BEFORE_COMPUTE = "HAZARD_STORE_BEFORE_COMPUTE"
    HAZARD_OUTPUT_OVERWRITE = "HAZARD_OUTPUT_OVERWRITE"  # compute writes a slot whose store is in flight
    OUTPUT_NOT_STORED = "OUTPUT_NOT_STORED"
    # whole-network memory
    MEMORY_MISSING = "MEMORY_MISSING"
    MEMORY_OVERLAP = "MEMORY_OVERLAP"
    MEMORY_SIZE = "MEMORY_SIZE"
    MEMORY_LIFETIME = "MEMORY_LIFETIME"
    MEMORY_ALIAS = "MEMORY_ALIAS"
    LEVEL_USAGE = "LEVEL_USAGE"
    UNKNOWN_TENSOR = "UNKNOWN_TENSOR"
    # engines
    UNKNOWN_ENGINE = "UNKNOWN_ENGINE"
    ENGINE_OP = "ENGINE_OP"
    NPU_RULE = "NPU_RULE"


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind, the node (None for plan-wide rules) and a message naming the culprits."""

    kind: ViolationKind
    node: str | None
    message: str

    def __str__(self) -> str:
        where = f"node {self.node}: " if self.node is not None else ""
        return f"{self.kind.value}: {where}{self.message}"


class PlanValidationError(PlanError):
    """A plan broke the rules; `violations` lists every one."""

    def __init__(self, violations: Sequence[Violation], *, shown: int = 40) -> None:
        self.violations = tuple(violations)
        lines = [f"  {v}" for v in self.violations[:shown]]
        if len(self.violations) > shown:
            lines.append(f"  ... and {len(self.violations) - shown} more")
        super().__init__(f"invalid plan: {len(self.violations)} violation(s)\n" + "\n".join(lines))


# --- regions ---------------------------------------------------------------------------------------------


def _volume(r: Region) -> int:
    return math.prod(size for _, size in r)


def _empty(r: Region) -> bool:
    return any(size == 0 for _, size in r)


def _contains(outer: Region, inner: Region) -> bool:
    if len(outer) != len(inner):
        return False
    if _empty(inner):
        return True
    return all(o0 <= i0 and i0 + isz <= o0 + osz for (o0, osz), (i0, isz) in zip(outer, inner, strict=True))


def _in_bounds(r: Region, shape: Sequence[int]) -> bool:
    return len(r) == len(shape) and all(s >= 0 and n >= 0 and s + n <= d for (s, n), d in zip(r, shape, strict=True))


def _full(shape: Sequence[int]) -> Region:
    return tuple((0, int(d)) for d in shape)


def _bbox(a: Region, b: Region) -> Region:
    if _empty(a):
        return b
    if _empty(b):
        return a
    out = []
    for (a0, an), (b0, bn) in zip(a, b, strict=True):
        lo, hi = min(a0, b0), max(a0 + an, b0 + bn)
        out.append((lo, hi - lo))
    return tuple(out)


def _fmt(r: Region) -> str:
    return "[" + ", ".join(f"{s}:{s + n}" for s, n in r) + "]"


def _fits(r: Region, tile_shape: Sequence[int]) -> bool:
    return len(r) == len(tile_shape) and all(n <= t for (_, n), t in zip(r, tile_shape, strict=True))


def _align_up(n: int, a: int) -> int:
    return -(-n // a) * a


# --- operator semantics: the operand regions one output tile needs -----------------------------------------

NeedRule = Callable[[Node, Graph, tuple[str, ...], Region], dict[str, Region]]


def _shape(graph: Graph, t: str) -> tuple[int, ...]:
    return graph.tensors[t].shape


def _ints(value: Any, n: int, default: int) -> tuple[int, ...]:
    if value is None:
        return (default,) * n
    return tuple(int(v) for v in (value if isinstance(value, tuple) else (value,)))


def _merge(needs: dict[str, Region], tensor: str, region: Region) -> None:
    needs[tensor] = _bbox(needs[tensor], region) if tensor in needs else region


def _broadcast(shape: Sequence[int], out_shape: Sequence[int], out: Region) -> Region:
    """Region of an operand broadcast (numpy rules, right-aligned) onto `out` of a tensor `out_shape`."""
    if len(shape) > len(out):
        raise ValueError(f"operand shape {tuple(shape)} has more dimensions than the output {tuple(out_shape)}")
    lead = len(out) - len(shape)
    region = []
    for i, d in enumerate(shape):
        if d == out_shape[lead + i]:
            region.append(out[lead + i])
        elif d == 1:
            region.append((0, 1))
        else:
            raise ValueError(f"operand shape {tuple(shape)} does not broadcast to {tuple(out_shape)}")
    return tuple(region)


def _window(o: tuple[int, int], k: int, s: int, d: int, pad: int, size: int) -> tuple[int, int]:
    """Input rows a sliding window reads for output rows o (exact min / max touched, padding excluded)."""
    o0, n = o
    if n == 0:
        return (0, 0)
    taps = (np.arange(o0, o0 + n)[:, None] * s - pad + np.arange(k)[None, :] * d).ravel()
    taps = taps[(taps >= 0) & (taps < size)]
    if taps.size == 0:
        return (0, 0)
    lo, hi = int(taps.min()), int(taps.max())
    return (lo, hi - lo + 1)


def _spatial(node: Node, x_shape: tuple[int, ...], kernel: Sequence[int], out: Region) -> list[tuple[int, int]]:
    n = len(x_shape) - 2
    strides = _ints(node.attr("strides"), n, 1)
    dil = _ints(node.attr("dilations"), n, 1)
    pads = _ints(node.attr("pads"), 2 * n, 0)
    return [_window(out[2 + i], int(kernel[i]), strides[i], dil[i], pads[i], x_shape[2 + i]) for i in range(n)]


def _need_conv(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    x, w = ins[0], ins[1]
    xs, ws = _shape(graph, x), _shape(graph, w)
    group = int(node.attr("group", 1))
    per_group = ws[0] // group
    m0, mt = out[1]
    g_lo, g_hi = m0 // per_group, (m0 + mt - 1) // per_group
    cg = ws[1]
    channels = (g_lo * cg, (g_hi - g_lo + 1) * cg)
    needs = {x: (out[0], channels, *_spatial(node, xs, ws[2:], out))}
    _merge(needs, w, ((m0, mt), *_full(ws[1:])))
    if len(ins) > 2 and ins[2]:
        _merge(needs, ins[2], ((m0, mt),))
    return needs


def _need_pool(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    xs = _shape(graph, ins[0])
    kernel = _ints(node.attr("kernel_shape"), len(xs) - 2, 1)
    return {ins[0]: (out[0], out[1], *_spatial(node, xs, kernel, out))}


def _need_global_pool(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    xs = _shape(graph, ins[0])
    return {ins[0]: (out[0], out[1], *_full(xs[2:]))}


def _need_gemm(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    a, b = ins[0], ins[1]
    rows, cols = out
    trans_a, trans_b = bool(node.attr("transA", 0)), bool(node.attr("transB", 0))
    k = _shape(graph, a)[0 if trans_a else 1]
    needs: dict[str, Region] = {a: ((0, k), rows) if trans_a else (rows, (0, k))}
    _merge(needs, b, (cols, (0, k)) if trans_b else ((0, k), cols))
    if len(ins) > 2 and ins[2]:
        _merge(needs, ins[2], _broadcast(_shape(graph, ins[2]), _shape(graph, node.outputs[0]), out))
    return needs


def _need_matmul(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    a, b = ins[0], ins[1]
    sa, sb = _shape(graph, a), _shape(graph, b)
    a2 = (1, *sa) if len(sa) == 1 else sa
    b2 = (*sb, 1) if len(sb) == 1 else sb
    # put back the matrix dimensions a 1-D operand drops from the output, as size-1 dimensions
    o2, s2 = list(out), list(_shape(graph, node.outputs[0]))
    if len(sb) == 1:
        o2.append((0, 1))
        s2.append(1)
    if len(sa) == 1:
        o2.insert(len(o2) - 1, (0, 1))
        s2.insert(len(s2) - 1, 1)
    batch, batch_shape = tuple(o2[:-2]), tuple(s2[:-2])
    a_need = (*_broadcast(a2[:-2], batch_shape, batch), o2[-2], (0, a2[-1]))
    b_need = (*_broadcast(b2[:-2], batch_shape, batch), (0, b2[-2]), o2[-1])
    needs = {a: a_need[-1:] if len(sa) == 1 else a_need}
    _merge(needs, b, b_need[:-1] if len(sb) == 1 else b_need)
    return needs


def _need_elementwise(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    out_shape = _shape(graph, node.outputs[0])
    needs: dict[str, Region] = {}
    for t in ins:
        if t:
            _merge(needs, t, _broadcast(_shape(graph, t), out_shape, out))
    return needs


def _need_rowwise(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    """Softmax / norms: every element of the normalized trailing axes (from `axis`, default -1)."""
    out_shape = _shape(graph, node.outputs[0])
    axis = int(node.attr("axis", -1)) % max(len(out_shape), 1)
    widened = tuple((0, out_shape[d]) if d >= axis else out[d] for d in range(len(out)))
    return _need_elementwise(node, graph, ins, widened)


def _need_transpose(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    rank = len(out)
    perm = _ints(node.attr("perm"), 0, 0) or tuple(reversed(range(rank)))
    need: list[tuple[int, int]] = [(0, 0)] * rank
    for i, p in enumerate(perm):
        need[p] = out[i]
    return {ins[0]: tuple(need)}


def _need_concat(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    rank = len(out)
    axis = int(node.attr("axis")) % rank
    o0, n = out[axis]
    needs: dict[str, Region] = {}
    offset = 0
    for t in ins:
        length = _shape(graph, t)[axis]
        lo, hi = max(o0, offset), min(o0 + n, offset + length)
        if hi > lo:
            region = tuple((lo - offset, hi - lo) if d == axis else out[d] for d in range(rank))
            _merge(needs, t, region)
        offset += length
    return needs


def _need_gather(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    data, idx = ins[0], ins[1]
    ds, it = _shape(graph, data), graph.tensors[idx]
    axis = int(node.attr("axis", 0)) % len(ds)
    r = len(it.shape)
    idx_region = out[axis : axis + r]
    if it.data is not None:
        sel = it.data[tuple(slice(s, s + n) for s, n in idx_region)]
        vals = np.where(sel < 0, sel + ds[axis], sel)
        along = (int(vals.min()), int(vals.max() - vals.min() + 1))
    else:
        along = (0, ds[axis])
    needs = {data: (*out[:axis], along, *out[axis + r :])}
    _merge(needs, idx, tuple(idx_region))
    return needs


def _need_slice(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    xs = _shape(graph, ins[0])
    starts, ends = _ints(node.attr("starts"), 0, 0), _ints(node.attr("ends"), 0, 0)
    axes = _ints(node.attr("axes"), 0, 0) or tuple(range(len(starts)))
    steps = _ints(node.attr("steps"), 0, 0) or (1,) * len(starts)
    need = list(out)
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        a %= len(xs)
        begin, _, step = slice(s, e, st).indices(xs[a])
        o0, n = out[a]
        if n == 0:
            need[a] = (0, 0)
            continue
        first, last = begin + o0 * step, begin + (o0 + n - 1) * step
        need[a] = (min(first, last), abs(last - first) + 1)
    return {ins[0]: tuple(need)}


def _need_pad(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    xs = _shape(graph, ins[0])
    rank = len(xs)
    pads = _ints(node.attr("pads"), 2 * rank, 0)
    constant = str(node.attr("mode", "constant")) == "constant"
    need = []
    for d in range(rank):
        if not constant and (pads[d] or pads[d + rank]):
            need.append((0, xs[d]))  # reflect / edge read mirrored elements: ask for the whole axis
            continue
        o0, n = out[d]
        lo, hi = max(o0 - pads[d], 0), min(o0 + n - pads[d], xs[d])
        need.append((lo, hi - lo) if hi > lo and n else (0, 0))
    return {ins[0]: tuple(need)}


def _need_reduce(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    xs = _shape(graph, ins[0])
    axes = {int(a) % len(xs) for a in _ints(node.attr("axes"), 0, 0)} or set(range(len(xs)))
    keep = bool(int(node.attr("keepdims", 1)))
    need = []
    j = 0
    for d in range(len(xs)):
        if d in axes:
            need.append((0, xs[d]))
            j += keep
        else:
            need.append(out[j])
            j += 1
    return {ins[0]: tuple(need)}


def _need_reshape(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    """Data-free reshapes that a plan materializes: the input elements behind the output tile's flat indices."""
    xs, os_ = _shape(graph, ins[0]), _shape(graph, node.outputs[0])
    if not xs:
        return {ins[0]: ()}
    if os_:
        grids = np.meshgrid(*[np.arange(s, s + n) for s, n in out], indexing="ij")
        flat = np.ravel_multi_index(tuple(g.ravel() for g in grids), os_)
    else:
        flat = np.zeros(1, dtype=np.int64)
    idx = np.unravel_index(flat, xs)
    return {ins[0]: tuple((int(a.min()), int(a.max() - a.min() + 1)) for a in idx)}


_ELEMENTWISE = (
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Relu",
    "Clip",
    "RequantShift",
    "iGELU",
    "iHardswish",
    "TrueIntegerDiv",
    "Sigmoid",
    "Tanh",
    "Abs",
    "Neg",
)
_ROWWISE = ("Softmax", "iSoftmax", "ITAMax", "LayerNormalization", "iLayerNorm", "iRMSNorm")

NEED_RULES: dict[str, NeedRule] = {
    "Conv": _need_conv,
    "MaxPool": _need_pool,
    "AveragePool": _need_pool,
    "GlobalAveragePool": _need_global_pool,
    "GlobalMaxPool": _need_global_pool,
    "Gemm": _need_gemm,
    "MatMul": _need_matmul,
    "Transpose": _need_transpose,
    "Concat": _need_concat,
    "Gather": _need_gather,
    "Slice": _need_slice,
    "Pad": _need_pad,
    "IntegerMean": _need_reduce,
    "ReduceMean": _need_reduce,
    "ReduceSum": _need_reduce,
    "Reshape": _need_reshape,
    "Flatten": _need_reshape,
    "Squeeze": _need_reshape,
    "Unsqueeze": _need_reshape,
    "Identity": _need_reshape,
    **dict.fromkeys(_ELEMENTWISE, _need_elementwise),
    **dict.fromkeys(_ROWWISE, _need_rowwise),
}


def needed_regions(node: Node, graph: Graph, output_region: Region) -> dict[str, Region]:
    """Operand tensor -> the smallest box of it that computing `output_region` of the node's output reads.

    Empty operands (size 0 in some dimension) are not needed. Raises KeyError for an unknown operator.
    """
    if _empty(output_region):
        return {}
    rule = NEED_RULES[node.op_type]
    ins = node.inputs[:-2] if node.requant is not None else node.inputs
    needs = rule(node, graph, ins, output_region)
    if node.requant is not None:
        out_shape = _shape(graph, node.outputs[0])
        for t in (node.requant.mul, node.requant.add):
            _merge(needs, t, _broadcast(_shape(graph, t), out_shape, output_region))
    return {t: r for t, r in needs.items() if t and not _empty(r)}


# --- the report --------------------------------------------------------------------------------------------


@dataclass
class _Report:
    violations: list[Violation] = field(default_factory=list)
    counts: Counter[tuple[str | None, ViolationKind]] = field(default_factory=Counter)

    def add(self, kind: ViolationKind, node: str | None, message: str) -> None:
        key = (node, kind)
        self.counts[key] += 1
        if self.counts[key] <= _MAX_PER_KIND:
            self.violations.append(Violation(kind, node, message))

    def finish(self) -> list[Violation]:
        for (node, kind), n in self.counts.items():
            if n > _MAX_PER_KIND:
                self.violations.append(Violation(kind, node, f"... and {n - _MAX_PER_KIND} more like the above"))
        return self.violations


@dataclass
class _Ctx:
    plan: Plan
    graph: Graph
    hw: HwSpec
    report: _Report
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


# --- public entry points -----------------------------------------------------------------------------------


def validate(plan: Plan, graph: Graph, hw: HwSpec) -> list[Violation]:
    """Every rule the plan breaks for this graph and spec; an empty list when the plan is valid."""
    placements: dict[str, list[PlacedBuffer]] = {}
    for p in plan.memory:
        placements.setdefault(p.tensor, []).append(p)
    alias_root = {n.output_tensor: n.alias_of for n in plan.nodes if n.alias_of is not None}
    ctx = _Ctx(
        plan=plan,
        graph=graph,
        hw=hw,
        report=_Report(),
        levels={m.name: m for m in hw.memories},
        l1=hw.l1.name,
        placements=placements,
        alias_root=alias_root,
    )
    _check_header(ctx)
    _check_budgets(ctx)
    index = {n.name: i for i, n in enumerate(graph.nodes)}
    for node_plan, node in _match_nodes(ctx):
        _check_node(ctx, index[node.name], node_plan, node)
    _check_memory(ctx)
    return ctx.report.finish()


def assert_valid(plan: Plan, graph: Graph, hw: HwSpec) -> None:
    """Raise `PlanValidationError` listing every violation, if any."""
    violations = validate(plan, graph, hw)
    if violations:
        raise PlanValidationError(violations)


# --- plan-wide checks --------------------------------------------------------------------------------------


def _check_header(ctx: _Ctx) -> None:
    plan = ctx.plan
    if plan.schema_version != SCHEMA_VERSION:
        ctx.add(
            ViolationKind.PLAN_HEADER,
            None,
            f"schema_version {plan.schema_version!r}, this validator checks {SCHEMA_VERSION!r}",
        )
    if plan.model != ctx.graph.name:
        ctx.add(ViolationKind.PLAN_HEADER, None, f"plan is for model {plan.model!r}, graph is {ctx.graph.name!r}")
    if plan.hw != ctx.hw.name:
        ctx.add(ViolationKind.PLAN_HEADER, None, f"plan is for hw {plan.hw!r}, spec is {ctx.hw.name!r}")


def _check_budgets(ctx: _Ctx) -> None:
    for level, budget in sorted(ctx.plan.budgets.items()):
        mem = ctx.levels.get(level)
        if mem is None:
            ctx.add(
                ViolationKind.UNKNOWN_LEVEL,
                None,
                f"budget for level {level!r}, spec {ctx.hw.name} has {sorted(ctx.levels)}",
            )
        elif budget + mem.reserved_bytes > mem.size_bytes:
            ctx.add(
                ViolationKind.LEVEL_CAPACITY,
                None,
                f"{level} budget {budget} B + reserved {mem.reserved_bytes} B (stacks, runtime) = "
                f"{budget + mem.reserved_bytes} B exceeds its {mem.size_bytes} B",
            )


def _match_nodes(ctx: _Ctx) -> list[tuple[NodePlan, Node]]:
    graph_nodes = {n.name: n for n in ctx.graph.nodes}
    seen: dict[str, NodePlan] = {}
    for np_ in ctx.plan.nodes:
        if np_.name in seen:
            ctx.add(ViolationKind.DUPLICATE_NODE, np_.name, "planned more than once")
        elif np_.name not in graph_nodes:
            ctx.add(ViolationKind.UNKNOWN_NODE, np_.name, f"not a node of graph {ctx.graph.name}")
        else:
            seen[np_.name] = np_
    for name in graph_nodes:
        if name not in seen:
            ctx.add(ViolationKind.MISSING_NODE, name, "graph node has no NodePlan")
    planned_order = list(seen)
    graph_order = [n.name for n in ctx.graph.nodes if n.name in seen]
    if planned_order != graph_order:
        first = next(i for i, (a, b) in enumerate(zip(planned_order, graph_order, strict=True)) if a != b)
        ctx.add(
            ViolationKind.NODE_ORDER,
            planned_order[first],
            f"planned at position {first}, where the graph runs {graph_order[first]}",
        )
    return [(seen[name], graph_nodes[name]) for name in graph_order]


# --- per node ----------------------------------------------------------------------------------------------


def _check_node(ctx: _Ctx, index: int, np_: NodePlan, node: Node) -> None:
    name = node.name
    if np_.op_type != node.op_type:
        ctx.add(ViolationKind.OP_TYPE, name, f"planned as {np_.op_type}, graph says {node.op_type}")
    if np_.output_tensor not in node.outputs:
        ctx.add(
            ViolationKind.OUTPUT_TENSOR,
            name,
            f"output_tensor {np_.output_tensor!r} is not an output of the node {list(node.outputs)}",
        )
        return
    if np_.alias_of is not None or (node.is_alias and not (np_.steps or np_.buffers)):
        _check_alias(ctx, np_, node)
        return
    buffers = _check_buffers(ctx, np_, node)
    engine = _check_engine(ctx, np_, node, buffers)
    _check_operand_buffers(ctx, np_, node, buffers, engine)
    transfers = _check_transfers(ctx, index, np_, buffers)
    _check_steps(ctx, np_, node, buffers)
    _check_coverage(ctx, np_)
    _Simulation(ctx, np_, buffers, transfers).run()


def _check_alias(ctx: _Ctx, np_: NodePlan, node: Node) -> None:
    name = node.name
    if not node.is_alias:
        ctx.add(ViolationKind.ALIAS, name, f"{node.op_type} computes data; it cannot alias {np_.alias_of!r}")
        return
    data_in = node.inputs[0] if node.inputs else None
    if np_.alias_of != data_in:
        ctx.add(ViolationKind.ALIAS, name, f"alias_of is {np_.alias_of!r}, the reshaped input is {data_in!r}")
    if np_.buffers or np_.transfers or np_.steps or np_.events:
        ctx.add(
            ViolationKind.ALIAS,
            name,
            "an aliased reshape moves no data, yet the plan gives it "
            f"{len(np_.buffers)} buffers, {len(np_.transfers)} transfers, {len(np_.steps)} steps",
        )
    if np_.l1_bytes or np_.dma_bytes:
        ctx.add(ViolationKind.ALIAS, name, f"aliased reshape claims l1_bytes={np_.l1_bytes}, dma_bytes={np_.dma_bytes}")


def _check_buffers(ctx: _Ctx, np_: NodePlan, node: Node) -> dict[str, L1Buffer]:
    name = node.name
    inputs = {t for t in node.inputs if t}
    buffers: dict[str, L1Buffer] = {}
    for b in np_.buffers:
        if b.name in buffers:
            ctx.add(ViolationKind.DUPLICATE_BUFFER, name, f"buffer name {b.name!r} used twice")
            continue
        buffers[b.name] = b
        _check_buffer_footprint(ctx, name, b)
    _check_buffer_layout(ctx, np_, list(buffers.values()))
    # buffers of tensors that are no operand are reported and then treated as unknown
    return {k: b for k, b in buffers.items() if _check_buffer_tensor(ctx, name, b, inputs, np_.output_tensor)}


def _check_buffer_tensor(ctx: _Ctx, node: str, b: L1Buffer, inputs: set[str], output: str) -> bool:
    """Role, dtype and rank of the tensor a buffer holds; False when it holds no operand of the node."""
    if b.tensor is None:
        if b.role not in ("scratch", "descriptors"):
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} ({b.role}) names no tensor")
        return True
    if b.tensor == output:
        if b.role != "output":
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} holds the output {b.tensor} as {b.role}")
    elif b.tensor in inputs:
        if b.role not in ("input", "weight"):
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} holds operand {b.tensor} as {b.role}")
    else:
        ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} holds {b.tensor!r}, no operand of the node")
        return False
    t = ctx.graph.tensors[b.tensor]
    if b.dtype != t.dtype.value:
        ctx.add(ViolationKind.DTYPE, node, f"buffer {b.name} declares {b.dtype}, tensor {t.name} is {t.dtype.value}")
    if len(b.tile_shape) != len(t.shape):
        ctx.add(
            ViolationKind.TILE_SHAPE,
            node,
            f"buffer {b.name} tile_shape {b.tile_shape} has not the rank of {t.name} {t.shape}",
        )
    return True


def _itemsize(dtype: str) -> int | None:
    try:
        return DType(dtype).itemsize
    except ValueError:
        return None


def _check_buffer_footprint(ctx: _Ctx, node: str, b: L1Buffer) -> None:
    mem = ctx.levels.get(b.level)
    if mem is None:
        ctx.add(ViolationKind.UNKNOWN_LEVEL, node, f"buffer {b.name} in unknown level {b.level!r}")
        return
    item = _itemsize(b.dtype)
    if item is None:
        ctx.add(ViolationKind.DTYPE, node, f"buffer {b.name}: unknown dtype {b.dtype!r}")
        return
    raw = math.prod(b.tile_shape) * item
    need = _align_up(raw, mem.alignment_bytes)
    if b.slot_bytes < need:
        ctx.add(
            ViolationKind.FOOTPRINT,
            node,
            f"buffer {b.name}: slot_bytes {b.slot_bytes} < {need} B (tile {b.tile_shape} x {item} B = {raw} B, "
            f"aligned to {mem.alignment_bytes})",
        )
    for slot in range(b.copies):
        addr = b.offset + slot * b.slot_bytes
        if addr % mem.alignment_bytes:
            ctx.add(
                ViolationKind.ALIGNMENT,
                node,
                f"buffer {b.name} slot {slot} at {addr} is not {mem.alignment_bytes}-byte aligned",
            )
    budget = ctx.budget(b.level)
    if b.offset + b.bytes > budget:
        ctx.add(
            ViolationKind.BUDGET,
            node,
            f"buffer {b.name} spans [{b.offset}, {b.offset + b.bytes}) beyond the {b.level} budget {budget} B",
        )


def _check_buffer_layout(ctx: _Ctx, np_: NodePlan, buffers: list[L1Buffer]) -> None:
    node = np_.name
    ordered = sorted(buffers, key=lambda b: (b.level, b.offset))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.level != a.level or b.offset >= a.offset + a.bytes:
                break
            if b.bytes and a.bytes:
                ctx.add(
                    ViolationKind.BUFFER_OVERLAP,
                    node,
                    f"buffers {a.name} [{a.offset}, {a.offset + a.bytes}) and {b.name} "
                    f"[{b.offset}, {b.offset + b.bytes}) overlap in {a.level}",
                )
    used = sum(b.bytes for b in buffers if b.level == ctx.l1)
    if np_.l1_bytes != used:
        ctx.add(ViolationKind.L1_BYTES, node, f"l1_bytes is {np_.l1_bytes}, its {ctx.l1} buffers occupy {used} B")
    if ctx.l1 in ctx.levels and max(used, np_.l1_bytes) > ctx.budget(ctx.l1):
        ctx.add(
            ViolationKind.BUDGET,
            node,
            f"uses {max(used, np_.l1_bytes)} B of {ctx.l1}, the budget is {ctx.budget(ctx.l1)} B",
        )


def _check_operand_buffers(
    ctx: _Ctx, np_: NodePlan, node: Node, buffers: Mapping[str, L1Buffer], engine: ComputeEngine | None
) -> None:
    held = {b.tensor for b in buffers.values()}
    if not any(b.tensor == np_.output_tensor and b.role == "output" for b in buffers.values()):
        ctx.add(ViolationKind.MISSING_BUFFER, node.name, f"no output buffer for {np_.output_tensor}")
    for t in dict.fromkeys(node.inputs):
        if not t or t in held or ctx.graph.tensors[t].numel == 0:
            continue
        direct = engine is not None and any(p.level in engine.reads_levels for p in ctx.placed(t))
        if not direct:
            ctx.add(
                ViolationKind.MISSING_BUFFER,
                node.name,
                f"operand {t} has no buffer and is not placed where engine {np_.engine} reads directly",
            )


def _check_engine(ctx: _Ctx, np_: NodePlan, node: Node, buffers: Mapping[str, L1Buffer]) -> ComputeEngine | None:
    try:
        engine = ctx.hw.engine(np_.engine)
    except HwSpecError:
        if np_.engine != "cluster":
            ctx.add(
                ViolationKind.UNKNOWN_ENGINE,
                node.name,
                f"engine {np_.engine!r} is not in spec {ctx.hw.name} ({[e.name for e in ctx.hw.engines]})",
            )
            return None
        engine = ctx.hw.cluster_engine  # "cluster" names the spec's general-purpose engine, whatever its name
    if not engine.supports(node.op_type):
        ctx.add(ViolationKind.ENGINE_OP, node.name, f"engine {engine.name} does not run {node.op_type}")
    for b in buffers.values():
        allowed = engine.writes_levels if b.role == "output" else engine.reads_levels
        if b.level not in allowed:
            ctx.add(
                ViolationKind.BUFFER_LEVEL,
                node.name,
                f"buffer {b.name} ({b.role}) is in {b.level}; engine {engine.name} uses {list(allowed)}",
            )
    for rule in ENGINE_RULES.get(engine.kind, ()):
        for kind, message in rule(np_, node, ctx.graph, engine):
            ctx.add(kind, node.name, message)
    return engine


def _check_transfers(ctx: _Ctx, index: int, np_: NodePlan, buffers: Mapping[str, L1Buffer]) -> dict[int, Transfer]:
    node = np_.name
    transfers: dict[int, Transfer] = {}
    for t in np_.transfers:
        if t.id in transfers:
            ctx.add(ViolationKind.SCHEDULE, node, f"transfer id {t.id} used twice")
            continue
        transfers[t.id] = t
        _check_transfer(ctx, index, node, t, buffers.get(t.buffer))
    total = sum(t.bytes for t in np_.transfers)
    if np_.dma_bytes != total:
        ctx.add(ViolationKind.DMA_BYTES, node, f"dma_bytes is {np_.dma_bytes}, its transfers move {total} B")
    return transfers


def _min_runs(region: Region, shape: Sequence[int]) -> tuple[int, int]:
    """(fewest contiguous runs of a row-major box, elements per run)."""
    k = len(shape) - 1
    while k >= 0 and region[k] == (0, shape[k]):
        k -= 1
    if k < 0:
        return 1, _volume(region)
    return math.prod(n for _, n in region[:k]), region[k][1] * math.prod(shape[k + 1 :])


def _check_transfer(ctx: _Ctx, index: int, node: str, t: Transfer, b: L1Buffer | None) -> None:
    tag = f"transfer {t.id} ({t.direction} {t.tensor})"
    if b is None:
        ctx.add(ViolationKind.UNKNOWN_BUFFER, node, f"{tag} names unknown buffer {t.buffer!r}")
        return
    if t.tensor != b.tensor:
        ctx.add(ViolationKind.TRANSFER_TENSOR, node, f"{tag} into buffer {b.name}, which holds {b.tensor}")
    if (t.direction == "in") != (b.role in ("input", "weight")) or (t.direction == "out") != (b.role == "output"):
        ctx.add(ViolationKind.TRANSFER_TENSOR, node, f"{tag} with buffer {b.name} of role {b.role}")
    if t.slot >= b.copies:
        ctx.add(ViolationKind.SLOT, node, f"{tag} uses slot {t.slot} of buffer {b.name} with {b.copies} copies")
    tensor = ctx.graph.tensors.get(t.tensor)
    if tensor is None:
        ctx.add(ViolationKind.UNKNOWN_TENSOR, node, f"{tag}: no such tensor")
        return
    if not _in_bounds(t.region, tensor.shape):
        ctx.add(
            ViolationKind.REGION_BOUNDS, node, f"{tag} region {_fmt(t.region)} outside {tensor.name} {tensor.shape}"
        )
        return
    if not _fits(t.region, b.tile_shape):
        ctx.add(
            ViolationKind.TILE_SHAPE, node, f"{tag} region {_fmt(t.region)} exceeds buffer {b.name} tile {b.tile_shape}"
        )
    nbytes = _volume(t.region) * tensor.dtype.itemsize
    if t.bytes != nbytes:
        ctx.add(
            ViolationKind.TRANSFER_BYTES,
            node,
            f"{tag} claims {t.bytes} B, region {_fmt(t.region)} of {tensor.dtype.value} is {nbytes} B",
        )
    _check_rows(ctx, node, tag, t, tensor)
    _check_route(ctx, index, node, tag, t, b)


def _check_rows(ctx: _Ctx, node: str, tag: str, t: Transfer, tensor: Tensor) -> None:
    runs, run_len = _min_runs(t.region, tensor.shape)
    ok = t.rows >= 1 and (runs == 0 or (t.rows % runs == 0 and run_len % (t.rows // runs) == 0))
    if not ok:
        ctx.add(
            ViolationKind.TRANSFER_ROWS,
            node,
            f"{tag} claims {t.rows} rows; region {_fmt(t.region)} of {tensor.shape} is {runs} contiguous "
            f"runs of {run_len} elements",
        )


def _check_route(ctx: _Ctx, index: int, node: str, tag: str, t: Transfer, b: L1Buffer) -> None:
    if t.home_level not in ctx.levels:
        ctx.add(ViolationKind.UNKNOWN_LEVEL, node, f"{tag} home level {t.home_level!r} is unknown")
        return
    src, dst = (t.home_level, b.level) if t.direction == "in" else (b.level, t.home_level)
    if b.level in ctx.levels and not any(d.connects(src, dst) for d in ctx.hw.dmas):
        ctx.add(ViolationKind.DMA_ROUTE, node, f"{tag}: no DMA of {ctx.hw.name} copies {src} -> {dst}")
    placed = ctx.placed(t.tensor)
    if not placed:
        return
    at_home = [p for p in placed if p.level == t.home_level]
    if not at_home:
        ctx.add(
            ViolationKind.HOME_LEVEL,
            node,
            f"{tag} from {t.home_level}, but {t.tensor} is placed in {sorted({p.level for p in placed})}",
        )
    elif not any(p.start <= index + 1 < p.end for p in at_home):
        p = at_home[0]
        ctx.add(
            ViolationKind.MEMORY_LIFETIME,
            node,
            f"{tag}: {t.tensor} in {t.home_level} lives over [{p.start}, {p.end}), the node runs at {index + 1}",
        )


def _check_steps(ctx: _Ctx, np_: NodePlan, node: Node, buffers: Mapping[str, L1Buffer]) -> None:
    name = node.name
    out_shape = ctx.graph.tensors[np_.output_tensor].shape
    if len(np_.tile_shape) != len(out_shape):
        ctx.add(ViolationKind.TILE_SHAPE, name, f"tile_shape {np_.tile_shape} vs output {out_shape}")
    if sorted(np_.loop_order) != list(range(len(out_shape))):
        ctx.add(
            ViolationKind.LOOP_ORDER,
            name,
            f"loop_order {np_.loop_order} is no permutation of the {len(out_shape)} output dimensions",
        )
    if np_.num_tiles != len(np_.steps):
        ctx.add(ViolationKind.NUM_TILES, name, f"num_tiles is {np_.num_tiles}, the plan has {len(np_.steps)} steps")
    by_tensor: dict[str, list[L1Buffer]] = {}
    for b in buffers.values():
        if b.tensor is not None:
            by_tensor.setdefault(b.tensor, []).append(b)
    for i, step in enumerate(np_.steps):
        tag = f"step {i} (tile {step.tile})"
        if not _check_step_buffers(ctx, name, tag, step, buffers):
            continue
        if not _in_bounds(step.output_region, out_shape):
            ctx.add(
                ViolationKind.REGION_BOUNDS,
                name,
                f"{tag} output region {_fmt(step.output_region)} outside {np_.output_tensor} {out_shape}",
            )
            continue
        if not _fits(step.output_region, np_.tile_shape):
            ctx.add(
                ViolationKind.TILE_SHAPE,
                name,
                f"{tag} output region {_fmt(step.output_region)} exceeds tile_shape {np_.tile_shape}",
            )
        _check_step_output(ctx, name, tag, step, by_tensor.get(np_.output_tensor, []))
        _check_step_inputs(ctx, node, tag, step, by_tensor)


def _check_step_buffers(ctx: _Ctx, node: str, tag: str, step: ComputeStep, buffers: Mapping[str, L1Buffer]) -> bool:
    """Buffers, slots and region bounds named by a step; False when the step cannot be checked further."""
    ok = True
    for bname, slot in step.slots.items():
        b = buffers.get(bname)
        if b is None:
            ctx.add(ViolationKind.UNKNOWN_BUFFER, node, f"{tag} uses unknown buffer {bname!r}")
        elif not 0 <= slot < b.copies:
            ctx.add(ViolationKind.SLOT, node, f"{tag} uses slot {slot} of buffer {bname} with {b.copies} copies")
            ok = False
    for bname, region in step.regions.items():
        b = buffers.get(bname)
        if b is None:
            ctx.add(ViolationKind.UNKNOWN_BUFFER, node, f"{tag} names unknown buffer {bname!r}")
            ok = False
            continue
        if bname not in step.slots:
            ctx.add(ViolationKind.SLOT, node, f"{tag} gives buffer {bname} a region but no slot")
            ok = False
        if b.tensor is None:
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"{tag} gives a region to {b.role} buffer {bname}")
            continue
        shape = ctx.graph.tensors[b.tensor].shape
        if not _in_bounds(region, shape):
            ctx.add(
                ViolationKind.REGION_BOUNDS,
                node,
                f"{tag} region {_fmt(region)} of buffer {bname} outside {b.tensor} {shape}",
            )
            ok = False
        elif not _fits(region, b.tile_shape):
            ctx.add(
                ViolationKind.TILE_SHAPE,
                node,
                f"{tag} region {_fmt(region)} exceeds buffer {bname} tile {b.tile_shape}",
            )
    return ok


def _check_step_output(ctx: _Ctx, node: str, tag: str, step: ComputeStep, outs: list[L1Buffer]) -> None:
    named = [b for b in outs if b.name in step.regions and b.role == "output"]
    if outs and not named:
        ctx.add(ViolationKind.OUTPUT_REGION, node, f"{tag} names none of the output buffers {[b.name for b in outs]}")
    for b in named:
        if not _contains(step.regions[b.name], step.output_region):
            ctx.add(
                ViolationKind.OUTPUT_REGION,
                node,
                f"{tag} writes {_fmt(step.output_region)} into buffer "
                f"{b.name}, whose slot holds {_fmt(step.regions[b.name])}",
            )


def _check_step_inputs(
    ctx: _Ctx, node: Node, tag: str, step: ComputeStep, by_tensor: Mapping[str, list[L1Buffer]]
) -> None:
    try:
        needs = needed_regions(node, ctx.graph, step.output_region)
    except KeyError:
        ctx.add(ViolationKind.UNSUPPORTED_OP, node.name, f"no operand-region rule for {node.op_type}")
        return
    except (ValueError, IndexError, TypeError, ZeroDivisionError) as e:
        ctx.add(ViolationKind.UNSUPPORTED_OP, node.name, f"cannot derive operand regions of {node.op_type}: {e}")
        return
    for tensor, need in needs.items():
        candidates = [b for b in by_tensor.get(tensor, []) if b.role != "output"]
        if not candidates:
            continue  # no buffer at all: reported once per node (MISSING_BUFFER) unless read in place
        named = [b for b in candidates if b.name in step.regions]
        if not named:
            ctx.add(
                ViolationKind.INPUT_REGION,
                node.name,
                f"{tag} needs {_fmt(need)} of {tensor} but names none of its buffers {[b.name for b in candidates]}",
            )
        elif not any(_contains(step.regions[b.name], need) for b in named):
            held = ", ".join(f"{b.name} {_fmt(step.regions[b.name])}" for b in named)
            ctx.add(
                ViolationKind.INPUT_REGION,
                node.name,
                f"{tag} output {_fmt(step.output_region)} needs {_fmt(need)} of {tensor}; the step holds {held}",
            )


def _check_coverage(ctx: _Ctx, np_: NodePlan) -> None:
    shape = ctx.graph.tensors[np_.output_tensor].shape
    counter = np.zeros(shape, dtype=np.int32)
    for step in np_.steps:
        if _in_bounds(step.output_region, shape):
            counter[tuple(slice(s, s + n) for s, n in step.output_region)] += 1
    if counter.size == 0:
        return
    gaps, doubles = int(np.count_nonzero(counter == 0)), int(np.count_nonzero(counter > 1))
    if gaps:
        first = tuple(int(v) for v in np.argwhere(counter == 0)[0])
        ctx.add(
            ViolationKind.COVERAGE,
            np_.name,
            f"{gaps} element(s) of {np_.output_tensor} {shape} computed by no step (first at {first})",
        )
    if doubles:
        first = tuple(int(v) for v in np.argwhere(counter > 1)[0])
        ctx.add(
            ViolationKind.COVERAGE,
            np_.name,
            f"{doubles} element(s) of {np_.output_tensor} {shape} computed by several steps (first at {first})",
        )


# --- schedule simulation -----------------------------------------------------------------------------------


@dataclass
class _Slot:
    content: Region | None = None  # what the last completed load put there (inputs)
    last_load: int | None = None
    loading: int | None = None  # load in flight into the slot
    storing: set[int] = field(default_factory=set)  # stores in flight from the slot
    history: list[Region] = field(default_factory=list)  # every region loaded so far
    held: Region | None = None  # output tile region the slot holds (outputs)
    written: int = 0  # elements of `held` written by computes so far
    unstored: bool = False


class _Simulation:
    """Runs one node's events in order, tracking what every buffer slot holds and which DMAs are in flight."""

    def __init__(
        self, ctx: _Ctx, np_: NodePlan, buffers: Mapping[str, L1Buffer], transfers: Mapping[int, Transfer]
    ) -> None:
        self.ctx, self.np, self.buffers, self.transfers = ctx, np_, buffers, transfers
        self.slots: dict[tuple[str, int], _Slot] = {}
        self.started: set[int] = set()
        self.waited: set[int] = set()
        self.ran: Counter[int] = Counter()
        self.future_loads: dict[tuple[str, int], list[tuple[int, Region]]] = {}
        self.future_writes: dict[tuple[str, int], list[tuple[int, Region]]] = {}
        self._index_future()

    def add(self, kind: ViolationKind, message: str) -> None:
        self.ctx.add(kind, self.np.name, message)

    def _index_future(self) -> None:
        for pos, ev in enumerate(self.np.events):
            if ev.kind == "dma_start" and ev.ref in self.transfers:
                t = self.transfers[ev.ref]
                if t.direction == "in":
                    self.future_loads.setdefault((t.buffer, t.slot), []).append((pos, t.region))
            elif ev.kind == "compute" and ev.ref < len(self.np.steps):
                step = self.np.steps[ev.ref]
                for bname, region in step.regions.items():
                    b = self.buffers.get(bname)
                    if b is not None and b.role == "output" and bname in step.slots:
                        self.future_writes.setdefault((bname, step.slots[bname]), []).append((pos, region))

    @staticmethod
    def _later(
        index: Mapping[tuple[str, int], list[tuple[int, Region]]], key: tuple[str, int], pos: int, region: Region
    ) -> bool:
        entries = index.get(key, [])
        start = bisect.bisect_right([p for p, _ in entries], pos)
        return any(r == region for _, r in entries[start:])

    def slot(self, buffer: str, slot: int) -> _Slot:
        return self.slots.setdefault((buffer, slot), _Slot())

    def run(self) -> None:
        for pos, ev in enumerate(self.np.events):
            if ev.kind == "compute":
                self._compute(pos, ev.ref)
                continue
            t = self.transfers.get(ev.ref)
            if t is None:
                self.add(ViolationKind.SCHEDULE, f"event {pos} ({ev.kind}) refers to unknown transfer {ev.ref}")
            elif ev.kind == "dma_start":
                self._start(pos, t)
            else:
                self._wait(pos, t)
        self._finish()

    def _usable(self, t: Transfer) -> bool:
        b = self.buffers.get(t.buffer)
        return b is not None and t.slot < b.copies

    def _start(self, pos: int, t: Transfer) -> None:
        if t.id in self.started:
            self.add(ViolationKind.SCHEDULE, f"event {pos}: transfer {t.id} started twice")
            return
        self.started.add(t.id)
        if not self._usable(t):
            return
        s = self.slot(t.buffer, t.slot)
        where = f"{t.buffer}[{t.slot}]"
        if s.loading is not None:
            self.add(
                ViolationKind.HAZARD_DMA_RACE,
                f"event {pos}: transfer {t.id} loads into {where} while transfer {s.loading} still loads it",
            )
        if t.direction == "in":
            if s.storing:
                self.add(
                    ViolationKind.HAZARD_OVERWRITE_WHILE_READ,
                    f"event {pos}: transfer {t.id} loads into "
                    f"{where} while store {sorted(s.storing)} from it is in flight",
                )
            s.loading, s.content = t.id, None
            return
        if s.held == t.region and s.written >= _volume(t.region):
            s.unstored = False
        elif self._later(self.future_writes, (t.buffer, t.slot), pos, t.region):
            self.add(
                ViolationKind.HAZARD_STORE_BEFORE_COMPUTE,
                f"event {pos}: transfer {t.id} stores {_fmt(t.region)} from {where} before the compute that writes it",
            )
        else:
            held = "nothing" if s.held is None else _fmt(s.held)
            self.add(
                ViolationKind.REGION_MISMATCH,
                f"event {pos}: transfer {t.id} stores {_fmt(t.region)} from "
                f"{where}, which holds {held} ({s.written} elements written)",
            )
        s.storing.add(t.id)

    def _wait(self, pos: int, t: Transfer) -> None:
        if t.id not in self.started or t.id in self.waited:
            why = "never started" if t.id not in self.started else "already waited"
            self.add(ViolationKind.SCHEDULE, f"event {pos}: wait for transfer {t.id}, {why}")
            return
        self.waited.add(t.id)
        if not self._usable(t):
            return
        s = self.slot(t.buffer, t.slot)
        if t.direction == "in":
            if s.loading == t.id:
                s.loading = None
            s.content, s.last_load = t.region, t.id
            s.history.append(t.region)
        else:
            s.storing.discard(t.id)

    def _compute(self, pos: int, ref: int) -> None:
        if ref >= len(self.np.steps):
            self.add(ViolationKind.SCHEDULE, f"event {pos}: compute of unknown step {ref}")
            return
        self.ran[ref] += 1
        if self.ran[ref] > 1:
            self.add(ViolationKind.SCHEDULE, f"event {pos}: step {ref} computed again")
        step = self.np.steps[ref]
        for bname, region in step.regions.items():
            b = self.buffers.get(bname)
            slot = step.slots.get(bname)
            if b is None or slot is None or not 0 <= slot < b.copies:
                continue  # reported by the static step checks
            if b.role == "output":
                self._write(pos, ref, bname, slot, region, step.output_region)
            else:
                self._read(pos, ref, bname, slot, region)

    def _read(self, pos: int, ref: int, bname: str, slot: int, region: Region) -> None:
        s = self.slot(bname, slot)
        where = f"{bname}[{slot}]"
        if s.loading is not None:
            lt = self.transfers[s.loading]
            if lt.region == region:
                self.add(
                    ViolationKind.HAZARD_LOAD_BEFORE_COMPUTE,
                    f"event {pos}: step {ref} reads {where} "
                    f"before the wait of transfer {lt.id} that loads {_fmt(region)}",
                )
            else:
                self.add(
                    ViolationKind.HAZARD_OVERWRITE_WHILE_READ,
                    f"event {pos}: step {ref} reads {_fmt(region)} "
                    f"from {where} while transfer {lt.id} overwrites it with {_fmt(lt.region)}",
                )
            return
        if s.content == region:
            return
        if region in s.history:
            self.add(
                ViolationKind.HAZARD_OVERWRITE_WHILE_READ,
                f"event {pos}: step {ref} reads {_fmt(region)} from "
                f"{where}, but transfer {s.last_load} overwrote it before (now {_fmt(s.content or ())})",
            )
        elif self._later(self.future_loads, (bname, slot), pos, region):
            self.add(
                ViolationKind.HAZARD_LOAD_BEFORE_COMPUTE,
                f"event {pos}: step {ref} reads {_fmt(region)} from {where} before the transfer that loads it",
            )
        else:
            held = "nothing" if s.content is None else _fmt(s.content)
            self.add(
                ViolationKind.REGION_MISMATCH,
                f"event {pos}: step {ref} claims {where} holds {_fmt(region)}; it holds {held}",
            )

    def _write(self, pos: int, ref: int, bname: str, slot: int, region: Region, out: Region) -> None:
        s = self.slot(bname, slot)
        where = f"{bname}[{slot}]"
        if s.storing:
            self.add(
                ViolationKind.HAZARD_OUTPUT_OVERWRITE,
                f"event {pos}: step {ref} writes {where} while store {sorted(s.storing)} from it has not been waited",
            )
        if s.loading is not None:
            self.add(
                ViolationKind.HAZARD_DMA_RACE,
                f"event {pos}: step {ref} writes {where} while transfer {s.loading} loads into it",
            )
        if s.held != region:
            if s.unstored and s.held is not None:
                self.add(
                    ViolationKind.OUTPUT_NOT_STORED,
                    f"event {pos}: step {ref} overwrites {where}, whose tile {_fmt(s.held)} was never stored",
                )
            s.held, s.written = region, 0
        s.written += _volume(out)
        s.unstored = True

    def _finish(self) -> None:
        for tid, t in self.transfers.items():
            if tid not in self.started:
                self.add(
                    ViolationKind.TRANSFER_NOT_STARTED,
                    f"transfer {tid} ({t.direction} {t.tensor} {_fmt(t.region)}) has no dma_start",
                )
            elif tid not in self.waited:
                self.add(ViolationKind.UNWAITED_TRANSFER, f"transfer {tid} ({t.direction} {t.tensor}) is never waited")
        for i in range(len(self.np.steps)):
            if self.ran[i] == 0:
                self.add(ViolationKind.SCHEDULE, f"step {i} is never computed")
        for (bname, slot), s in self.slots.items():
            if s.unstored and s.held is not None:
                self.add(ViolationKind.OUTPUT_NOT_STORED, f"tile {_fmt(s.held)} in {bname}[{slot}] is never stored")


# --- engine rules (extension point) ------------------------------------------------------------------------

_Finding = tuple[ViolationKind, str]
EngineRule = Callable[[NodePlan, Node, Graph, ComputeEngine], Iterable[_Finding]]


def _npu_conv_rule(np_: NodePlan, node: Node, graph: Graph, engine: ComputeEngine) -> Iterable[_Finding]:
    rules = engine.npu
    if rules is None or node.op_type != "Conv":
        return
    ws = graph.tensors[node.inputs[1]].shape
    xs = graph.tensors[node.inputs[0]].shape
    if len(xs) != 4:
        yield ViolationKind.NPU_RULE, f"{engine.name} runs 2-D convolutions, not {len(xs) - 2}-D ones"
        return
    if xs[0] != 1:
        yield ViolationKind.NPU_RULE, f"batch {xs[0]}: {engine.name} has no batch counter (one image per task)"
    group = int(node.attr("group", 1))
    kernel = tuple(ws[2:])
    depthwise = group > 1 and group == xs[1] and ws[1] == 1
    if group > 1 and not depthwise:
        yield ViolationKind.NPU_RULE, f"{engine.name} runs dense or depthwise convolutions, not group={group}"
    sizes = rules.depthwise_kernel_sizes if depthwise else rules.kernel_sizes
    if any(k not in sizes for k in kernel) or len(set(kernel)) > 1:
        yield ViolationKind.NPU_RULE, f"{engine.name} has no {'depthwise ' if depthwise else ''}kernel {kernel}"
    strides = _ints(node.attr("strides"), len(kernel), 1)
    if max(strides, default=1) > rules.max_stride:
        yield ViolationKind.NPU_RULE, f"stride {strides} exceeds {engine.name}'s max_stride {rules.max_stride}"
    if any(d != 1 for d in _ints(node.attr("dilations"), len(kernel), 1)):
        yield ViolationKind.NPU_RULE, f"{engine.name} runs no dilated convolution"
    pads = _ints(node.attr("pads"), 2 * len(kernel), 0)
    if kernel and max(pads, default=0) > max(kernel) // 2:
        yield ViolationKind.NPU_RULE, f"padding {pads} exceeds what {engine.name} pads for kernel {kernel}"


def _npu_operand_rule(np_: NodePlan, node: Node, graph: Graph, engine: ComputeEngine) -> Iterable[_Finding]:
    rules = engine.npu
    if rules is None or len(node.inputs) < 2:
        return
    if node.op_type in ("Gemm", "MatMul") and not rules.gemm_as_conv1x1:
        yield ViolationKind.NPU_RULE, f"{engine.name} does not map {node.op_type} onto 1x1 convolutions"
    w = graph.tensors[node.inputs[1]]
    if rules.requires_constant_weights and not w.is_constant:
        yield ViolationKind.NPU_RULE, f"{engine.name} needs constant weights, {w.name} is computed at run time"
    if w.dtype.itemsize * 8 > rules.weight_bits:
        yield (
            ViolationKind.NPU_RULE,
            f"{engine.name} takes {rules.weight_bits}-bit weights, {w.name} is {w.dtype.value}",
        )
    x = graph.tensors[node.inputs[0]]
    if x.dtype.itemsize * 8 > rules.activation_bits:
        yield (
            ViolationKind.NPU_RULE,
            f"{engine.name} takes {rules.activation_bits}-bit activations, {x.name} is {x.dtype.value}",
        )
    y = graph.tensors[node.outputs[0]]
    if y.dtype.itemsize * 8 > rules.activation_bits and (node.requant is not None or y.dtype is not DType.INT32):
        yield ViolationKind.NPU_RULE, f"{engine.name} writes 8-bit or int32 outputs, {y.name} is {y.dtype.value}"
    if node.op_type == "Gemm" and (
        int(node.attr("transA", 0)) or float(node.attr("alpha", 1.0)) != 1.0 or float(node.attr("beta", 1.0)) != 1.0
    ):
        yield ViolationKind.NPU_RULE, f"{engine.name} runs Gemm with transA 0, alpha = beta = 1 only"
    if node.op_type == "MatMul" and (len(x.shape) < 2 or len(w.shape) < 2 or math.prod(w.shape[:-2]) != 1):
        yield ViolationKind.NPU_RULE, f"{engine.name} needs rows x K times one K x N matrix, got {x.shape} x {w.shape}"
    channels = _npu_channels(node, graph)
    for t in node.inputs[2:]:
        c = graph.tensors.get(t)
        if c is not None and c.numel not in (1, channels):
            yield ViolationKind.NPU_RULE, f"{engine.name} scales per channel or per tensor; {t} has {c.numel} values"


def _npu_channels(node: Node, graph: Graph) -> int:
    w = graph.tensors[node.inputs[1]].shape
    if node.op_type == "Conv":
        return w[0]
    return graph.tensors[node.outputs[0]].shape[-1]


def _npu_dims(node: Node, graph: Graph) -> tuple[int | None, tuple[int, ...], int, bool]:
    """(input dim holding all input channels or None, weight dims reduced over, output channel dim,
    depthwise?) of an NPU node."""
    xs = graph.tensors[node.inputs[0]].shape
    ws = graph.tensors[node.inputs[1]].shape
    if node.op_type == "Conv":
        depthwise = int(node.attr("group", 1)) > 1
        return (None if depthwise else 1), tuple(range(1, len(ws))), 1, depthwise
    if node.op_type == "Gemm":
        return 1, ((1,) if int(node.attr("transB", 0)) else (0,)), 1, False
    return len(xs) - 1, (len(ws) - 2,), len(graph.tensors[node.outputs[0]].shape) - 1, False


def _npu_tile_rule(np_: NodePlan, node: Node, graph: Graph, engine: ComputeEngine) -> Iterable[_Finding]:
    """Full input channels and full weights of its output channels in every tile; output-channel tiles
    start on a pass boundary (tasks compute whole passes of output_channels_per_pass; depthwise: blocks of
    input_channels_per_pass_3x3)."""
    rules = engine.npu
    if rules is None or node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.inputs) < 2:
        return
    x_dim, w_dims, ch_dim, depthwise = _npu_dims(node, graph)
    xs, ws = graph.tensors[node.inputs[0]].shape, graph.tensors[node.inputs[1]].shape
    names = {b.name: b.tensor for b in np_.buffers}
    width = rules.input_channels_per_pass_3x3 if depthwise else rules.output_channels_per_pass
    for step in np_.steps:
        for bname, region in step.regions.items():
            t = names.get(bname)
            if t == node.inputs[0] and x_dim is not None and x_dim < len(region) and region[x_dim] != (0, xs[x_dim]):
                yield (
                    ViolationKind.NPU_RULE,
                    f"step {step.tile}: input {t} rows {region[x_dim]} of {xs[x_dim]} "
                    f"channels; {engine.name} needs all input channels in every tile",
                )
            if t == node.inputs[1] and any(d < len(region) and region[d] != (0, ws[d]) for d in w_dims):
                yield (
                    ViolationKind.NPU_RULE,
                    f"step {step.tile}: weight tile {region} splits the reduction; "
                    f"{engine.name} needs the full weights of its output channels",
                )
        if ch_dim < len(step.output_region) and step.output_region[ch_dim][0] % width:
            yield (
                ViolationKind.NPU_RULE,
                f"step {step.tile}: output channels start at "
                f"{step.output_region[ch_dim][0]}, not on a {width}-channel pass of {engine.name}",
            )


# Rules per engine kind; each yields (kind, message) for one node.
ENGINE_RULES: dict[str, tuple[EngineRule, ...]] = {
    "cluster": (),
    "npu": (_npu_conv_rule, _npu_operand_rule, _npu_tile_rule),
}

# 256-bit words of N-EUREKA's packed weights [P: pulp-nnx NEUREKA_WEIGHT_BANDWIDTH; Deeploy _weightEncode].
_NPU_WORD_BYTES = 32


def _npu_packed_bytes(node: Node, graph: Graph, engine: ComputeEngine) -> int:
    """Bytes of a node's weights in the NPU's packed layout: 1x1 c_out * ceil(c_in / 32), 3x3
    c_out * ceil(c_in / 28) * bits, depthwise ceil(C / 28) * bits words of 32 B."""
    rules = engine.npu
    assert rules is not None
    ws = graph.tensors[node.inputs[1]].shape
    if node.op_type == "Conv":
        c_out, c_in, k = ws[0], ws[1], ws[2] if len(ws) > 2 else 1
        if int(node.attr("group", 1)) > 1:
            return -(-c_out // rules.input_channels_per_pass_3x3) * rules.weight_bits * _NPU_WORD_BYTES
        if k == 1:
            return c_out * -(-c_in // rules.input_channels_per_pass_1x1) * _NPU_WORD_BYTES
        return c_out * -(-c_in // rules.input_channels_per_pass_3x3) * rules.weight_bits * _NPU_WORD_BYTES
    if node.op_type == "Gemm" and int(node.attr("transB", 0)):
        c_out, c_in = ws[0], ws[1]
    else:
        c_in, c_out = ws[-2], ws[-1]
    return c_out * -(-c_in // rules.input_channels_per_pass_1x1) * _NPU_WORD_BYTES


def _check_weight_memory(ctx: _Ctx, placed: list[PlacedBuffer]) -> None:
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
                need = _npu_packed_bytes(node, ctx.graph, engine)
                if p.size < need:
                    ctx.add(
                        ViolationKind.MEMORY_SIZE,
                        node.name,
                        f"{p.tensor} gets {p.size} B in {p.level}; {engine.name}'s packed layout needs {need} B",
                    )


# --- whole-network memory ----------------------------------------------------------------------------------


def _check_memory(ctx: _Ctx) -> None:
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
    _check_weight_memory(ctx, known)
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


def _check_placement(ctx: _Ctx, p: PlacedBuffer) -> bool:
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
    if p.tensor in ctx.graph.input_names and p.start > 0:
        ctx.add(
            ViolationKind.MEMORY_LIFETIME, None, f"graph input {p.tensor} placed from t={p.start}, not before the run"
        )
    if p.tensor in ctx.graph.output_names and p.end <= last:
        ctx.add(
            ViolationKind.MEMORY_LIFETIME,
            None,
            f"graph output {p.tensor} freed at t={p.end}, before the run ends (t={last})",
        )
    return True


def _check_aliases(ctx: _Ctx, placed: list[PlacedBuffer]) -> None:
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


def _disjoint_while_live(group: list[PlacedBuffer]) -> bool:
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


def _check_level_overlap(ctx: _Ctx, level: str, group: list[PlacedBuffer]) -> None:
    if _disjoint_while_live(group):
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


def _check_level_usage(ctx: _Ctx, by_level: Mapping[str, list[PlacedBuffer]]) -> None:
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


def _check_required_placements(ctx: _Ctx) -> None:
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
