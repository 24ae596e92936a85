"""Lowering of one compute step (one output tile of one node) to kernel calls.

Each operator maps the step's views (where every operand of the tile lives) to the argument block of
a portable C kernel (emit/kernels/dt_kernels.h): pointers, extents, strides, per-tile padding and the
requantization epilogue. Checks that the buffers hold what the tile needs raise `EmitError`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..errors import EmitError, UnsupportedOperatorError
from ..ir import DType, Graph, Node
from .views import Box, Ptr, View, broadcast_operand, collapse, split_leading

SHORT = {
    DType.INT8: "i8",
    DType.UINT8: "u8",
    DType.INT16: "i16",
    DType.UINT16: "u16",
    DType.INT32: "i32",
    DType.UINT32: "u32",
    DType.INT64: "i64",
}


@dataclass(frozen=True)
class RequantArgs:
    """A dt_requant_t: mul / add pointers, their strides over the kernel's 4 output indices."""

    mul: Ptr
    add: Ptr
    mul_s: tuple[int, ...]
    add_s: tuple[int, ...]
    shift: int
    lo: int
    hi: int
    wide: int = 1  # 0 when |acc * mul + add + div/2| provably fits int32 (the kernel then skips int64)


FieldValue = int | Ptr | tuple[int, ...] | RequantArgs | None  # None: a NULL pointer / no requant


@dataclass(frozen=True)
class KernelCall:
    """One kernel invocation: `fn(&args)` where args is a `args_type` with `fields`."""

    args_type: str
    fn: str
    template: str | None  # template file stem to instantiate (None: a plain library function)
    types: tuple[DType, ...]
    fields: tuple[tuple[str, FieldValue], ...]
    comment: str = ""


def render_field(v: FieldValue) -> str:
    """C initializer text of one field value."""
    if v is None:
        return "0"
    if isinstance(v, Ptr):
        return v.c()
    if isinstance(v, RequantArgs):
        return (
            "{.mul = "
            + v.mul.c()
            + ", .add = "
            + v.add.c()
            + ", .mul_s = {"
            + ", ".join(map(str, v.mul_s))
            + "}, .add_s = {"
            + ", ".join(map(str, v.add_s))
            + f"}}, .shift = {v.shift}, .lo = {v.lo}, "
            f".hi = {v.hi}, .wide = {v.wide}}}"
        )
    if isinstance(v, tuple):
        return "{" + ", ".join(str(int(x)) for x in v) + "}"
    return str(int(v))


@dataclass(frozen=True)
class StepContext:
    graph: Graph
    node: Node
    out_box: Box
    views: Mapping[str, View]  # tensor name -> view for this step
    what: str  # for messages

    def view(self, tensor: str) -> View:
        try:
            return self.views[tensor]
        except KeyError:
            raise EmitError(f"{self.what}: no buffer or home for tensor {tensor}") from None


@dataclass
class _Fields:
    items: list[tuple[str, FieldValue]] = field(default_factory=list)

    def add(self, name: str, value: FieldValue | Sequence[int]) -> None:
        if isinstance(value, list):
            value = tuple(int(v) for v in value)
        self.items.append((name, value))  # type: ignore[arg-type]


def instance_name(template: str, types: Sequence[DType]) -> str:
    return "dt_" + template + "_" + "_".join(SHORT[t] for t in types)


def _call(args_type: str, template: str, types: Sequence[DType], f: _Fields, comment: str = "") -> KernelCall:
    return KernelCall(args_type, instance_name(template, types), template, tuple(types), tuple(f.items), comment)


