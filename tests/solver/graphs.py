"""Tiny hand-made graphs (one node each) for solver, cost and geometry tests."""

from __future__ import annotations

from deeploy_tiler.frontend.macs import node_macs
from deeploy_tiler.frontend.shapes import SHAPE_RULES
from deeploy_tiler.ir import AttrValue, DType, Graph, Node, Tensor, TensorKind


def single_node(
    op: str,
    inputs: list[tuple[tuple[int, ...], DType, bool]],
    attrs: dict[str, AttrValue],
    out_dtype: DType = DType.INT8,
) -> Graph:
    """A graph of one `op` node; inputs are (shape, dtype, constant?); names in0, in1, ... and y."""
    tensors: dict[str, Tensor] = {}
    names = []
    for i, (shape, dt, const) in enumerate(inputs):
        name = f"in{i}"
        names.append(name)
        tensors[name] = Tensor(name, shape, dt, TensorKind.CONSTANT if const else TensorKind.INPUT)
    shapes = [s for s, _, _ in inputs]
    (out_shape,) = SHAPE_RULES[op]("n", attrs, shapes)
    tensors["y"] = Tensor("y", out_shape, out_dtype, TensorKind.OUTPUT)
    node = Node(
        name="n",
        op_type=op,
        inputs=tuple(names),
        outputs=("y",),
        attributes=tuple(sorted(attrs.items())),
        macs=node_macs(op, attrs, shapes, [out_shape]),
    )
    return Graph(
        name=f"one_{op}",
        tensors=tensors,
        nodes=(node,),
        input_names=tuple(n for n, (_, _, c) in zip(names, inputs, strict=True) if not c),
        output_names=("y",),
    )


def conv(c_in: int, c_out: int, h: int, w: int, k: int, stride: int, pad: int, depthwise: bool = False) -> Graph:
    group = c_in if depthwise else 1
    if depthwise:
        c_out = c_in
    attrs: dict[str, AttrValue] = {
        "kernel_shape": (k, k),
        "strides": (stride, stride),
        "pads": (pad,) * 4,
        "dilations": (1, 1),
        "group": group,
    }
    return single_node(
        "Conv", [((1, c_in, h, w), DType.INT8, False), ((c_out, c_in // group, k, k), DType.INT8, True)], attrs
    )


def gemm(m: int, k: int, n: int, trans_b: bool = True) -> Graph:
    b = (n, k) if trans_b else (k, n)
    return single_node(
        "Gemm", [((m, k), DType.INT8, False), (b, DType.INT8, True)], {"transB": int(trans_b)}, out_dtype=DType.INT32
    )


def matmul(batch: int, m: int, k: int, n: int, b_batch: bool = True) -> Graph:
    b = (batch, k, n) if b_batch else (k, n)
    return single_node(
        "MatMul", [((batch, m, k), DType.INT8, False), (b, DType.INT8, not b_batch)], {}, out_dtype=DType.INT32
    )
