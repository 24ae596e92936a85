"""Elementwise operators (Add / Sub / Mul with broadcast, RequantShift, Relu, Clip, iHardswish, iGELU,
TrueIntegerDiv) -> kernels/eltwise.tmpl.h; `eltwise_calls` is also the strided copy / fill the data
movement operators (lower/copy.py) use."""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import EmitError
from ...ir import DType, Node
from ..cwriter import f32_bits
from ..views import Ptr, broadcast_operand, collapse, split_leading
from .call import FLOAT_TEMPLATE_PREFIX, Fields, KernelCall, RequantArgs, StepContext, is_float_node, kernel_call
from .requant import RequantSpec, abs_bound, requant_of, wide_flag

# op_type -> op code of the kernel (enum DT_EW_* in c/kernels/dt_kernels.h)
EW_OPS = {
    "Add": 0,
    "Sub": 1,
    "Mul": 2,
    "RequantShift": 3,
    "Identity": 3,
    "Relu": 4,
    "Clip": 5,
    "iHardswish": 7,
    "iGELU": 8,
    "TrueIntegerDiv": 9,
    "RequantFloat": 3,
    "QAdd": 10,
}

EW_COPY = EW_OPS["Identity"]  # DT_EW_COPY: y = a (strided copy)
EW_FILL = 6  # DT_EW_FILL: y = p[0]


def eltwise_params(node: Node, float_node: bool = False) -> list[int]:
    op = node.op_type
    if op == "Clip" and float_node:  # float32 bounds as bit patterns (absent: -inf / +inf)
        lo, hi = node.attr("min"), node.attr("max")
        bits = f32_bits([float("-inf") if lo is None else float(lo), float("inf") if hi is None else float(hi)])
        return [int(bits[0]), int(bits[1]), 0, 0]
    if op == "Clip":
        return [int(node.attr("min", -(2**31))), int(node.attr("max", 2**31 - 1)), 0, 0]
    if op == "iHardswish":
        return [int(node.attr("one_over_six")), int(node.attr("six")), int(node.attr("three")), 0]
    if op == "iGELU":
        return [int(node.attr("b")), int(node.attr("one")), 0, 0]
    if op == "TrueIntegerDiv":
        den = int(node.attr("y")) * int(node.attr("eta")) + int(node.attr("eps"))
        if den <= 0:
            raise EmitError(f"node {node.name}: TrueIntegerDiv denominator y*eta + eps = {den} is not positive")
        return [int(node.attr("Delta")) * int(node.attr("eta")) // den, 0, 0, 0]
    if op == "QAdd":
        scalar = 1 if int(node.attr("scalar_a", 0)) else (2 if int(node.attr("scalar_b", 0)) else 0)
        return [int(node.attr("ratio_a")), int(node.attr("ratio_b")), int(node.attr("fixed")), scalar]
    return [0, 0, 0, 0]


def eltwise_calls(
    ctx: StepContext,
    op: int,
    params: Sequence[int],
    a: tuple[Ptr, list[int], DType],
    b: tuple[Ptr, list[int], DType] | None,
    y: tuple[Ptr, list[int], DType],
    extents: Sequence[int],
    rq: RequantSpec | None,
    comment: str,
    acc_bound: int | None = None,
    clamp: tuple[int, int] | None = None,
) -> list[KernelCall]:
    """Elementwise calls over a box of `extents` (any rank): dims collapsed, extra ones split."""
    ops = [a[1], (b[1] if b else [0] * len(extents)), y[1]]
    rq_strides: list[list[int]] = []
    rq_ptrs: list[Ptr] = []
    if rq is not None:
        out_start = [s for s, _ in ctx.out_box]
        for t in (rq.mul, rq.add):
            p, st = broadcast_operand(ctx.view(t), out_start)
            if len(st) != len(extents):
                raise EmitError(f"{ctx.what}: requant operand rank does not match the output box")
            rq_ptrs.append(p)
            rq_strides.append(st)
    ext, sts = collapse(extents, ops + rq_strides)
    ke, ks, offsets = split_leading(ext, sts, 4)
    calls = []
    bdt = b[2] if b else a[2]
    template = "eltwise"
    types: tuple[DType, ...] = (a[2], bdt, y[2])
    if DType.FLOAT32 in types:
        if op == EW_COPY:  # data movement of float32 tensors: their bit patterns, through the integer copy
            types = tuple(DType.UINT32 if t is DType.FLOAT32 else t for t in types)
        else:
            template, types = FLOAT_TEMPLATE_PREFIX + "eltwise", (DType.FLOAT32,)
    for off in offsets:
        f = Fields()
        f.add("a", a[0] + off[0] * a[2].itemsize)
        f.add("b", (b[0] + off[1] * b[2].itemsize) if b else None)
        f.add("y", y[0] + off[2] * y[2].itemsize)
        if rq is not None:
            lo, hi = rq.lo_hi
            f.add(
                "rq",
                RequantArgs(
                    rq_ptrs[0] + off[3] * 4,
                    rq_ptrs[1] + off[4] * 4,
                    tuple(ks[3]),
                    tuple(ks[4]),
                    rq.shift,
                    lo,
                    hi,
                    wide_flag(ctx, rq, acc_bound),
                    rq.fmode,
                ),
            )
        elif clamp is not None:  # no requantization, only the bounds (QAdd clamps in the kernel)
            f.add("rq", RequantArgs(None, None, (0, 0, 0, 0), (0, 0, 0, 0), 0, clamp[0], clamp[1]))
        else:
            f.add("rq", None)
        f.add("op", op)
        f.add("p", list(params))
        f.add("d", ke)
        f.add("a_s", ks[0])
        f.add("b_s", ks[1])
        f.add("y_s", ks[2])
        calls.append(kernel_call("dt_eltwise_args_t", template, types, f, comment))
    return calls


def lower_eltwise(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    op = EW_OPS[node.op_type]
    binary = node.op_type in ("Add", "Sub", "Mul", "QAdd")
    out_start = [s for s, _ in ctx.out_box]
    extents = [n for _, n in ctx.out_box]
    yv = ctx.view(node.outputs[0])
    yv.require(ctx.out_box, ctx.what)
    ydt = g.tensor(node.outputs[0]).dtype
    y = (yv.ptr(out_start), list(yv.strides), ydt)

    def operand(name: str) -> tuple[Ptr, list[int], DType]:
        v = ctx.view(name)
        p, st = broadcast_operand(v, out_start)
        lead = len(out_start) - v.rank
        box = tuple((0, 1) if v.full[d] == 1 else ctx.out_box[d + lead] for d in range(v.rank))
        v.require(box, ctx.what)
        return p, st, g.tensor(name).dtype

    a = operand(node.inputs[0])
    b = operand(node.inputs[1]) if binary else None
    ba = abs_bound(ctx, node.inputs[0])
    bound: int | None = None
    if node.op_type in ("Add", "Sub"):
        bound = ba + abs_bound(ctx, node.inputs[1])
    elif node.op_type == "Mul":
        bound = ba * abs_bound(ctx, node.inputs[1])
    elif node.op_type in ("RequantShift", "Identity", "Relu", "Clip", "RequantFloat"):
        bound = ba
    clamp = (int(node.attr("lo")), int(node.attr("hi"))) if node.op_type == "QAdd" else None
    return eltwise_calls(
        ctx,
        op,
        eltwise_params(node, is_float_node(ctx)),
        a,
        b,
        y,
        extents,
        requant_of(node),
        f"{node.op_type} over {'x'.join(map(str, extents))}",
        bound,
        clamp=clamp,
    )