# ---- requantization ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RequantSpec:
    mul: str
    add: str
    div: int
    n_levels: int
    signed: bool

    @property
    def shift(self) -> int:
        if self.div < 1 or self.div & (self.div - 1):
            raise EmitError(f"RequantShift div {self.div} is not a power of two")
        return self.div.bit_length() - 1

    @property
    def lo_hi(self) -> tuple[int, int]:
        n = self.n_levels
        return (-(n // 2), n // 2 - 1) if self.signed else (0, n - 1)


def requant_of(node: Node) -> RequantSpec | None:
    if node.requant is not None:
        r = node.requant
        return RequantSpec(r.mul, r.add, r.div, r.n_levels, r.signed)
    if node.op_type == "RequantShift":
        return RequantSpec(
            node.inputs[1],
            node.inputs[2],
            int(node.attr("div")),
            int(node.attr("n_levels_out")),
            bool(node.attr("signed", 1)),
        )
    return None


def abs_bound(ctx: StepContext, tensor: str) -> int:
    """Largest magnitude `tensor` can hold: from a constant's data, else from its dtype."""
    t = ctx.graph.tensor(tensor)
    if t.data is not None:
        return int(abs(t.data).max()) if t.data.size else 0
    return max(abs(t.dtype.min), abs(t.dtype.max))


def _wide(ctx: StepContext, rq: RequantSpec, acc_bound: int | None) -> int:
    """1 unless acc * mul + add + div/2 provably stays inside int32 for every accumulator value."""
    if acc_bound is None:
        return 1
    worst = acc_bound * abs_bound(ctx, rq.mul) + abs_bound(ctx, rq.add) + rq.div // 2
    return 0 if worst < 2**31 - 1 else 1


def _requant_fields(
    ctx: StepContext, rq: RequantSpec | None, dims4: Sequence[int | None], acc_bound: int | None = None
) -> RequantArgs | None:
    """The dt_requant_t of a call; dims4[k] = output dimension behind kernel index k (None: none)."""
    if rq is None:
        return None
    out_rank = len(ctx.out_box)
    out_start = [s for s, _ in ctx.out_box]
    ptrs = []
    strides_all = []
    for t in (rq.mul, rq.add):
        _check_int32(ctx, t, "requant operand")
        v = ctx.view(t)
        ptr, st = broadcast_operand(v, out_start)
        ptrs.append(ptr)
        strides_all.append(tuple(st[d] if d is not None and d < out_rank else 0 for d in dims4))
    lo, hi = rq.lo_hi
    return RequantArgs(ptrs[0], ptrs[1], strides_all[0], strides_all[1], rq.shift, lo, hi, _wide(ctx, rq, acc_bound))


def _check_int32(ctx: StepContext, tensor: str, role: str) -> None:
    dt = ctx.graph.tensor(tensor).dtype
    if dt is not DType.INT32:
        raise EmitError(f"{ctx.what}: {role} {tensor} is {dt.value}; the kernels take int32")


# ---- convolution and pooling --------------------------------------------------------------------
def _window_attrs(node: Node, nsp: int) -> tuple[list[int], list[int], list[int]]:
    """strides, dilations, pads (begins then ends). ceil_mode needs nothing more: windows reaching past
    the input read the implicit padding, as the reference does."""
    strides = list(node.attr("strides", (1,) * nsp))
    dil = list(node.attr("dilations", (1,) * nsp))
    pads = list(node.attr("pads", (0,) * (2 * nsp)))
    auto_pad = str(node.attr("auto_pad", "NOTSET"))
    if auto_pad == "VALID":
        pads = [0] * (2 * nsp)
    elif auto_pad not in ("NOTSET", ""):
        raise UnsupportedOperatorError({f"{node.op_type} auto_pad={auto_pad}": [node.name]})
    return strides, dil, pads


def _to2d(box: Box) -> Box:
    return (*box[:2], (0, 1), *box[2:])


def _check_rows(
    ctx: StepContext,
    xv: View,
    out_box: Box,
    k: Sequence[int],
    s: Sequence[int],
    d: Sequence[int],
    pads_begin: Sequence[int],
    full: Sequence[int],
) -> None:
    for i in range(2):
        o0, on = out_box[2 + i]
        if on == 0:
            continue
        first = o0 * s[i] - pads_begin[i]
        last = (o0 + on - 1) * s[i] - pads_begin[i] + (k[i] - 1) * d[i]
        lo, hi = max(first, 0), min(last, full[i] - 1)
        if lo > hi:
            continue
        h0, hn = xv.start[2 + i], xv.shape[2 + i]
        if lo < h0 or hi >= h0 + hn:
            raise EmitError(
                f"{ctx.what}: input {xv.tensor} {xv.where} holds {'rows' if i == 0 else 'columns'} "
                f"[{h0}, {h0 + hn}) but the tile's windows need [{lo}, {hi + 1})"
            )


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
    strides, dil, pads = _window_attrs(node, nsp)
    pads_begin = pads[:nsp]
    xv, wv, yv = ctx.view(x_name), ctx.view(w_name), ctx.view(yname)
    out_box = ctx.out_box
    full = list(xt.shape[2:])
    if nsp == 1:
        xv, wv, yv = xv.with_unit_dim(2), wv.with_unit_dim(2), yv.with_unit_dim(2)
        out_box = _to2d(out_box)
        kernel, strides, dil, pads_begin, full = [1, *kernel], [1, *strides], [1, *dil], [0, *pads_begin], [1, *full]
    group = int(node.attr("group", 1))
    cout, cin_g = wt.shape[0], wt.shape[1]
    cout_g = cout // group
    (b0, nb), (oc0, noc), (oy0, noy), (ox0, nox) = out_box
    # input channels the tile needs: those of the groups its output channels belong to
    g_lo, g_hi = oc0 // cout_g, (oc0 + noc - 1) // cout_g
    need_c = (g_lo * cin_g, (g_hi - g_lo + 1) * cin_g)
    xv.require(((b0, nb), need_c, (xv.start[2], xv.shape[2]), (xv.start[3], xv.shape[3])), ctx.what)
    _check_rows(ctx, xv, out_box, kernel, strides, dil, pads_begin, full)
    wv.require(((oc0, noc), (0, cin_g), (0, kernel[0]), (0, kernel[1])), ctx.what)
    yv.require(out_box, ctx.what)
    xs, ys = xv.strides, yv.strides
    f = _Fields()
    f.add("x", xv.ptr((b0, xv.start[1], xv.start[2], xv.start[3])))
    f.add("w", wv.ptr((oc0, 0, 0, 0)))
    if bias_name:
        _check_int32(ctx, bias_name, "bias")
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
    f.add("rq", _requant_fields(ctx, rq, dims4, bound))
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
        _call(
            "dt_conv2d_args_t",
            "conv2d",
            (xt.dtype, wt.dtype, out_dt),
            f,
            f"conv {noc}x{noy}x{nox} from channel {oc0}, rows {oy0}, cols {ox0}",
        )
    ]


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
        strides, dil, pads = _window_attrs(node, nsp)
        pads_begin = pads[:nsp]
        mode = 0 if node.op_type == "MaxPool" else 1
        cip = int(node.attr("count_include_pad", 0))
    xv, yv = ctx.view(x_name), ctx.view(yname)
    out_box = ctx.out_box
    full = list(xt.shape[2:])
    if nsp == 1:
        xv, yv = xv.with_unit_dim(2), yv.with_unit_dim(2)
        out_box = _to2d(out_box)
        kernel, strides, dil, pads_begin, full = [1, *kernel], [1, *strides], [1, *dil], [0, *pads_begin], [1, *full]
    elif nsp != 2:
        raise UnsupportedOperatorError({f"{node.op_type}{nsp}D": [node.name]})
    (b0, nb), (c0, nc), (oy0, noy), (ox0, nox) = out_box
    xv.require(((b0, nb), (c0, nc), (xv.start[2], xv.shape[2]), (xv.start[3], xv.shape[3])), ctx.what)
    _check_rows(ctx, xv, out_box, kernel, strides, dil, pads_begin, full)
    xs, ys = xv.strides, yv.strides
    f = _Fields()
    f.add("x", xv.ptr((b0, c0, xv.start[2], xv.start[3])))
    f.add("y", yv.ptr((b0, c0, oy0, ox0)))
    f.add(
        "rq",
        _requant_fields(ctx, requant_of(node), [0, 1, 2, 3] if nsp == 2 else [0, 1, None, 2], abs_bound(ctx, x_name)),
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
    pads_all = [0] * (2 * nsp) if node.op_type == "GlobalAveragePool" else _window_attrs(node, nsp)[2]
    if nsp == 1:
        pads_all = [0, pads_all[0], 0, pads_all[1]]
    f.add("gpad_t", pads_all[0])
    f.add("gpad_b", pads_all[2])
    f.add("gpad_l", pads_all[1])
    f.add("gpad_r", pads_all[3])
    f.add("x_r0", xv.start[2])
    f.add("x_c0", xv.start[3])
    return [_call("dt_pool_args_t", "pool", (xt.dtype, g.tensor(yname).dtype), f, f"{node.op_type} {nc}x{noy}x{nox}")]


# ---- GEMM / MatMul -------------------------------------------------------------------------------
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
    f = _Fields()
    f.add("a", av.ptr((0, m0) if ta else (m0, 0)))
    f.add("b", bv.ptr((n0, 0) if tb else (0, n0)))
    if c_name:
        _check_int32(ctx, c_name, "bias")
        cptr, cst = broadcast_operand(ctx.view(c_name), (m0, n0))
        f.add("c", cptr)
    else:
        cst = [0, 0]
        f.add("c", None)
    f.add("y", yv.ptr((m0, n0)))
    bound = k * abs_bound(ctx, a_name) * abs_bound(ctx, b_name) + (abs_bound(ctx, c_name) if c_name else 0)
    f.add("rq", _requant_fields(ctx, rq, [None, None, 0, 1], bound))
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
    return [_call("dt_gemm_args_t", "gemm", types, f, f"gemm {nm}x{nn}x{k} at ({m0}, {n0})")]


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
        f = _Fields()
        f.add("a", aptr + off[0] * av.itemsize)
        f.add("b", bptr + off[1] * bv.itemsize)
        f.add("c", None)
        f.add("y", yv.ptr(out_start) + off[2] * yv.itemsize)
        if rq is not None:
            sub = StepContext(ctx.graph, ctx.node, tuple(out_box[-2:]), ctx.views, ctx.what)
            f.add(
                "rq", _requant_fields(sub, rq, [None, None, 0, 1], k * abs_bound(ctx, a_name) * abs_bound(ctx, b_name))
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
            _call("dt_gemm_args_t", "gemm", types, f, f"matmul {'x'.join(map(str, ke))} batches of {nm}x{nn}x{k}")
        )
    return calls


# ---- elementwise family ------------------------------------------------------------------------
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
}


def _ew_params(node: Node) -> list[int]:
    op = node.op_type
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
    for off in offsets:
        f = _Fields()
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
                    _wide(ctx, rq, acc_bound),
                ),
            )
        else:
            f.add("rq", None)
        f.add("op", op)
        f.add("p", list(params))
        f.add("d", ke)
        f.add("a_s", ks[0])
        f.add("b_s", ks[1])
        f.add("y_s", ks[2])
        calls.append(_call("dt_eltwise_args_t", "eltwise", (a[2], bdt, y[2]), f, comment))
    return calls


