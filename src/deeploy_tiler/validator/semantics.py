"""Operator semantics: the operand regions one output tile needs, derived from the ONNX definitions.

`needed_regions` is the validator's own statement of what a tile reads; it deliberately shares no code
with the operator geometry in `ops/` that the planner uses, so a bug there cannot hide a bug here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ..ir import Graph, Node
from ..plan import Region
from .regions import bbox, full_region, is_empty

NeedRule = Callable[[Node, Graph, tuple[str, ...], Region], dict[str, Region]]


def _shape(graph: Graph, t: str) -> tuple[int, ...]:
    return graph.tensors[t].shape


def ints(value: Any, n: int, default: int) -> tuple[int, ...]:
    if value is None:
        return (default,) * n
    return tuple(int(v) for v in (value if isinstance(value, tuple) else (value,)))


def _merge(needs: dict[str, Region], tensor: str, region: Region) -> None:
    needs[tensor] = bbox(needs[tensor], region) if tensor in needs else region


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
    strides = ints(node.attr("strides"), n, 1)
    dil = ints(node.attr("dilations"), n, 1)
    pads = ints(node.attr("pads"), 2 * n, 0)
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
    _merge(needs, w, ((m0, mt), *full_region(ws[1:])))
    if len(ins) > 2 and ins[2]:
        _merge(needs, ins[2], ((m0, mt),))
    return needs


def _need_pool(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    xs = _shape(graph, ins[0])
    kernel = ints(node.attr("kernel_shape"), len(xs) - 2, 1)
    return {ins[0]: (out[0], out[1], *_spatial(node, xs, kernel, out))}


def _need_global_pool(node: Node, graph: Graph, ins: tuple[str, ...], out: Region) -> dict[str, Region]:
    xs = _shape(graph, ins[0])
    return {ins[0]: (out[0], out[1], *full_region(xs[2:]))}


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
    perm = ints(node.attr("perm"), 0, 0) or tuple(reversed(range(rank)))
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
    starts, ends = ints(node.attr("starts"), 0, 0), ints(node.attr("ends"), 0, 0)
    axes = ints(node.attr("axes"), 0, 0) or tuple(range(len(starts)))
    steps = ints(node.attr("steps"), 0, 0) or (1,) * len(starts)
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
    pads = ints(node.attr("pads"), 2 * rank, 0)
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
    axes = {int(a) % len(xs) for a in ints(node.attr("axes"), 0, 0)} or set(range(len(xs)))
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
    if is_empty(output_region):
        return {}
    rule = NEED_RULES[node.op_type]
    ins = node.inputs[:-2] if node.requant is not None else node.inputs
    needs = rule(node, graph, ins, output_region)
    if node.requant is not None:
        out_shape = _shape(graph, node.outputs[0])
        for t in (node.requant.mul, node.requant.add):
            _merge(needs, t, _broadcast(_shape(graph, t), out_shape, output_region))
    return {t: r for t, r in needs.items() if t and not is_empty(r)}
