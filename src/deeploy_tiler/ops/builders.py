"""Geometry of each operator class: `node_geometry(node, graph)`.

Loop orders (outermost first) are fixed per operator: for Conv / Gemm / MatMul the output channels
(N) are outside the spatial / row dimensions, so a weight tile stays resident while the activation
tiles stream past it; everything else loops in the output's own dimension order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

from ..errors import PlanError
from ..ir import Graph, Node
from .geometry import DimMap, Follow, Full, Geometry, OperandMap

Builder = Callable[[Node, Graph], Geometry]

ELEMENTWISE_OPS = frozenset(
    {
        "Add",
        "Sub",
        "Mul",
        "Relu",
        "Clip",
        "RequantShift",
        "iGELU",
        "iHardswish",
        "TrueIntegerDiv",
        "QAdd",
        "RequantFloat",
    }
)
ROW_NORM_OPS = frozenset({"iSoftmax", "ITAMax", "iRMSNorm", "iLayerNorm", "Softmax", "LayerNormalization"})


def _operand(node: Node, graph: Graph, index: int, dims: Sequence[DimMap]) -> OperandMap:
    t = graph.tensor(node.inputs[index])
    role: Literal["input", "weight"] = "weight" if t.is_constant else "input"
    return OperandMap(index=index, tensor=t.name, shape=t.shape, dtype=t.dtype, role=role, dims=tuple(dims))


def _broadcast_dims(shape: tuple[int, ...], out_shape: tuple[int, ...]) -> list[DimMap]:
    """Numpy broadcasting, right-aligned: size-1 dims against larger outputs are whole (broadcast)."""
    off = len(out_shape) - len(shape)
    if off < 0:
        raise ValueError(f"operand shape {shape} has a higher rank than the output {out_shape}")
    maps: list[DimMap] = []
    for i, d in enumerate(shape):
        od = out_shape[i + off]
        if d == od:
            maps.append(Follow(i + off))
        elif d == 1:
            maps.append(Full("broadcast"))
        else:
            raise ValueError(f"operand shape {shape} does not broadcast to {out_shape}")
    return maps


def _requant_operands(node: Node, graph: Graph, out_shape: tuple[int, ...]) -> list[OperandMap]:
    """The fused RequantShift's mul / add constants (the last two inputs), broadcast on the output."""
    if node.requant is None:
        return []
    n = len(node.inputs)
    return [
        _operand(node, graph, i, _broadcast_dims(graph.tensor(node.inputs[i]).shape, out_shape)) for i in (n - 2, n - 1)
    ]


def _output(node: Node, graph: Graph) -> tuple[str, tuple[int, ...]]:
    if len(node.outputs) != 1:
        raise PlanError(f"node {node.name} ({node.op_type}): {len(node.outputs)} outputs; planning needs one")
    t = graph.tensor(node.outputs[0])
    return t.name, t.shape


def _geometry(
    node: Node,
    graph: Graph,
    untileable: Sequence[str | None],
    operands: Sequence[OperandMap],
    loop_order: Sequence[int] | None = None,
) -> Geometry:
    name, shape = _output(node, graph)
    return Geometry(
        op_type=node.op_type,
        output=name,
        out_shape=shape,
        out_dtype=graph.tensor(name).dtype,
        untileable=tuple(untileable),
        operands=tuple(operands),
        loop_order=tuple(loop_order) if loop_order is not None else tuple(range(len(shape))),
    )


def _n_main(node: Node) -> int:
    """Inputs before the fused requantization constants."""
    return len(node.inputs) - (2 if node.requant is not None else 0)


# --- convolution and pooling -------------------------------------------------------------------------------


def _window_maps(node: Node, spatial: int, kernel: tuple[int, ...], dilated: bool) -> list[Follow]:
    strides = tuple(node.attr("strides", (1,) * spatial))
    dil = tuple(node.attr("dilations", (1,) * spatial)) if dilated else (1,) * spatial
    pads = tuple(node.attr("pads", (0,) * (2 * spatial)))
    return [
        Follow(2 + i, int(strides[i]), int(dil[i]) * (int(kernel[i]) - 1) + 1, int(pads[i])) for i in range(spatial)
    ]