def lower_eltwise(ctx: StepContext) -> list[KernelCall]:
    node, g = ctx.node, ctx.graph
    op = EW_OPS[node.op_type]
    binary = node.op_type in ("Add", "Sub", "Mul")
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
    elif node.op_type in ("RequantShift", "Identity", "Relu", "Clip"):
        bound = ba
    return eltwise_calls(
        ctx,
        op,
        _ew_params(node),
        a,
        b,
        y,
        extents,
        requant_of(node),
        f"{node.op_type} over {'x'.join(map(str, extents))}",
        bound,
    )


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
        EW_OPS["Identity"],
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
                EW_OPS["Identity"],
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
        EW_OPS["Identity"],
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
        6,
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
        3,
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
                f = _Fields()
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


# ---- row-wise integer operators and reductions ---------------------------------------------------
ROW_OPS = {"iSoftmax": 0, "ITAMax": 1, "iRMSNorm": 2, "iLayerNorm": 3}


def _row_params(node: Node) -> list[int]:
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
        f = _Fields()
        f.add("x", xv.ptr(out_start) + off[0] * xv.itemsize)
        f.add("y", yv.ptr(out_start) + off[1] * yv.itemsize)
        f.add("w", wptr)
        f.add("bias", bptr)
        f.add("w_bytes", wb)
        f.add("bias_bytes", bb)
        f.add("op", ROW_OPS[node.op_type])
        f.add("p", _row_params(node))
        f.add("rows", ke[0])
        f.add("len", length)
        f.add("x_sr", ks[0][0])
        f.add("y_sr", ks[1][0])
        calls.append(_call("dt_rowwise_args_t", "rowwise", types, f, f"{node.op_type} {ke[0]} rows of {length}"))
    return calls


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
            f = _Fields()
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
                _call(
                    "dt_reduce_args_t",
                    "reduce_mean",
                    (xt.dtype, g.tensor(node.outputs[0]).dtype),
                    f,
                    f"{node.op_type} over {le[0]}",
                )
            )
    return calls


