"""Shape inference for every supported operator (ONNX's own does not know the integer dialect).

Each rule takes the node's attributes and input shapes and returns the output shapes, or raises
`ShapeError` naming the node. Static operands (Reshape's shape, Slice's starts...) are already
folded into attributes by the importer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..errors import ShapeError

Shape = tuple[int, ...]
Attrs = Mapping[str, Any]
ShapeRule = Callable[[str, Attrs, Sequence[Shape]], list[Shape]]


def _fail(node: str, msg: str) -> ShapeError:
    return ShapeError(f"node {node}: {msg}", node=node)


def broadcast(node: str, *shapes: Shape) -> Shape:
    rank = max(len(s) for s in shapes)
    out = []
    for dims in zip(*[(1,) * (rank - len(s)) + tuple(s) for s in shapes], strict=True):
        non1 = {d for d in dims if d != 1}
        if len(non1) > 1:
            raise _fail(node, f"shapes {list(shapes)} do not broadcast")
        out.append(non1.pop() if non1 else 1)
    return tuple(out)


def _axis(node: str, axis: int, rank: int) -> int:
    if not -rank <= axis < rank:
        raise _fail(node, f"axis {axis} out of range for rank {rank}")
    return axis % rank


def _same(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    return [tuple(ins[0])]


def _elementwise(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    return [broadcast(node, *ins)]


def explicit_pads(attrs: Attrs, spatial: Shape, kernel: Shape) -> tuple[int, ...]:
    """ONNX `auto_pad` (SAME_UPPER, SAME_LOWER, VALID) turned into explicit begin/end pads."""
    n = len(spatial)
    mode = attrs.get("auto_pad", "NOTSET")
    if mode in ("NOTSET", ""):
        return tuple(attrs.get("pads", (0,) * (2 * n)))
    if mode == "VALID":
        return (0,) * (2 * n)
    strides = tuple(attrs.get("strides", (1,) * n))
    dil = tuple(attrs.get("dilations", (1,) * n))
    begin, end = [], []
    for i in range(n):
        out = -(-spatial[i] // strides[i])
        total = max((out - 1) * strides[i] + dil[i] * (kernel[i] - 1) + 1 - spatial[i], 0)
        small, large = total // 2, total - total // 2
        begin.append(small if mode == "SAME_UPPER" else large)
        end.append(large if mode == "SAME_UPPER" else small)
    return (*begin, *end)


def _window(node: str, attrs: Attrs, spatial: Shape, kernel: Shape) -> Shape:
    n = len(spatial)
    strides = tuple(attrs.get("strides", (1,) * n))
    dil = tuple(attrs.get("dilations", (1,) * n))
    pads = tuple(attrs.get("pads", (0,) * (2 * n)))
    if len(strides) != n or len(dil) != n or len(pads) != 2 * n:
        raise _fail(node, f"strides/dilations/pads {strides}/{dil}/{pads} do not match {n} spatial dims")
    ceil = bool(attrs.get("ceil_mode", 0))
    out = []
    for i in range(n):
        size = window_output_size(spatial[i], kernel[i], strides[i], dil[i], pads[i], pads[i + n], ceil)
        if size is None:
            raise _fail(node, f"kernel {kernel} larger than padded input {spatial}")
        out.append(size)
    return tuple(out)


def window_output_size(
    size: int, kernel: int, stride: int, dilation: int, pad_begin: int, pad_end: int, ceil_mode: bool
) -> int | None:
    """Output positions of a sliding window along one dim (None when the kernel exceeds the padded input).

    The one rule for Conv / MaxPool / AveragePool, shared by the frontend and the reference: floor mode
    counts the windows that fit the padded input; ceil mode also counts a last partial window, except one
    that would start in the end padding (or beyond), which is dropped: onnxruntime's rule (and PyTorch's);
    ONNX's own reference runtime keeps it, and is not followed here."""
    span = size + pad_begin + pad_end - dilation * (kernel - 1) - 1
    if span < 0:
        return None
    q = -(-span // stride) if ceil_mode else span // stride
    if ceil_mode and q > 0 and q * stride >= size + pad_begin:
        q -= 1
    return q + 1


def _conv(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x, w = ins[0], ins[1]
    if len(x) < 3 or len(w) != len(x):
        raise _fail(node, f"Conv input {x} and weight {w} ranks differ or are < 3")
    group = int(attrs.get("group", 1))
    if x[1] != w[1] * group or w[0] % group:
        raise _fail(node, f"Conv channels: input {x[1]} vs weight {w} with group {group}")
    kernel = tuple(attrs.get("kernel_shape", w[2:]))
    if kernel != tuple(w[2:]):
        raise _fail(node, f"kernel_shape {kernel} != weight spatial dims {w[2:]}")
    if len(ins) > 2 and ins[2] != (w[0],):
        raise _fail(node, f"Conv bias shape {ins[2]} != ({w[0]},)")
    return [(x[0], w[0], *_window(node, attrs, x[2:], kernel))]


def _pool(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    kernel = tuple(attrs["kernel_shape"])
    if len(kernel) != len(x) - 2:
        raise _fail(node, f"pool kernel {kernel} does not match input {x}")
    return [(x[0], x[1], *_window(node, attrs, x[2:], kernel))]


def _global_pool(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    return [(x[0], x[1], *([1] * (len(x) - 2)))]


def _gemm(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    a, b = ins[0], ins[1]
    if len(a) != 2 or len(b) != 2:
        raise _fail(node, f"Gemm needs 2-D operands, got {a} and {b}")
    m, k = (a[1], a[0]) if attrs.get("transA", 0) else a
    k2, n = (b[1], b[0]) if attrs.get("transB", 0) else b
    if k != k2:
        raise _fail(node, f"Gemm inner dimensions differ: {k} vs {k2}")
    if len(ins) > 2:
        broadcast(node, ins[2], (m, n))
    return [(m, n)]


def _matmul(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    a, b = ins[0], ins[1]
    a2 = (1, *a) if len(a) == 1 else a
    b2 = (*b, 1) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise _fail(node, f"MatMul inner dimensions differ: {a} @ {b}")
    batch = broadcast(node, a2[:-2], b2[:-2]) if (a2[:-2] or b2[:-2]) else ()
    out = (*batch, a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return [out]


def _flatten(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    axis = int(attrs.get("axis", 1))
    axis = axis % len(x) if axis < 0 else axis
    left = 1
    for d in x[:axis]:
        left *= d
    right = 1
    for d in x[axis:]:
        right *= d
    return [(left, right)]


def _reshape(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    target = [int(d) for d in attrs["shape"]]
    out = [x[i] if d == 0 else d for i, d in enumerate(target)]
    numel = 1
    for d in x:
        numel *= d
    if out.count(-1) > 1:
        raise _fail(node, f"Reshape target {target} has more than one -1")
    known = 1
    for d in out:
        if d != -1:
            known *= d
    if -1 in out:
        if known == 0 or numel % known:
            raise _fail(node, f"cannot reshape {x} to {target}")
        out[out.index(-1)] = numel // known
    elif known != numel:
        raise _fail(node, f"cannot reshape {x} ({numel} elements) to {target}")
    return [tuple(out)]


def _transpose(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    perm = tuple(attrs.get("perm", tuple(reversed(range(len(x))))))
    if sorted(perm) != list(range(len(x))):
        raise _fail(node, f"perm {perm} is not a permutation of rank {len(x)}")
    return [tuple(x[p] for p in perm)]


def _concat(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    rank = len(ins[0])
    axis = _axis(node, int(attrs["axis"]), rank)
    for s in ins[1:]:
        if len(s) != rank or any(s[i] != ins[0][i] for i in range(rank) if i != axis):
            raise _fail(node, f"Concat inputs {list(ins)} differ outside axis {axis}")
    return [tuple(sum(s[axis] for s in ins) if i == axis else ins[0][i] for i in range(rank))]


def _gather(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    data, idx = ins[0], ins[1]
    axis = _axis(node, int(attrs.get("axis", 0)), len(data))
    return [(*data[:axis], *idx, *data[axis + 1 :])]


def _slice(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = list(ins[0])
    starts, ends = attrs["starts"], attrs["ends"]
    axes = attrs.get("axes", tuple(range(len(starts))))
    steps = attrs.get("steps", (1,) * len(starts))
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        a = _axis(node, int(a), len(x))
        if st == 0:
            raise _fail(node, "Slice step 0")
        x[a] = len(range(*slice(int(s), int(e), int(st)).indices(x[a])))
    return [tuple(x)]


def _squeeze(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    axes = attrs.get("axes")
    if axes is None:
        return [tuple(d for d in x if d != 1)]
    ax = {_axis(node, int(a), len(x)) for a in axes}
    if any(x[a] != 1 for a in ax):
        raise _fail(node, f"Squeeze axes {axes} are not 1 in {x}")
    return [tuple(d for i, d in enumerate(x) if i not in ax)]


def _unsqueeze(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    out = list(ins[0])
    rank = len(out) + len(attrs["axes"])
    for a in sorted(_axis(node, int(a), rank) for a in attrs["axes"]):
        out.insert(a, 1)
    return [tuple(out)]


def _pad(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    pads = attrs["pads"]
    if len(pads) != 2 * len(x):
        raise _fail(node, f"Pad pads {pads} do not match rank {len(x)}")
    return [tuple(d + pads[i] + pads[i + len(x)] for i, d in enumerate(x))]


def _reduce(node: str, attrs: Attrs, ins: Sequence[Shape]) -> list[Shape]:
    x = ins[0]
    axes = attrs.get("axes", tuple(range(len(x))))
    ax = {_axis(node, int(a), len(x)) for a in axes}
    if int(attrs.get("keepdims", 1)):
        return [tuple(1 if i in ax else d for i, d in enumerate(x))]
    return [tuple(d for i, d in enumerate(x) if i not in ax)]


SHAPE_RULES: dict[str, ShapeRule] = {
    "Conv": _conv,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "Add": _elementwise,
    "Sub": _elementwise,
    "Mul": _elementwise,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_pool,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Transpose": _transpose,
    "Concat": _concat,
    "Gather": _gather,
    "Slice": _slice,
    "Squeeze": _squeeze,
    "Unsqueeze": _unsqueeze,
    "Pad": _pad,
    "Relu": _same,
    "Clip": _same,
    "Identity": _same,
    "Softmax": _same,
    "LayerNormalization": _same,
    "RequantShift": _same,
    "iSoftmax": _same,
    "ITAMax": _same,
    "iRMSNorm": _same,
    "iLayerNorm": _same,
    "iGELU": _same,
    "iHardswish": _same,
    "TrueIntegerDiv": _same,
    "IntegerMean": _reduce,
    "ReduceMean": _reduce,
}
