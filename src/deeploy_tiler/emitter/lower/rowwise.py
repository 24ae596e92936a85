"""Row-wise integer operators over whole rows (iSoftmax, ITAMax, iRMSNorm, iLayerNorm)
-> kernels/rowwise.tmpl.h."""

from __future__ import annotations

from ...errors import EmitError, UnsupportedOperatorError
from ...ir import Node
from ..views import Ptr, collapse, split_leading
from .call import Fields, KernelCall, StepContext, kernel_call

# op_type -> op code of the kernel (enum DT_ROW_* in c/kernels/dt_kernels.h)
ROW_OPS = {"iSoftmax": 0, "ITAMax": 1, "iRMSNorm": 2, "iLayerNorm": 3}


def rowwise_params(node: Node) -> list[int]:
    op = node.op_type
    if op == "iSoftmax":
        return [
            int(node.attr("coeffA")),
            int(node.attr("coeffB")),
            int(node.attr("coeffC")),
            int(node.attr("log2")),
            int(node.attr("n_levels", 256)),
            0,
        ]
    if op == "ITAMax":
        return [int(node.attr("n_levels", 256)), 0, 0, 0, 0, 0]
    return [int(node.attr("D")), int(node.attr("n_levels", 256)), 0, 0, 0, 0]


def lower_rowwise(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    xv, yv = ctx.view(node.inputs[0]), ctx.view(node.outputs[0])
    xt = g.tensor(node.inputs[0])
    axis = int(node.attr("axis", -1)) % xv.rank
    if axis != xv.rank - 1:
        raise UnsupportedOperatorError({f"{node.op_type} on a non-last axis": [node.name]})
    length = xt.shape[-1]
    if ctx.out_box[-1] != (0, length):
        raise EmitError(f"{ctx.what}: row-wise {node.op_type} needs whole rows in every tile, got {ctx.out_box[-1]}")
    xv.require(ctx.out_box, ctx.what)
    yv.require(ctx.out_box, ctx.what)
    out_start = [s for s, _ in ctx.out_box]
    rows_e, rows_s = collapse(
        [n for _, n in ctx.out_box[:-1]] or [1], [list(xv.strides[:-1]) or [0], list(yv.strides[:-1]) or [0]]
    )
    ke, ks, offs = split_leading(rows_e, rows_s, 1)
    wptr: Ptr | None = None
    bptr: Ptr | None = None
    wb = bb = 0
    extra = [t for t in node.inputs[1:] if t]
    if extra:
        wv = ctx.view(extra[0])
        wv.require(tuple((0, d) for d in wv.full), ctx.what)
        wptr, wb = wv.ptr([0] * wv.rank), wv.itemsize
    if len(extra) > 1:
        bv = ctx.view(extra[1])
        bv.require(tuple((0, d) for d in bv.full), ctx.what)
        bptr, bb = bv.ptr([0] * bv.rank), bv.itemsize
    types = (xt.dtype, g.tensor(node.outputs[0]).dtype)
    calls = []
    for off in offs:
        f = Fields()
        f.add("x", xv.ptr(out_start) + off[0] * xv.itemsize)
        f.add("y", yv.ptr(out_start) + off[1] * yv.itemsize)
        f.add("w", wptr)
        f.add("bias", bptr)
        f.add("w_bytes", wb)
        f.add("bias_bytes", bb)
        f.add("op", ROW_OPS[node.op_type])
        f.add("p", rowwise_params(node))
        f.add("rows", ke[0])
        f.add("len", length)
        f.add("x_sr", ks[0][0])
        f.add("y_sr", ks[1][0])
        calls.append(kernel_call("dt_rowwise_args_t", "rowwise", types, f, f"{node.op_type} {ke[0]} rows of {length}"))
    return calls