LOWERINGS = {
    "Conv": lower_conv,
    "MaxPool": lower_pool,
    "AveragePool": lower_pool,
    "GlobalAveragePool": lower_pool,
    "Gemm": lower_gemm,
    "MatMul": lower_matmul,
    "Add": lower_eltwise,
    "Sub": lower_eltwise,
    "Mul": lower_eltwise,
    "RequantShift": lower_eltwise,
    "Relu": lower_eltwise,
    "Clip": lower_eltwise,
    "iHardswish": lower_eltwise,
    "iGELU": lower_eltwise,
    "TrueIntegerDiv": lower_eltwise,
    "Transpose": lower_transpose,
    "Concat": lower_concat,
    "Slice": lower_slice,
    "Pad": lower_pad,
    "Gather": lower_gather,
    "iSoftmax": lower_rowwise,
    "ITAMax": lower_rowwise,
    "iRMSNorm": lower_rowwise,
    "iLayerNorm": lower_rowwise,
    "IntegerMean": lower_reduce,
    "ReduceMean": lower_reduce,
}


def lower_step(ctx: StepContext) -> list[KernelCall]:
    fn = LOWERINGS.get(ctx.node.op_type)
    if fn is None:
        raise UnsupportedOperatorError({ctx.node.op_type: [ctx.node.name]})
    return fn(ctx)
