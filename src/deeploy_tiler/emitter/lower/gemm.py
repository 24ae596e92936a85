"""Gemm (transA / transB, broadcast bias) and MatMul (batched, broadcast batch dims, vectors)
-> kernels/gemm.tmpl.h."""

from __future__ import annotations

from ...errors import UnsupportedOperatorError
from ..views import Box, Ptr, View, broadcast_operand, collapse, split_leading
from .call import Fields, KernelCall, StepContext, is_float_node, typed_call
from .requant import abs_bound, check_int32, requant_fields, requant_of


def lower_gemm(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    a_name, b_name = node.inputs[0], node.inputs[1]
    rq = requant_of(node)
    n_main = len(node.inputs) - (2 if rq is not None else 0)
    c_name = node.inputs[2] if n_main > 2 and node.inputs[2] else None
    ta, tb = int(node.attr("transA", 0)), int(node.attr("transB", 0))
    if node.attr("alpha", 1) != 1 or (c_name and node.attr("beta", 1) != 1):
        raise UnsupportedOperatorError({"Gemm alpha/beta != 1": [node.name]})
    av, bv, yv = ctx.view(a_name), ctx.view(b_name), ctx.view(node.outputs[0])
    (m0, nm), (n0, nn) = ctx.out_box
    k = g.tensor(a_name).shape[0 if ta else 1]
    a_box: Box = ((0, k), (m0, nm)) if ta else ((m0, nm), (0, k))
    b_box: Box = ((n0, nn), (0, k)) if tb else ((0, k), (n0, nn))
    av.require(a_box, ctx.what)
    bv.require(b_box, ctx.what)
    yv.require(ctx.out_box, ctx.what)
    f = Fields()
    f.add("a", av.ptr((0, m0) if ta else (m0, 0)))
    f.add("b", bv.ptr((n0, 0) if tb else (0, n0)))
    if c_name:
        if not is_float_node(ctx):
            check_int32(ctx, c_name, "bias")
        cptr, cst = broadcast_operand(ctx.view(c_name), (m0, n0))
        f.add("c", cptr)
    else:
        cst = [0, 0]
        f.add("c", None)
    f.add("y", yv.ptr((m0, n0)))
    bound = k * abs_bound(ctx, a_name) * abs_bound(ctx, b_name) + (abs_bound(ctx, c_name) if c_name else 0)
    f.add("rq", requant_fields(ctx, rq, [None, None, 0, 1], bound))
    a_s, b_s, y_s = av.strides, bv.strides, yv.strides
    for name, val in (
        ("nb1", 1),
        ("nb2", 1),
        ("m", nm),
        ("n", nn),
        ("k", k),
        ("a_sb1", 0),
        ("a_sb2", 0),
        ("a_sm", a_s[1] if ta else a_s[0]),
        ("a_sk", a_s[0] if ta else a_s[1]),
        ("b_sb1", 0),
        ("b_sb2", 0),
        ("b_sk", b_s[1] if tb else b_s[0]),
        ("b_sn", b_s[0] if tb else b_s[1]),
        ("c_sm", cst[0]),
        ("c_sn", cst[1]),
        ("y_sb1", 0),
        ("y_sb2", 0),
        ("y_sm", y_s[0]),
        ("y_sn", y_s[1]),
    ):
        f.add(name, val)
    types = (g.tensor(a_name).dtype, g.tensor(b_name).dtype, g.tensor(node.outputs[0]).dtype)
    return [typed_call(ctx, "dt_gemm_args_t", "gemm", types, f, f"gemm {nm}x{nn}x{k} at ({m0}, {n0})")]


def lower_matmul(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    a_name, b_name, y_name = node.inputs[0], node.inputs[1], node.outputs[0]
    av, bv, yv = ctx.view(a_name), ctx.view(b_name), ctx.view(y_name)
    out_box = ctx.out_box
    if av.rank == 1 and bv.rank == 1:
        raise UnsupportedOperatorError({"MatMul of two vectors": [node.name]})
    if av.rank == 1:  # [K] @ [..., K, N] -> [..., N]: as [1, K] with a unit M dimension in the output
        av = av.with_unit_dim(0)
        yv = yv.with_unit_dim(yv.rank - 1)
        out_box = (*out_box[:-1], (0, 1), out_box[-1])
    if bv.rank == 1:
        bv = bv.with_unit_dim(1)
        yv = yv.with_unit_dim(yv.rank)
        out_box = (*out_box, (0, 1))
    k = av.full[-1]
    rank = len(out_box)
    batch = rank - 2
    (m0, nm), (n0, nn) = out_box[-2], out_box[-1]
    bstart = [s for s, _ in out_box[:batch]]
    bext = [n for _, n in out_box[:batch]]

    def operand(v: View, rows: tuple[int, int], cols: tuple[int, int]) -> tuple[Ptr, list[int], int, int]:
        lead = batch - (v.rank - 2)
        coords = []
        bstr = [0] * batch
        vs = v.strides
        for d in range(v.rank - 2):
            kk = d + lead
            if v.full[d] == 1:
                coords.append(0)
            else:
                coords.append(bstart[kk])
                bstr[kk] = vs[d]
        box = (*((c, 1 if v.full[d] == 1 else bext[d + lead]) for d, c in enumerate(coords)), rows, cols)
        v.require(box, ctx.what)
        return v.ptr((*coords, rows[0], cols[0])), bstr, vs[-2], vs[-1]

    aptr, a_b, a_sm, a_sk = operand(av, (m0, nm), (0, k))
    bptr, b_b, b_sk, b_sn = operand(bv, (0, k), (n0, nn))
    yv.require(out_box, ctx.what)
    y_b = list(yv.strides[:batch])
    # batch dimensions -> at most two kernel batch dims (+ separate calls for the rest)
    ext, sts = collapse(bext, [a_b, b_b, y_b]) if batch else ([1], [[0], [0], [0]])
    ke, ks, offsets = split_leading(ext, sts, 2)
    rq = requant_of(node)
    calls = []
    if rq is not None and batch > 0:
        # requant operands vary along (batch..., m, n): only per-(m, n) or scalar layouts are kernel-indexed
        for t in (rq.mul, rq.add):
            v = ctx.view(t)
            if any(d != 1 for d in v.full[: max(0, v.rank - 2)]):
                raise UnsupportedOperatorError({"MatMul requant varying over batch": [node.name]})
    types = (g.tensor(a_name).dtype, g.tensor(b_name).dtype, g.tensor(y_name).dtype)
    out_start = [s for s, _ in out_box]
    for off in offsets:
        f = Fields()
        f.add("a", aptr + off[0] * av.itemsize)
        f.add("b", bptr + off[1] * bv.itemsize)
        f.add("c", None)
        f.add("y", yv.ptr(out_start) + off[2] * yv.itemsize)
        if rq is not None:
            sub = StepContext(ctx.graph, ctx.node, tuple(out_box[-2:]), ctx.views, ctx.what)
            f.add(
                "rq", requant_fields(sub, rq, [None, None, 0, 1], k * abs_bound(ctx, a_name) * abs_bound(ctx, b_name))
            )
        else:
            f.add("rq", None)
        for name, val in (
            ("nb1", ke[0]),
            ("nb2", ke[1]),
            ("m", nm),
            ("n", nn),
            ("k", k),
            ("a_sb1", ks[0][0]),
            ("a_sb2", ks[0][1]),
            ("a_sm", a_sm),
            ("a_sk", a_sk),
            ("b_sb1", ks[1][0]),
            ("b_sb2", ks[1][1]),
            ("b_sk", b_sk),
            ("b_sn", b_sn),
            ("c_sm", 0),
            ("c_sn", 0),
            ("y_sb1", ks[2][0]),
            ("y_sb2", ks[2][1]),
            ("y_sm", yv.strides[-2]),
            ("y_sn", yv.strides[-1]),
        ):
            f.add(name, val)
        calls.append(
            typed_call(
                ctx, "dt_gemm_args_t", "gemm", types, f, f"matmul {'x'.join(map(str, ke))} batches of {nm}x{nn}x{k}"
            )
        )
    return calls
