"""IntegerMean and ReduceMean over adjacent axes (round half up) -> kernels/reduce_mean.tmpl.h."""

from __future__ import annotations

import math

from ...errors import EmitError, UnsupportedOperatorError
from ..views import collapse, split_leading
from .call import Fields, KernelCall, StepContext, kernel_call


def lower_reduce(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    xv, yv = ctx.view(node.inputs[0]), ctx.view(node.outputs[0])
    xt = g.tensor(node.inputs[0])
    axes = sorted(int(a) % xv.rank for a in node.attr("axes", tuple(range(xv.rank))))
    keep = int(node.attr("keepdims", 1))
    if axes != list(range(axes[0], axes[-1] + 1)):
        raise UnsupportedOperatorError({f"{node.op_type} over non-adjacent axes": [node.name]})
    a0, a1 = axes[0], axes[-1] + 1
    # output box -> input box: reduced axes whole
    ob = list(ctx.out_box)
    if keep:
        outer_b, inner_b = ob[:a0], ob[a1:]
        y_outer_s, y_inner_s = list(yv.strides[:a0]), list(yv.strides[a1:])
    else:
        outer_b, inner_b = ob[:a0], ob[a0:]
        y_outer_s, y_inner_s = list(yv.strides[:a0]), list(yv.strides[a0:])
    red = [(0, xt.shape[d]) for d in range(a0, a1)]
    in_box = (*outer_b, *red, *inner_b)
    xv.require(tuple(in_box), ctx.what)
    yv.require(ctx.out_box, ctx.what)
    xs = list(xv.strides)
    le, ls = collapse([n for _, n in red], [xs[a0:a1]])
    if len(le) > 1:
        raise EmitError(f"{ctx.what}: reduced axes are not contiguous in the input buffer")
    oe, os_ = collapse([n for _, n in outer_b] or [1], [xs[:a0] or [0], y_outer_s or [0]])
    ie, is_ = collapse([n for _, n in inner_b] or [1], [xs[a1:] or [0], y_inner_s or [0]])
    ke_o, ks_o, offs_o = split_leading(oe, os_, 1)
    ke_i, ks_i, offs_i = split_leading(ie, is_, 1)
    calls = []
    x_coords = [s for s, _ in in_box]
    y_coords = [s for s, _ in ctx.out_box]
    for oo in offs_o:
        for io in offs_i:
            f = Fields()
            f.add("x", xv.ptr(x_coords) + (oo[0] + io[0]) * xv.itemsize)
            f.add("y", yv.ptr(y_coords) + (oo[1] + io[1]) * yv.itemsize)
            for name, val in (
                ("outer", ke_o[0]),
                ("len", le[0]),
                ("inner", ke_i[0]),
                ("x_so", ks_o[0][0]),
                ("x_sl", ls[0][0]),
                ("x_si", ks_i[0][0]),
                ("y_so", ks_o[1][0]),
                ("y_si", ks_i[1][0]),
                ("divisor", math.prod(n for _, n in red)),
            ):
                f.add(name, val)
            calls.append(
                kernel_call(
                    "dt_reduce_args_t",
                    "reduce_mean",
                    (xt.dtype, g.tensor(node.outputs[0]).dtype),
                    f,
                    f"{node.op_type} over {le[0]}",
                )
            )
    return calls
