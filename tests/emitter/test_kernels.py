"""Kernel unit tests: every C kernel, called exactly as the emitter calls it (through the lowering of
one compute step), on random shapes and random output tiles (border and halo tiles included), in
buffers that hold a random superset of what the tile needs, against the reference interpreter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deeploy_tiler.emitter.lower import StepContext, lower_step
from deeploy_tiler.emitter.views import Ptr, View
from deeploy_tiler.ir import DType, Graph, Node, Requant, Tensor, TensorKind
from deeploy_tiler.reference import run_node

from .kernel_driver import Driver

Box = tuple[tuple[int, int], ...]
SETTINGS = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
NP = {DType.INT8: np.int8, DType.UINT8: np.uint8, DType.INT16: np.int16, DType.INT32: np.int32}
RNG_MAX = {DType.INT8: (-128, 127), DType.UINT8: (0, 255), DType.INT16: (-2000, 2000), DType.INT32: (-20000, 20000)}


# ---- graph building ---------------------------------------------------------------------------------
class G:
    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.tensors: dict[str, Tensor] = {}
        self.values: dict[str, np.ndarray[Any, Any]] = {}
        self.inputs: list[str] = []

    def act(self, name: str, shape: tuple[int, ...], dt: DType, lo: int | None = None, hi: int | None = None) -> str:
        a, b = RNG_MAX[dt]
        v = self.rng.integers(a if lo is None else lo, (b if hi is None else hi) + 1, size=shape).astype(np.int64)
        self.tensors[name] = Tensor(name, shape, dt, TensorKind.INPUT)
        self.values[name] = v
        self.inputs.append(name)
        return name

    def const(self, name: str, shape: tuple[int, ...], dt: DType, lo: int, hi: int) -> str:
        v = self.rng.integers(lo, hi + 1, size=shape).astype(np.int64)
        self.tensors[name] = Tensor(name, shape, dt, TensorKind.CONSTANT, v)
        self.values[name] = v
        return name

    def node(
        self,
        op: str,
        inputs: Sequence[str],
        out_shape: tuple[int, ...],
        out_dt: DType,
        requant: Requant | None = None,
        **attrs: Any,
    ) -> tuple[Graph, Node]:
        self.tensors["y"] = Tensor("y", out_shape, out_dt, TensorKind.OUTPUT)
        ins = tuple(inputs) + ((requant.mul, requant.add) if requant else ())
        node = Node("n", op, ins, ("y",), attributes=tuple(sorted(attrs.items())), requant=requant)
        graph = Graph("t", self.tensors, (node,), tuple(self.inputs), ("y",))
        return graph, node

    def requant(self, out_shape: tuple[int, ...], per_channel_axis: int | None, out_dt: DType, shift: int) -> Requant:
        """mul / add scaled to the shift so that results spread over the output range (not all clipped)."""
        shape: tuple[int, ...] = ()
        if per_channel_axis is not None:
            shape = tuple(out_shape[per_channel_axis] if d == per_channel_axis else 1 for d in range(len(out_shape)))
            shape = shape[per_channel_axis:]  # trailing form, e.g. [C,1,1]
        self.const("rq.mul", shape, DType.INT32, -8, 1 << max(shift - 6, 3))
        self.const("rq.add", shape, DType.INT32, -(1 << (shift + 4)), 1 << (shift + 4))
        n = 256
        return Requant("rq.mul", "rq.add", 1 << shift, n, out_dt is DType.INT8, "rq")


def draw_box(data: st.DataObject, shape: Sequence[int]) -> Box:
    box = []
    for d in shape:
        s = data.draw(st.integers(0, d - 1))
        n = data.draw(st.integers(1, d - s))
        box.append((s, n))
    return tuple(box)


def grow(data: st.DataObject, box: Box, shape: Sequence[int]) -> Box:
    """A random superset of `box` within the tensor (buffers may hold more than a tile needs)."""
    out = []
    for (s, n), d in zip(box, shape, strict=True):
        a = data.draw(st.integers(0, min(s, 2)))
        b = data.draw(st.integers(0, min(d - s - n, 2)))
        out.append((s - a, n + a + b))
    return tuple(out)


def bcast_box(shape: Sequence[int], out_box: Box) -> Box:
    lead = len(out_box) - len(shape)
    return tuple((0, 1) if shape[d] == 1 else out_box[d + lead] for d in range(len(shape)))


def check(
    driver: Driver,
    data: st.DataObject,
    g: G,
    graph: Graph,
    node: Node,
    out_box: Box,
    regions: Mapping[str, Box],
    *,
    out_full: bool | None = None,
) -> None:
    y_ref = run_node(graph, node, {k: v for k, v in g.values.items() if k in g.inputs})
    buffers: dict[str, np.ndarray[Any, Any]] = {}
    views: dict[str, View] = {}
    for k, (t, box) in enumerate(regions.items()):
        ten = graph.tensor(t)
        if ten.numel and box and any(n == 0 for _, n in box):
            continue
        sub = g.values[t][tuple(slice(s, s + n) for s, n in box)].astype(NP[ten.dtype])
        sym = f"b{k}"
        buffers[sym] = sub if sub.size else np.zeros(1, NP[ten.dtype])
        views[t] = View(
            t,
            Ptr(sym, 0, True),
            ten.dtype,
            tuple(s for s, _ in box),
            tuple(n for _, n in box),
            ten.shape,
            "test buffer",
        )
    yt = graph.tensor("y")
    if out_full is None:
        out_full = data.draw(st.booleans())
    ybox = tuple((0, d) for d in yt.shape) if out_full else out_box
    sentinel = np.full([n for _, n in ybox], 0x5A, dtype=np.uint8).view(np.uint8)
    ybuf = (
        np.frombuffer(
            np.full(int(np.prod([n for _, n in ybox])) * yt.dtype.itemsize, 0x5A, np.uint8).tobytes(),
            dtype=NP[yt.dtype],
        )
        .reshape([n for _, n in ybox])
        .copy()
    )
    del sentinel
    before = ybuf.copy()
    buffers["out"] = ybuf
    views["y"] = View(
        "y",
        Ptr("out", 0, False),
        yt.dtype,
        tuple(s for s, _ in ybox),
        tuple(n for _, n in ybox),
        yt.shape,
        "test output",
    )
    calls = lower_step(StepContext(graph, node, out_box, views, "test"))
    res = driver.run(calls, buffers, ["out"])
    got = np.frombuffer(res["out"][: ybuf.nbytes], dtype=NP[yt.dtype]).reshape(ybuf.shape).astype(np.int64)
    rel = tuple(slice(s - s0, s - s0 + n) for (s, n), (s0, _) in zip(out_box, ybox, strict=True))
    want = y_ref[tuple(slice(s, s + n) for s, n in out_box)]
    np.testing.assert_array_equal(got[rel], want, err_msg=f"tile {out_box} of {node.op_type} {dict(node.attrs)}")
    mask = np.ones(ybuf.shape, bool)
    mask[rel] = False
    np.testing.assert_array_equal(got[mask], before.astype(np.int64)[mask], err_msg="wrote outside the tile")


def conv_span(o0: int, n: int, stride: int, dil: int, k: int, pad: int, full: int) -> tuple[int, int]:
    lo = o0 * stride - pad
    hi = (o0 + n - 1) * stride - pad + dil * (k - 1) + 1
    lo_c, hi_c = max(lo, 0), min(hi, full)
    return (lo_c, max(hi_c - lo_c, 0)) if hi_c > lo_c else (min(lo_c, full - 1), 1)


# ---- tests ---------------------------------------------------------------------------------------------
@SETTINGS
@given(data=st.data())
def test_conv2d(kernel_driver: Driver, data: st.DataObject) -> None:
    _conv_case(kernel_driver, data, blocks=False)


@SETTINGS
@given(data=st.data())
def test_conv2d_register_blocks(kernel_driver: Driver, data: st.DataObject) -> None:
    """Shapes that take the register-blocked paths (2 channels x 8 columns, 1x1, the depthwise 3x3
    sliding window): unit column stride and dilation, wide rows, even channel counts."""
    _conv_case(kernel_driver, data, blocks=True)


def _conv_case(kernel_driver: Driver, data: st.DataObject, *, blocks: bool) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    group = data.draw(st.sampled_from([1, 1, 2, "dw"]))
    cin_g = 1 if group == "dw" else data.draw(st.integers(1, 5))
    g_n = data.draw(st.integers(2, 6)) if group == "dw" else int(group)
    cout = g_n * (1 if group == "dw" else data.draw(st.integers(1, 3)) * (2 if blocks else 1))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    sh, sw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    dh, dw = data.draw(st.integers(1, 2)), data.draw(st.integers(1, 2))
    if blocks:
        sw = dw = 1
        if group == "dw" or data.draw(st.booleans()):
            kh = kw = data.draw(st.sampled_from([1, 3]))
            sh = dh = 1
    pads = [data.draw(st.integers(0, 2)) for _ in range(4)]
    h = data.draw(st.integers(max(1, dh * (kh - 1) + 1 - pads[0] - pads[2]), 11))
    w = data.draw(st.integers(max(1, dw * (kw - 1) + 1 - pads[1] - pads[3]), 26 if blocks else 11))
    nb = data.draw(st.integers(1, 2))
    xdt = data.draw(st.sampled_from([DType.INT8, DType.UINT8]))
    ydt = data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT32]))
    gb = G(rng)
    x = gb.act("x", (nb, g_n * cin_g, h, w), xdt)
    wt = gb.const("w", (cout, cin_g, kh, kw), DType.INT8, -128, 127)
    bias = data.draw(st.booleans())
    ins = [x, wt] + ([gb.const("b", (cout,), DType.INT32, -3000, 3000)] if bias else [])
    oh = (h + pads[0] + pads[2] - dh * (kh - 1) - 1) // sh + 1
    ow = (w + pads[1] + pads[3] - dw * (kw - 1) - 1) // sw + 1
    oshape = (nb, cout, oh, ow)
    rq = (
        gb.requant(oshape, data.draw(st.sampled_from([None, 1])), ydt, data.draw(st.integers(0, 12)))
        if ydt is not DType.INT32
        else None
    )
    graph, node = gb.node(
        "Conv",
        ins,
        oshape,
        ydt,
        rq,
        group=g_n,
        kernel_shape=(kh, kw),
        strides=(sh, sw),
        dilations=(dh, dw),
        pads=tuple(pads),
    )
    ob = draw_box(data, oshape)
    cout_g = cout // g_n
    g0, g1 = ob[1][0] // cout_g, (ob[1][0] + ob[1][1] - 1) // cout_g
    xr = (
        (ob[0]),
        (g0 * cin_g, (g1 - g0 + 1) * cin_g),
        conv_span(ob[2][0], ob[2][1], sh, dh, kh, pads[0], h),
        conv_span(ob[3][0], ob[3][1], sw, dw, kw, pads[1], w),
    )
    regions = {"x": grow(data, xr, (nb, g_n * cin_g, h, w)), "w": (ob[1], (0, cin_g), (0, kh), (0, kw))}
    if bias:
        regions["b"] = (ob[1],)
    if rq:
        for t in (rq.mul, rq.add):
            regions[t] = bcast_box(graph.tensor(t).shape, ob)
    check(kernel_driver, data, gb, graph, node, ob, regions)


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool", "GlobalAveragePool"])
@SETTINGS
@given(data=st.data())
def test_pool(kernel_driver: Driver, op: str, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    kh, kw = data.draw(st.integers(1, 4)), data.draw(st.integers(1, 4))
    sh, sw = data.draw(st.integers(1, 3)), data.draw(st.integers(1, 3))
    pads = [data.draw(st.integers(0, k - 1)) for k in (kh, kw, kh, kw)]
    h = data.draw(st.integers(max(1, kh - pads[0] - pads[2]), 10))
    w = data.draw(st.integers(max(1, kw - pads[1] - pads[3]), 10))
    c = data.draw(st.integers(1, 4))
    xdt = data.draw(st.sampled_from([DType.INT8, DType.UINT8]))
    gb = G(rng)
    x = gb.act("x", (1, c, h, w), xdt)
    attrs: dict[str, Any] = {}
    if op == "GlobalAveragePool":
        oshape = (1, c, 1, 1)
        xr_fn = None
    else:
        attrs = {"kernel_shape": (kh, kw), "strides": (sh, sw), "pads": tuple(pads)}
        if op == "AveragePool":
            attrs["count_include_pad"] = data.draw(st.integers(0, 1))
        oshape = (1, c, (h + pads[0] + pads[2] - kh) // sh + 1, (w + pads[1] + pads[3] - kw) // sw + 1)
        xr_fn = True
    graph, node = gb.node(op, [x], oshape, xdt, None, **attrs)
    ob = draw_box(data, oshape)
    if xr_fn:
        xr = (
            ob[0],
            ob[1],
            conv_span(ob[2][0], ob[2][1], sh, 1, kh, pads[0], h),
            conv_span(ob[3][0], ob[3][1], sw, 1, kw, pads[1], w),
        )
    else:
        xr = (ob[0], ob[1], (0, h), (0, w))
    check(kernel_driver, data, gb, graph, node, ob, {"x": grow(data, xr, (1, c, h, w))})


@SETTINGS
@given(data=st.data())
def test_gemm(kernel_driver: Driver, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    m, n, k = (data.draw(st.integers(1, 9)) for _ in range(3))
    ta, tb = data.draw(st.integers(0, 1)), data.draw(st.integers(0, 1))
    adt = data.draw(st.sampled_from([DType.INT8, DType.UINT8]))
    ydt = data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT32]))
    gb = G(rng)
    a = gb.act("a", (k, m) if ta else (m, k), adt)
    b = gb.const("bw", (n, k) if tb else (k, n), DType.INT8, -128, 127)
    cshape = data.draw(st.sampled_from([None, (n,), (1, n), (m, n), (m, 1)]))
    ins = [a, b] + ([gb.const("c", cshape, DType.INT32, -5000, 5000)] if cshape else [])
    rq = (
        gb.requant((m, n), data.draw(st.sampled_from([None, 1])), ydt, data.draw(st.integers(0, 10)))
        if ydt is not DType.INT32
        else None
    )
    graph, node = gb.node("Gemm", ins, (m, n), ydt, rq, transA=ta, transB=tb)
    ob = draw_box(data, (m, n))
    regions: dict[str, Box] = {
        "a": ((0, k), ob[0]) if ta else (ob[0], (0, k)),
        "bw": (ob[1], (0, k)) if tb else ((0, k), ob[1]),
    }
    regions = {t: grow(data, r, graph.tensor(t).shape) for t, r in regions.items()}
    if cshape:
        regions["c"] = bcast_box(cshape, ob)
    if rq:
        for t in (rq.mul, rq.add):
            regions[t] = bcast_box(graph.tensor(t).shape, ob)
    check(kernel_driver, data, gb, graph, node, ob, regions)


@SETTINGS
@given(data=st.data())
def test_matmul(kernel_driver: Driver, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    m, n, k = (data.draw(st.integers(1, 7)) for _ in range(3))
    nbatch = data.draw(st.integers(0, 3))
    batch = [data.draw(st.integers(1, 3)) for _ in range(nbatch)]
    abatch = [d if data.draw(st.booleans()) else 1 for d in batch]
    bbatch = [d if data.draw(st.booleans()) else 1 for d in batch][data.draw(st.integers(0, nbatch)) :]
    batch = [max(x, y) for x, y in zip(abatch, [1] * (nbatch - len(bbatch)) + bbatch, strict=True)]
    adt = data.draw(st.sampled_from([DType.INT8, DType.UINT8]))
    bdt = data.draw(st.sampled_from([DType.INT8, DType.UINT8]))
    ydt = data.draw(st.sampled_from([DType.INT8, DType.INT32]))
    gb = G(rng)
    a = gb.act("a", (*abatch, m, k), adt)
    b = gb.act("bm", (*bbatch, k, n), bdt)
    oshape = (*batch, m, n)
    rq = (
        gb.requant(oshape, data.draw(st.sampled_from([None, len(oshape) - 1])), ydt, data.draw(st.integers(0, 10)))
        if ydt is not DType.INT32
        else None
    )
    graph, node = gb.node("MatMul", [a, b], oshape, ydt, rq)
    ob = draw_box(data, oshape)
    ab = (*bcast_box(graph.tensor("a").shape[:-2], ob[:-2]), ob[-2], (0, k))
    bb = (*bcast_box(graph.tensor("bm").shape[:-2], ob[:-2]), (0, k), ob[-1])
    regions = {"a": grow(data, ab, graph.tensor("a").shape), "bm": grow(data, bb, graph.tensor("bm").shape)}
    if rq:
        for t in (rq.mul, rq.add):
            regions[t] = bcast_box(graph.tensor(t).shape, ob)
    check(kernel_driver, data, gb, graph, node, ob, regions)


def _bshape(data: st.DataObject, shape: tuple[int, ...]) -> tuple[int, ...]:
    drop = data.draw(st.integers(0, len(shape)))
    return tuple(d if data.draw(st.booleans()) else 1 for d in shape[drop:])


@pytest.mark.parametrize(
    "op", ["Add", "Sub", "Mul", "RequantShift", "Relu", "Clip", "iGELU", "iHardswish", "TrueIntegerDiv"]
)
@SETTINGS
@given(data=st.data())
def test_eltwise(kernel_driver: Driver, op: str, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    rank = data.draw(st.integers(1, 5))
    shape = tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    gb = G(rng)
    attrs: dict[str, Any] = {}
    rq = None
    if op in ("Add", "Sub", "Mul"):
        adt = data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT16, DType.INT32]))
        bdt = data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT16, DType.INT32]))
        a = gb.act("a", _bshape(data, shape) if data.draw(st.booleans()) else shape, adt)
        b = gb.act("b", _bshape(data, shape), bdt)
        oshape = tuple(np.broadcast_shapes(graph_shape := gb.tensors["a"].shape, gb.tensors["b"].shape))
        del graph_shape
        ydt = data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT32]))
        ins = [a, b]
        if ydt is not DType.INT32:
            rq = gb.requant(
                oshape, data.draw(st.sampled_from([None, *range(len(oshape))])), ydt, data.draw(st.integers(0, 12))
            )
    elif op == "RequantShift":
        adt = data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT32]))
        a = gb.act("a", shape, adt)
        ydt = data.draw(st.sampled_from([DType.INT8, DType.UINT8]))
        axis = data.draw(st.sampled_from([None, *range(rank)]))
        mshape = () if axis is None else tuple(shape[axis] if d == axis else 1 for d in range(axis, rank))
        ins = [a, gb.const("m", mshape, DType.INT32, 1, 300), gb.const("ad", mshape, DType.INT32, -3000, 3000)]
        attrs = {"div": 1 << data.draw(st.integers(0, 12)), "n_levels_out": 256, "signed": int(ydt is DType.INT8)}
        oshape = shape
    else:
        adt = (
            DType.INT8
            if op in ("iGELU", "iHardswish", "TrueIntegerDiv")
            else data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT32]))
        )
        a = gb.act("a", shape, adt)
        ins = [a]
        oshape = shape
        ydt = adt
        if op == "Clip":
            attrs = {"min": data.draw(st.integers(-50, 20)), "max": data.draw(st.integers(21, 100))}
        elif op == "iGELU":
            attrs, ydt = {"b": data.draw(st.integers(-60, -1)), "one": data.draw(st.integers(100, 3000))}, DType.INT32
        elif op == "iHardswish":
            six = data.draw(st.integers(100, 450))
            attrs, ydt = {"one_over_six": 42, "six": six, "three": six // 2}, DType.INT32
        elif op == "TrueIntegerDiv":
            attrs, ydt = (
                {"Delta": 16384, "eps": 1, "eta": data.draw(st.integers(1, 300000)), "y": data.draw(st.integers(1, 9))},
                DType.INT32,
            )
    graph, node = gb.node(op, ins, oshape, ydt, rq, **attrs)
    ob = draw_box(data, oshape)
    regions = {t: bcast_box(graph.tensor(t).shape, ob) for t in node.inputs}
    regions = {
        t: (grow(data, r, graph.tensor(t).shape) if not graph.tensor(t).is_constant else r) for t, r in regions.items()
    }
    check(kernel_driver, data, gb, graph, node, ob, regions)


@pytest.mark.parametrize("op", ["Transpose", "Concat", "Slice", "Pad", "Gather"])
@SETTINGS
@given(data=st.data())
def test_data_movement(kernel_driver: Driver, op: str, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    rank = data.draw(st.integers(1, 5))
    shape = tuple(data.draw(st.integers(1, 5)) for _ in range(rank))
    dt = data.draw(st.sampled_from([DType.INT8, DType.UINT8, DType.INT32]))
    gb = G(rng)
    x = gb.act("x", shape, dt)
    attrs: dict[str, Any] = {}
    ins = [x]
    if op == "Transpose":
        perm = tuple(data.draw(st.permutations(range(rank))))
        attrs = {"perm": perm}
        oshape = tuple(shape[p] for p in perm)
    elif op == "Concat":
        axis = data.draw(st.integers(0, rank - 1))
        other = tuple(data.draw(st.integers(1, 4)) if d == axis else s for d, s in enumerate(shape))
        ins.append(gb.act("x2", other, dt))
        attrs = {"axis": axis - rank if data.draw(st.booleans()) else axis}
        oshape = tuple(s + (other[d] if d == axis else 0) for d, s in enumerate(shape))
    elif op == "Slice":
        axes = tuple(sorted(data.draw(st.sets(st.integers(0, rank - 1), min_size=1))))
        starts, ends, steps = [], [], []
        for a in axes:
            step = data.draw(st.sampled_from([1, 1, 2, -1]))
            s0 = data.draw(st.integers(0, shape[a] - 1))
            e0 = data.draw(st.integers(s0 + 1, shape[a])) if step > 0 else data.draw(st.integers(-1, s0 - 1))
            starts.append(s0)
            ends.append(e0 if e0 >= 0 else -shape[a] - 1)
            steps.append(step)
        attrs = {"starts": tuple(starts), "ends": tuple(ends), "axes": axes, "steps": tuple(steps)}
        oshape = tuple(
            np.zeros(shape)[
                tuple(
                    slice(starts[axes.index(d)], ends[axes.index(d)], steps[axes.index(d)])
                    if d in axes
                    else slice(None)
                    for d in range(rank)
                )
            ].shape
        )
    elif op == "Pad":
        pads = tuple(data.draw(st.integers(0, 2)) for _ in range(2 * rank))
        attrs = {
            "pads": pads,
            "mode": "constant",
            "constant_value": data.draw(st.integers(-5, 5)) if dt is not DType.UINT8 else 3,
        }
        oshape = tuple(s + pads[d] + pads[d + rank] for d, s in enumerate(shape))
    else:
        axis = data.draw(st.integers(0, rank - 1))
        ishape = tuple(data.draw(st.integers(1, 4)) for _ in range(data.draw(st.integers(1, 2))))
        ins.append(gb.const("idx", ishape, DType.INT8, -shape[axis], shape[axis] - 1))
        attrs = {"axis": axis}
        oshape = shape[:axis] + ishape + shape[axis + 1 :]
    if 0 in oshape:
        return
    graph, node = gb.node(op, ins, oshape, dt, None, **attrs)
    ob = draw_box(data, oshape)
    regions: dict[str, Box] = {t: tuple((0, d) for d in graph.tensor(t).shape) for t in ins}  # whole inputs
    check(kernel_driver, data, gb, graph, node, ob, regions)


@pytest.mark.parametrize("op", ["iSoftmax", "ITAMax", "iRMSNorm", "iLayerNorm", "IntegerMean", "ReduceMean"])
@SETTINGS
@given(data=st.data())
def test_rowwise_and_reduce(kernel_driver: Driver, op: str, data: st.DataObject) -> None:
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    rank = data.draw(st.integers(1, 4))
    shape = tuple(data.draw(st.integers(1, 9 if d == rank - 1 else 4)) for d in range(rank))
    xdt = data.draw(st.sampled_from([DType.INT8, DType.UINT8])) if op != "ITAMax" else DType.INT8
    gb = G(rng)
    x = gb.act("x", shape, xdt)
    ins = [x]
    length = shape[-1]
    attrs: dict[str, Any]
    if op == "iSoftmax":
        l2 = data.draw(st.integers(6, 64))
        attrs = {"coeffA": 1, "coeffB": (l2 * 4) // 3, "coeffC": l2 * l2 - 2, "log2": l2, "n_levels": 256}
        ydt, oshape = DType.UINT8, shape
    elif op == "ITAMax":
        attrs, ydt, oshape = {"n_levels": 256}, DType.UINT8, shape
    elif op == "iRMSNorm":
        ins.append(gb.const("wn", (length,), DType.INT32, 1, 200))
        attrs, ydt, oshape = {"D": 1 << data.draw(st.integers(4, 16)), "n_levels": 256}, DType.INT8, shape
    elif op == "iLayerNorm":
        ins.append(gb.const("wn", (length,), DType.INT32, -300, 300))
        ins.append(gb.const("bn", (length,), data.draw(st.sampled_from([DType.INT16, DType.INT32])), -3000, 3000))
        attrs, ydt, oshape = {"D": 1 << data.draw(st.integers(4, 14)), "n_levels": 256}, DType.INT8, shape
    else:
        a0 = data.draw(st.integers(0, rank - 1))
        a1 = data.draw(st.integers(a0, rank - 1))
        keep = data.draw(st.integers(0, 1))
        attrs = {"axes": tuple(range(a0, a1 + 1)), "keepdims": keep}
        ydt = xdt
        oshape = (
            tuple(1 if a0 <= d <= a1 else s for d, s in enumerate(shape))
            if keep
            else tuple(s for d, s in enumerate(shape) if not a0 <= d <= a1)
        )
        if not oshape:
            return
    graph, node = gb.node(op, ins, oshape, ydt, None, **attrs)
    ob = draw_box(data, oshape)
    if op in ("IntegerMean", "ReduceMean"):
        a0, a1 = attrs["axes"][0], attrs["axes"][-1]
        if attrs["keepdims"]:
            xb = tuple((0, s) if a0 <= d <= a1 else ob[d] for d, s in enumerate(shape))
        else:
            xb = ob[:a0] + tuple((0, shape[d]) for d in range(a0, a1 + 1)) + ob[a0:]
        regions = {"x": xb}
    else:
        ob = (*ob[:-1], (0, length))
        regions = {"x": grow(data, ob, shape)}
        regions = {"x": (*regions["x"][:-1], (0, length))}
        for t in ins[1:]:
            regions[t] = ((0, length),)
    check(kernel_driver, data, gb, graph, node, ob, regions)


def test_driver_reports_unknown_kernel(kernel_driver: Driver) -> None:
    assert kernel_driver.proc.poll() is None
