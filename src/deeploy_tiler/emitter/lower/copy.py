"""Data movement operators: Transpose, Concat, Slice, Pad (strided copies and fills through
kernels/eltwise.tmpl.h) and Gather (dt_gather in kernels/dt_kernels.c)."""

from __future__ import annotations

from ...errors import UnsupportedOperatorError
from ..views import collapse, split_leading
from .call import Fields, KernelCall, StepContext
from .eltwise import EW_COPY, EW_FILL, eltwise_calls


def lower_transpose(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    xv, yv = ctx.view(node.inputs[0]), ctx.view(node.outputs[0])
    perm = list(node.attr("perm", tuple(reversed(range(xv.rank)))))
    out_start = [s for s, _ in ctx.out_box]
    extents = [n for _, n in ctx.out_box]
    in_coords = [0] * xv.rank
    in_box = [(0, 0)] * xv.rank
    for k, p in enumerate(perm):
        in_coords[p] = out_start[k]
        in_box[p] = ctx.out_box[k]
    xv.require(tuple(in_box), ctx.what)
    yv.require(ctx.out_box, ctx.what)
    a_st = [xv.strides[p] for p in perm]
    dt = g.tensor(node.inputs[0]).dtype
    return eltwise_calls(
        ctx,
        EW_COPY,
        [0, 0, 0, 0],
        (xv.ptr(in_coords), a_st, dt),
        None,
        (yv.ptr(out_start), list(yv.strides), g.tensor(node.outputs[0]).dtype),
        extents,
        None,
        f"transpose perm {tuple(perm)}",
    )


def lower_concat(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    yv = ctx.view(node.outputs[0])
    rank = yv.rank
    axis = int(node.attr("axis")) % rank
    yv.require(ctx.out_box, ctx.what)
    ydt = g.tensor(node.outputs[0]).dtype
    calls: list[KernelCall] = []
    offset = 0
    a0, an = ctx.out_box[axis]
    for name in node.inputs:
        t = g.tensor(name)
        lo, hi = max(a0, offset), min(a0 + an, offset + t.shape[axis])
        if lo < hi:
            in_box = list(ctx.out_box)
            in_box[axis] = (lo - offset, hi - lo)
            out_part = list(ctx.out_box)
            out_part[axis] = (lo, hi - lo)
            xv = ctx.view(name)
            xv.require(tuple(in_box), ctx.what)
            calls += eltwise_calls(
                ctx,
                EW_COPY,
                [0, 0, 0, 0],
                (xv.ptr([s for s, _ in in_box]), list(xv.strides), t.dtype),
                None,
                (yv.ptr([s for s, _ in out_part]), list(yv.strides), ydt),
                [n for _, n in out_part],
                None,
                f"concat part of {name}",
            )
        offset += t.shape[axis]
    return calls


def lower_slice(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    xv, yv = ctx.view(node.inputs[0]), ctx.view(node.outputs[0])
    xt = g.tensor(node.inputs[0])
    starts, ends = node.attr("starts"), node.attr("ends")
    axes = node.attr("axes", tuple(range(len(starts))))
    steps = node.attr("steps", (1,) * len(starts))
    first = [0] * xv.rank
    step = [1] * xv.rank
    for s, e, a, st in zip(starts, ends, axes, steps, strict=True):
        a = int(a) % xv.rank
        rng = range(*slice(int(s), int(e), int(st)).indices(xt.shape[a]))
        first[a] = rng.start
        step[a] = int(st)
    out_start = [s for s, _ in ctx.out_box]
    in_coords = [first[d] + out_start[d] * step[d] for d in range(xv.rank)]
    in_box = []
    for d, (s, n) in enumerate(ctx.out_box):
        c0, c1 = first[d] + s * step[d], first[d] + (s + n - 1) * step[d]
        in_box.append((min(c0, c1), abs(c1 - c0) + 1) if n else (c0, 0))
    xv.require(tuple(in_box), ctx.what)
    yv.require(ctx.out_box, ctx.what)
    a_st = [xv.strides[d] * step[d] for d in range(xv.rank)]
    return eltwise_calls(
        ctx,
        EW_COPY,
        [0, 0, 0, 0],
        (xv.ptr(in_coords), a_st, xt.dtype),
        None,
        (yv.ptr(out_start), list(yv.strides), g.tensor(node.outputs[0]).dtype),
        [n for _, n in ctx.out_box],
        None,
        "slice",
    )


def lower_pad(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    mode = str(node.attr("mode", "constant"))
    if mode != "constant":
        raise UnsupportedOperatorError({f"Pad mode={mode}": [node.name]})
    xv, yv = ctx.view(node.inputs[0]), ctx.view(node.outputs[0])
    xt = g.tensor(node.inputs[0])
    pads = list(node.attr("pads"))
    value = int(node.attr("constant_value", node.attr("value", 0)))
    rank = xv.rank
    out_start = [s for s, _ in ctx.out_box]
    extents = [n for _, n in ctx.out_box]
    ydt = g.tensor(node.outputs[0]).dtype
    yv.require(ctx.out_box, ctx.what)
    calls = eltwise_calls(
        ctx,
        EW_FILL,
        [value, 0, 0, 0],
        (yv.ptr(out_start), [0] * rank, ydt),
        None,
        (yv.ptr(out_start), list(yv.strides), ydt),
        extents,
        None,
        "pad fill",
    )
    inner = []
    for d in range(rank):
        lo = max(out_start[d], pads[d])
        hi = min(out_start[d] + extents[d], pads[d] + xt.shape[d])
        if lo >= hi:
            return calls
        inner.append((lo, hi - lo))
    in_box = tuple((s - pads[d], n) for d, (s, n) in enumerate(inner))
    xv.require(in_box, ctx.what)
    calls += eltwise_calls(
        ctx,
        EW_COPY,
        [0, 0, 0, 0],
        (xv.ptr([s for s, _ in in_box]), list(xv.strides), xt.dtype),
        None,
        (yv.ptr([s for s, _ in inner]), list(yv.strides), ydt),
        [n for _, n in inner],
        None,
        "pad interior",
    )
    return calls


def lower_gather(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    xv, iv, yv = ctx.view(node.inputs[0]), ctx.view(node.inputs[1]), ctx.view(node.outputs[0])
    xt, it = g.tensor(node.inputs[0]), g.tensor(node.inputs[1])
    axis = int(node.attr("axis", 0)) % xv.rank
    ni = len(it.shape)
    out_start = [s for s, _ in ctx.out_box]
    outer_b = ctx.out_box[:axis]
    idx_b = ctx.out_box[axis : axis + ni]
    inner_b = ctx.out_box[axis + ni :]
    yv.require(ctx.out_box, ctx.what)
    iv.require(tuple(idx_b), ctx.what)
    if it.data is not None:
        sub = it.data[tuple(slice(s, s + n) for s, n in idx_b)].ravel()
        wrapped = [int(v) % xt.shape[axis] for v in sub]
        if wrapped:
            xv.require((*outer_b, (min(wrapped), max(wrapped) - min(wrapped) + 1), *inner_b), ctx.what)
    else:  # runtime indices: the buffer must hold the whole gathered axis
        xv.require((*outer_b, (0, xt.shape[axis]), *inner_b), ctx.what)
    xs, ys = list(xv.strides), list(yv.strides)
    # three groups of dimensions, each collapsed and split into kernel calls beyond one dimension
    oe, os_ = collapse([n for _, n in outer_b] or [1], [xs[:axis] or [0], ys[:axis] or [0]])
    ie, is_ = collapse([n for _, n in idx_b] or [1], [list(iv.strides) or [0], ys[axis : axis + ni] or [0]])
    ne, ns = collapse([n for _, n in inner_b] or [1], [xs[axis + 1 :] or [0], ys[axis + ni :] or [0]])
    ke_o, ks_o, offs_o = split_leading(oe, os_, 1)
    ke_i, ks_i, offs_i = split_leading(ie, is_, 1)
    ke_n, ks_n, offs_n = split_leading(ne, ns, 1)
    x_coords = [s for s, _ in outer_b] + [xv.start[axis]] + [s for s, _ in inner_b]
    calls = []
    for oo in offs_o:
        for io in offs_i:
            for no in offs_n:
                f = Fields()
                f.add("x", xv.ptr(x_coords) + (oo[0] + no[0]) * xv.itemsize)
                f.add("idx", iv.ptr([s for s, _ in idx_b]) + io[0] * iv.itemsize)
                f.add("y", yv.ptr(out_start) + (oo[1] + io[1] + no[1]) * yv.itemsize)
                for name, val in (
                    ("elem_bytes", xt.dtype.itemsize),
                    ("idx_bytes", it.dtype.itemsize),
                    ("outer", ke_o[0]),
                    ("nidx", ke_i[0]),
                    ("inner", ke_n[0]),
                    ("x_so", ks_o[0][0]),
                    ("x_sa", xs[axis]),
                    ("x_si", ks_n[0][0]),
                    ("y_so", ks_o[1][0]),
                    ("y_sa", ks_i[1][0]),
                    ("y_si", ks_n[1][0]),
                    ("idx_s", ks_i[0][0]),
                    ("axis_len", xt.shape[axis]),
                    ("axis_start", xv.start[axis]),
                ):
                    f.add(name, val)
                calls.append(KernelCall("dt_gather_args_t", "dt_gather", None, (), tuple(f.items), "gather"))
    return calls