def conv(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    x = graph.tensor(node.inputs[0])
    w = graph.tensor(node.inputs[1])
    group = int(node.attr("group", 1))
    spatial = len(x.shape) - 2
    kernel = tuple(int(k) for k in w.shape[2:])
    windows = _window_maps(node, spatial, kernel, dilated=True)
    c_in, c_out = x.shape[1], w.shape[0]
    depthwise = group > 1 and group == c_in == c_out
    untileable: list[str | None] = [None] * len(out_shape)
    ch_map: DimMap
    if group == 1:
        ch_map = Full(f"untileable input-channel reduction of Conv needs all {c_in} input channels")
    elif depthwise:
        ch_map = Follow(1)
    else:
        ch_map = Full(f"grouped Conv (group {group}) reads whole channel groups")
        untileable[1] = f"grouped Conv (group {group}) output channels are planned whole"
    k_desc = "x".join(str(k) for k in (w.shape[1], *kernel))
    w_red = Full(f"untileable input-channel reduction of Conv needs the full {k_desc} weight slice per output channel")
    ops = [
        _operand(node, graph, 0, [Follow(0), ch_map, *windows]),
        _operand(node, graph, 1, [Follow(1), *([w_red] * (len(w.shape) - 1))]),
    ]
    if _n_main(node) > 2:  # bias, one per output channel
        ops.append(_operand(node, graph, 2, _broadcast_dims(graph.tensor(node.inputs[2]).shape, (c_out,))))
        ops[-1] = _shift_follow(ops[-1], 1)
    ops += _requant_operands(node, graph, out_shape)
    order = [1, 0, *range(2, len(out_shape))]  # output channels outermost: weights stay resident
    return _geometry(node, graph, untileable, ops, order)


def _shift_follow(op: OperandMap, out_dim: int) -> OperandMap:
    """Re-target the single Follow of a 1-D operand (mapped on its own axis) to output dim `out_dim`."""
    dims = tuple(Follow(out_dim) if isinstance(m, Follow) else m for m in op.dims)
    return OperandMap(index=op.index, tensor=op.tensor, shape=op.shape, dtype=op.dtype, role=op.role, dims=dims)


def pool(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    x = graph.tensor(node.inputs[0])
    spatial = len(x.shape) - 2
    kernel = tuple(int(k) for k in node.attr("kernel_shape"))
    windows = _window_maps(node, spatial, kernel, dilated=node.op_type == "MaxPool")
    ops = [_operand(node, graph, 0, [Follow(0), Follow(1), *windows])]
    return _geometry(node, graph, [None] * len(out_shape), ops)


def global_pool(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    x = graph.tensor(node.inputs[0])
    dims: list[DimMap] = [Follow(0), Follow(1), *[Full("global pooling window")] * (len(x.shape) - 2)]
    return _geometry(node, graph, [None] * len(out_shape), [_operand(node, graph, 0, dims)])


# --- matrix products ---------------------------------------------------------------------------------------


def gemm(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    k_red = Full("untileable K reduction of Gemm needs whole rows / columns")
    a_dims: list[DimMap] = [k_red, Follow(0)] if node.attr("transA", 0) else [Follow(0), k_red]
    b_dims: list[DimMap] = [Follow(1), k_red] if node.attr("transB", 0) else [k_red, Follow(1)]
    ops = [_operand(node, graph, 0, a_dims), _operand(node, graph, 1, b_dims)]
    if _n_main(node) > 2:
        ops.append(_operand(node, graph, 2, _broadcast_dims(graph.tensor(node.inputs[2]).shape, out_shape)))
    ops += _requant_operands(node, graph, out_shape)
    return _geometry(node, graph, [None, None], ops, [1, 0])


def matmul(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    a = graph.tensor(node.inputs[0]).shape
    b = graph.tensor(node.inputs[1]).shape
    r = len(out_shape)
    has_m, has_n = len(a) > 1, len(b) > 1
    n_batch = r - int(has_m) - int(has_n)
    k_red = Full("untileable K reduction of MatMul needs whole rows / columns")

    def batch_maps(shape: tuple[int, ...]) -> list[DimMap]:
        bshape = shape[:-2] if len(shape) > 1 else ()
        return _broadcast_dims(bshape, out_shape[:n_batch]) if bshape else []

    a_dims: list[DimMap] = [*batch_maps(a), Follow(n_batch), k_red] if has_m else [k_red]
    n_dim = r - 1
    b_dims: list[DimMap] = [*batch_maps(b), k_red, Follow(n_dim)] if has_n else [k_red]
    ops = [_operand(node, graph, 0, a_dims), _operand(node, graph, 1, b_dims)]
    ops += _requant_operands(node, graph, out_shape)
    order = list(range(n_batch))
    if has_n:
        order.append(n_dim)
    if has_m:
        order.append(n_batch)
    return _geometry(node, graph, [None] * r, ops, order)


# --- elementwise, normalizations, reductions ------------------------------------------------------------------


def elementwise(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    ops = [
        _operand(node, graph, i, _broadcast_dims(graph.tensor(t).shape, out_shape))
        for i, t in enumerate(node.inputs)
        if t
    ]
    return _geometry(node, graph, [None] * len(out_shape), ops)


def row_norm(node: Node, graph: Graph) -> Geometry:
    """Row-wise operators (softmax, RMS / layer norm): the normalized trailing axes are untileable."""
    _, out_shape = _output(node, graph)
    r = len(out_shape)
    axis = int(node.attr("axis", -1)) % r if node.op_type in ("Softmax", "LayerNormalization") else r - 1
    reason = f"row-wise {node.op_type} normalizes over the whole axis"
    untileable: list[str | None] = [None if d < axis else reason for d in range(r)]
    ops: list[OperandMap] = []
    for i, t in enumerate(node.inputs):
        if not t:
            continue
        dims = _broadcast_dims(graph.tensor(t).shape, out_shape)
        off = r - len(dims)
        dims = [Full(reason) if isinstance(m, Follow) and i2 + off >= axis else m for i2, m in enumerate(dims)]
        ops.append(_operand(node, graph, i, dims))
    return _geometry(node, graph, untileable, ops)


def reduce_mean(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    x = graph.tensor(node.inputs[0]).shape
    axes = {int(a) % len(x) for a in node.attr("axes", tuple(range(len(x))))}
    keep = bool(int(node.attr("keepdims", 1)))
    reason = f"{node.op_type} reduces over the whole axis"
    dims: list[DimMap] = []
    untileable: list[str | None] = [None] * len(out_shape)
    o = 0
    for i in range(len(x)):
        if i in axes:
            dims.append(Full(reason))
            if keep:
                untileable[o] = reason
                o += 1
        else:
            dims.append(Follow(o))
            o += 1
    return _geometry(node, graph, untileable, [_operand(node, graph, 0, dims)])


# --- data movement -------------------------------------------------------------------------------------------


def transpose(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    r = len(out_shape)
    perm = [int(p) for p in node.attr("perm", tuple(reversed(range(r))))]
    dims: list[DimMap] = [Follow(perm.index(j)) for j in range(r)]
    return _geometry(node, graph, [None] * r, [_operand(node, graph, 0, dims)])


def concat(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    r = len(out_shape)
    axis = int(node.attr("axis")) % r
    reason = "Concat axis: each tile takes every input's whole slice along it"
    ops = [
        _operand(node, graph, i, [Full(reason) if d == axis else Follow(d) for d in range(r)])
        for i, t in enumerate(node.inputs)
        if t
    ]
    return _geometry(node, graph, [reason if d == axis else None for d in range(r)], ops)


def gather(node: Node, graph: Graph) -> Geometry:
    """Tiled along the data dimensions it copies; the gathered axis and the indices are taken whole."""
    _, out_shape = _output(node, graph)
    data = graph.tensor(node.inputs[0]).shape
    idx = graph.tensor(node.inputs[1]).shape
    axis = int(node.attr("axis", 0)) % len(data)
    reason = "Gather: data-dependent indices along the gathered axis"
    d_dims: list[DimMap] = [Follow(i) for i in range(axis)] + [Full(reason)]
    d_dims += [Follow(i + len(idx) - 1) for i in range(axis + 1, len(data))]
    i_dims: list[DimMap] = [Full(reason)] * len(idx)
    untileable: list[str | None] = [reason if axis <= d < axis + len(idx) else None for d in range(len(out_shape))]
    ops = [_operand(node, graph, 0, d_dims), _operand(node, graph, 1, i_dims)]
    return _geometry(node, graph, untileable, ops)


def pad(node: Node, graph: Graph) -> Geometry:
    _, out_shape = _output(node, graph)
    r = len(out_shape)
    pads = [int(p) for p in node.attr("pads")]
    mode = str(node.attr("mode", "constant"))
    untileable: list[str | None] = [None] * r
    dims: list[DimMap] = []
    for d in range(r):
        if mode != "constant" and (pads[d] or pads[d + r]):
            reason = f"Pad mode {mode!r} reads across the whole axis"
            untileable[d] = reason
            dims.append(Full(reason))
        else:
            dims.append(Follow(d, pad_begin=pads[d]))
    return _geometry(node, graph, untileable, [_operand(node, graph, 0, dims)])


def slice_(node: Node, graph: Graph) -> Geometry:
    x = graph.tensor(node.inputs[0]).shape
    r = len(x)
    starts, ends = node.attr("starts"), node.attr("ends")
    axes = node.attr("axes", tuple(range(len(starts))))
    steps = node.attr("steps", (1,) * len(starts))
    dims: list[DimMap] = [Follow(d) for d in range(r)]
    untileable: list[str | None] = [None] * r
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        a = int(a) % r
        start, _, step = slice(int(s), int(e), int(st)).indices(x[a])
        if step < 0:
            reason = "Slice with a negative step"
            dims[a] = Full(reason)
            untileable[a] = reason
        else:
            dims[a] = Follow(a, stride=step, pad_begin=-start)
    return _geometry(node, graph, untileable, [_operand(node, graph, 0, dims)])


BUILDERS: dict[str, Builder] = {
    "Conv": conv,
    "MaxPool": pool,
    "AveragePool": pool,
    "GlobalAveragePool": global_pool,
    "Gemm": gemm,
    "MatMul": matmul,
    **{op: elementwise for op in ELEMENTWISE_OPS},
    **{op: row_norm for op in ROW_NORM_OPS},
    "IntegerMean": reduce_mean,
    "ReduceMean": reduce_mean,
    "Transpose": transpose,
    "Concat": concat,
    "Gather": gather,
    "Pad": pad,
    "Slice": slice_,
}


def node_geometry(node: Node, graph: Graph) -> Geometry:
    """The geometry of a (non-alias) node; PlanError when its operator has none."""
    builder = BUILDERS.get(node.op_type)
    if builder is None:
        raise PlanError(f"node {node.name}: no tiling geometry for operator {node.op_type}")
    try:
        return builder(node, graph)
    except (ValueError, KeyError, IndexError, TypeError) as e:
        raise PlanError(f"node {node.name} ({node.op_type}): cannot derive its tiling geometry: {e}") from None
