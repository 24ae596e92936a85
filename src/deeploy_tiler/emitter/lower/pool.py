"""MaxPool, AveragePool, GlobalAveragePool -> kernels/pool.tmpl.h."""

from __future__ import annotations

from ...errors import UnsupportedOperatorError
from .call import Fields, KernelCall, StepContext, typed_call
from .requant import abs_bound, requant_fields, requant_of
from .window import check_window_rows, to_2d, window_attrs


def lower_pool(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    x_name, yname = node.inputs[0], node.outputs[0]
    xt = g.tensor(x_name)
    nsp = len(xt.shape) - 2
    if node.op_type == "GlobalAveragePool":
        kernel = list(xt.shape[2:])
        strides, dil, pads_begin = [1] * nsp, [1] * nsp, [0] * nsp
        mode, cip = 1, 1
    else:
        kernel = list(node.attr("kernel_shape"))
        strides, dil, pads = window_attrs(node, nsp)
        pads_begin = pads[:nsp]
        mode = 0 if node.op_type == "MaxPool" else 1
        cip = int(node.attr("count_include_pad", 0))
    xv, yv = ctx.view(x_name), ctx.view(yname)
    out_box = ctx.out_box
    full = list(xt.shape[2:])
    if nsp == 1:
        xv, yv = xv.with_unit_dim(2), yv.with_unit_dim(2)
        out_box = to_2d(out_box)
        kernel, strides, dil, pads_begin, full = [1, *kernel], [1, *strides], [1, *dil], [0, *pads_begin], [1, *full]
    elif nsp != 2:
        raise UnsupportedOperatorError({f"{node.op_type}{nsp}D": [node.name]})
    (b0, nb), (c0, nc), (oy0, noy), (ox0, nox) = out_box
    xv.require(((b0, nb), (c0, nc), (xv.start[2], xv.shape[2]), (xv.start[3], xv.shape[3])), ctx.what)
    check_window_rows(ctx, xv, out_box, kernel, strides, dil, pads_begin, full)
    xs, ys = xv.strides, yv.strides
    f = Fields()
    f.add("x", xv.ptr((b0, c0, xv.start[2], xv.start[3])))
    f.add("y", yv.ptr((b0, c0, oy0, ox0)))
    f.add(
        "rq",
        requant_fields(ctx, requant_of(node), [0, 1, 2, 3] if nsp == 2 else [0, 1, None, 2], abs_bound(ctx, x_name)),
    )
    f.add("mode", mode)
    f.add("count_include_pad", cip)
    for name, val in (
        ("n", nb),
        ("c", nc),
        ("y_h", noy),
        ("y_w", nox),
        ("x_bs", xs[0]),
        ("x_cs", xs[1]),
        ("x_hs", xs[2]),
        ("x_h", xv.shape[2]),
        ("x_w", xv.shape[3]),
        ("y_bs", ys[0]),
        ("y_cs", ys[1]),
        ("y_hs", ys[2]),
        ("kh", kernel[0]),
        ("kw", kernel[1]),
        ("sh", strides[0]),
        ("sw", strides[1]),
        ("dh", dil[0]),
        ("dw", dil[1]),
        ("pad_t", xv.start[2] + pads_begin[0] - oy0 * strides[0]),
        ("pad_l", xv.start[3] + pads_begin[1] - ox0 * strides[1]),
    ):
        f.add(name, val)
    f.add("full_h", full[0])
    f.add("full_w", full[1])
    pads_all = [0] * (2 * nsp) if node.op_type == "GlobalAveragePool" else window_attrs(node, nsp)[2]
    if nsp == 1:
        pads_all = [0, pads_all[0], 0, pads_all[1]]
    f.add("gpad_t", pads_all[0])
    f.add("gpad_b", pads_all[2])
    f.add("gpad_l", pads_all[1])
    f.add("gpad_r", pads_all[3])
    f.add("x_r0", xv.start[2])
    f.add("x_c0", xv.start[3])
    return [
        typed_call(
            ctx, "dt_pool_args_t", "pool", (xt.dtype, g.tensor(yname).dtype), f, f"{node.op_type} {nc}x{noy}x{nox}"
        )
    ]
