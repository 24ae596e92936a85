"""Conv (1-D / 2-D, groups, depthwise, bias, requant) -> kernels/conv2d.tmpl.h."""

from __future__ import annotations

from ...errors import EmitError, UnsupportedOperatorError
from .call import Fields, KernelCall, StepContext, is_float_node, typed_call
from .requant import abs_bound, check_int32, requant_fields, requant_of
from .window import check_window_rows, to_2d, window_attrs


def lower_conv(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    x_name, w_name = node.inputs[0], node.inputs[1]
    n_main = len(node.inputs) - (2 if node.requant is not None else 0)
    bias_name = node.inputs[2] if n_main > 2 and node.inputs[2] else None
    xt, wt = g.tensor(x_name), g.tensor(w_name)
    yname = node.outputs[0]
    nsp = len(xt.shape) - 2
    if nsp not in (1, 2):
        raise UnsupportedOperatorError({f"Conv{nsp}D": [node.name]})
    kernel = list(wt.shape[2:])
    strides, dil, pads = window_attrs(node, nsp)
    pads_begin = pads[:nsp]
    xv, wv, yv = ctx.view(x_name), ctx.view(w_name), ctx.view(yname)
    out_box = ctx.out_box
    full = list(xt.shape[2:])
    if nsp == 1:
        xv, wv, yv = xv.with_unit_dim(2), wv.with_unit_dim(2), yv.with_unit_dim(2)
        out_box = to_2d(out_box)
        kernel, strides, dil, pads_begin, full = [1, *kernel], [1, *strides], [1, *dil], [0, *pads_begin], [1, *full]
    group = int(node.attr("group", 1))
    cout, cin_g = wt.shape[0], wt.shape[1]
    cout_g = cout // group
    (b0, nb), (oc0, noc), (oy0, noy), (ox0, nox) = out_box
    # input channels the tile needs: those of the groups its output channels belong to
    g_lo, g_hi = oc0 // cout_g, (oc0 + noc - 1) // cout_g
    need_c = (g_lo * cin_g, (g_hi - g_lo + 1) * cin_g)
    xv.require(((b0, nb), need_c, (xv.start[2], xv.shape[2]), (xv.start[3], xv.shape[3])), ctx.what)
    check_window_rows(ctx, xv, out_box, kernel, strides, dil, pads_begin, full)
    wv.require(((oc0, noc), (0, cin_g), (0, kernel[0]), (0, kernel[1])), ctx.what)
    yv.require(out_box, ctx.what)
    xs, ys = xv.strides, yv.strides
    f = Fields()
    f.add("x", xv.ptr((b0, xv.start[1], xv.start[2], xv.start[3])))
    f.add("w", wv.ptr((oc0, 0, 0, 0)))
    if bias_name:
        if not is_float_node(ctx):
            check_int32(ctx, bias_name, "bias")
        f.add("bias", ctx.view(bias_name).ptr((oc0,)))
    else:
        f.add("bias", None)
    f.add("y", yv.ptr((b0, oc0, oy0, ox0)))
    rq = requant_of(node)
    # the requant index of the kernel is (b, oc, oy, ox) = output dims (0, 1, 2, 3) (1-D: no dim 2)
    dims4: list[int | None] = [0, 1, 2, 3] if nsp == 2 else [0, 1, None, 2]
    bound = cin_g * kernel[0] * kernel[1] * abs_bound(ctx, x_name) * abs_bound(ctx, w_name) + (
        abs_bound(ctx, bias_name) if bias_name else 0
    )
    f.add("rq", requant_fields(ctx, rq, dims4, bound))
    f.add("n", nb)
    f.add("y_c", noc)
    f.add("y_h", noy)
    f.add("y_w", nox)
    f.add("x_bs", xs[0])
    f.add("x_cs", xs[1])
    f.add("x_hs", xs[2])
    f.add("x_h", xv.shape[2])
    f.add("x_w", xv.shape[3])
    f.add("x_c0", xv.start[1])
    f.add("y_bs", ys[0])
    f.add("y_cs", ys[1])
    f.add("y_hs", ys[2])
    f.add("oc0", oc0)
    f.add("cout_g", cout_g)
    f.add("cin_g", cin_g)
    f.add("kh", kernel[0])
    f.add("kw", kernel[1])
    f.add("sh", strides[0])
    f.add("sw", strides[1])
    f.add("dh", dil[0])
    f.add("dw", dil[1])
    f.add("pad_t", xv.start[2] + pads_begin[0] - oy0 * strides[0])
    f.add("pad_l", xv.start[3] + pads_begin[1] - ox0 * strides[1])
    f.add("w_os", wv.strides[0])
    if xs[3] != 1 or ys[3] != 1:
        raise EmitError(f"{ctx.what}: conv rows must be contiguous")
    out_dt = g.tensor(yname).dtype
    return [
        typed_call(
            ctx,
            "dt_conv2d_args_t",
            "conv2d",
            (xt.dtype, wt.dtype, out_dt),
            f,
            f"conv {noc}x{noy}x{nox} from channel {oc0}, rows {oy0}, cols {ox0}",
        )
    ]
