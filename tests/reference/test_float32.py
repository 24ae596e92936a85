"""reference.float32: the float32 kernels equal their documented evaluation order (scalar loops in
float32, element by element and bit for bit), the interpreter's float path, and onnxruntime within a
tight tolerance (its summation order differs, so not bit-exact)."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from deeploy_tiler.errors import ReferenceError_
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.reference import reference_run
from deeploy_tiler.reference.float32 import (
    FLOAT_KERNELS,
    clip_f32,
    conv_f32,
    gemm_f32,
    global_average_pool_f32,
    matmul_f32,
    pool_f32,
)

M = pytest.importorskip("tests.models_onnx")
f32 = np.float32


def _same_bits(a: Any, b: Any) -> bool:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    return a.shape == b.shape and bool(np.array_equal(a.view(np.int32), b.view(np.int32)))


def _rand(rng: np.random.Generator, *shape: int) -> np.ndarray[Any, Any]:
    return rng.normal(size=shape).astype(np.float32)


def _conv_loops(
    x: Any, w: Any, b: Any, group: int, st: tuple[int, int], pd: tuple[int, ...], dl: tuple[int, int]
) -> Any:
    n, _, h, wd = x.shape
    m, cg, kh, kw = w.shape
    oh = (h + pd[0] + pd[2] - dl[0] * (kh - 1) - 1) // st[0] + 1
    ow = (wd + pd[1] + pd[3] - dl[1] * (kw - 1) - 1) // st[1] + 1
    y = np.zeros((n, m, oh, ow), np.float32)
    for bi, oc, oy, ox in itertools.product(range(n), range(m), range(oh), range(ow)):
        g = oc // (m // group)
        acc = f32(0)
        for ci, ky, kx in itertools.product(range(cg), range(kh), range(kw)):
            iy, ix = oy * st[0] - pd[0] + ky * dl[0], ox * st[1] - pd[1] + kx * dl[1]
            if 0 <= iy < h and 0 <= ix < wd:  # padding skipped
                acc = f32(acc + f32(x[bi, g * cg + ci, iy, ix] * w[oc, ci, ky, kx]))
        y[bi, oc, oy, ox] = acc if b is None else f32(acc + b[oc])
    return y


@pytest.mark.parametrize(
    ("cin", "cout", "group", "k", "st", "pd", "dl", "bias"),
    [
        (3, 4, 1, 3, (1, 1), (1, 1, 1, 1), (1, 1), True),
        (4, 4, 4, 3, (2, 1), (1, 0, 2, 1), (1, 1), True),  # depthwise, asymmetric pads
        (4, 6, 2, 2, (1, 2), (0, 1, 0, 1), (2, 1), False),  # grouped, dilated
        (5, 3, 1, 1, (1, 1), (0, 0, 0, 0), (1, 1), True),
    ],
)
def test_conv_is_the_documented_order(
    cin: int, cout: int, group: int, k: int, st: tuple[int, int], pd: tuple[int, ...], dl: tuple[int, int], bias: bool
) -> None:
    rng = np.random.default_rng(cin * 7 + cout)
    x, w = _rand(rng, 2, cin, 6, 7), _rand(rng, cout, cin // group, k, k)
    b = _rand(rng, cout) if bias else None
    attrs = {"strides": st, "pads": pd, "dilations": dl}
    got = conv_f32(x, w, b, group=group, attrs=attrs)
    assert _same_bits(got, _conv_loops(x, w, b, group, st, pd, dl))


def test_matmul_and_gemm_accumulate_k_in_order() -> None:
    rng = np.random.default_rng(1)
    a, b, c = _rand(rng, 3, 9), _rand(rng, 9, 4), _rand(rng, 4)
    want = np.zeros((3, 4), np.float32)
    for i, j in itertools.product(range(3), range(4)):
        acc = f32(0)
        for k in range(9):
            acc = f32(acc + f32(a[i, k] * b[k, j]))
        want[i, j] = acc
    assert _same_bits(matmul_f32(a, b), want)
    assert _same_bits(gemm_f32(a.T.copy(), b.T.copy(), c, trans_a=True, trans_b=True), (want + c).astype(np.float32))
    batched = matmul_f32(np.stack([a, a]), b)  # broadcast batch
    assert _same_bits(batched, np.stack([want, want]))
    assert _same_bits(matmul_f32(a[0], b), want[0]) and _same_bits(matmul_f32(a, b[:, 0]), want[:, 0])


def test_pools_are_the_documented_order() -> None:
    rng = np.random.default_rng(2)
    x = _rand(rng, 1, 2, 5, 6)
    attrs = {"kernel_shape": (3, 3), "strides": (2, 2), "pads": (1, 1, 1, 1)}
    mx, av = pool_f32(x, attrs, average=False), pool_f32(x, attrs, average=True)
    avp = pool_f32(x, {**attrs, "count_include_pad": 1}, average=True)
    for c, oy, ox in itertools.product(range(2), range(mx.shape[2]), range(mx.shape[3])):
        m, s, cnt = f32(-np.inf), f32(0), 0
        for ky, kx in itertools.product(range(3), range(3)):
            iy, ix = oy * 2 - 1 + ky, ox * 2 - 1 + kx
            if 0 <= iy < 5 and 0 <= ix < 6:
                v = x[0, c, iy, ix]
                m = v if v > m else m
                s, cnt = f32(s + v), cnt + 1
        assert mx[0, c, oy, ox] == m
        assert _same_bits(av[0, c, oy, ox], f32(s / f32(cnt)))
        assert _same_bits(avp[0, c, oy, ox], f32(s / f32(9)))  # every window inside the padded input
    g = global_average_pool_f32(x)
    s = np.zeros(2, np.float32)
    for iy, ix in itertools.product(range(5), range(6)):
        s = (s + x[0, :, iy, ix]).astype(np.float32)
    assert g.shape == (1, 2, 1, 1) and _same_bits(g[0, :, 0, 0], s / f32(30))


def test_clip_and_relu_semantics() -> None:
    x = np.array([-2.0, -0.0, 0.0, 0.5, 3.0], np.float32)
    assert _same_bits(clip_f32(x, -1.0, 1.0), [-1.0, -0.0, 0.0, 0.5, 1.0])
    assert _same_bits(clip_f32(x, None, None), x)
    relu = FLOAT_KERNELS["Relu"]([x.view(np.int32).astype(np.int64)], {})
    assert _same_bits(relu.astype(np.int32).view(np.float32), [0.0, 0.0, 0.0, 0.5, 3.0])  # -0 -> +0


def test_interpreter_takes_and_gives_float32_values() -> None:
    g = import_onnx(M.float_cnn_bn(), name="m", source="m.onnx")
    x = np.random.default_rng(3).normal(size=g.inputs[0].shape)  # float64 in: rounded to float32
    out = reference_run(g, {g.input_names[0]: x})
    (y,) = out.values()
    assert y.dtype == np.float32 and y.shape == (1, 10)
    again = reference_run(g, {g.input_names[0]: x.astype(np.float32)}, keep_intermediates=True)
    assert _same_bits(again[g.output_names[0]], y)
    assert all(v.dtype == np.float32 for v in again.values())
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ReferenceError_, match="not finite"):
        reference_run(g, {g.input_names[0]: bad})


@pytest.mark.parametrize("name", ["resnet8", "float_cnn_bn", "float_mlp_bn", "mlp_autoencoder", "transformer_ffn"])
def test_reference_is_close_to_onnxruntime(name: str) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = getattr(M, name)()
    g = import_onnx(model, name=name, source=f"{name}.onnx")
    rng = np.random.default_rng(4)
    feeds = {t.name: rng.normal(size=t.shape).astype(np.float32) for t in g.inputs}
    ours = reference_run(g, feeds)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    for (k, v), theirs in zip(ours.items(), sess.run(None, feeds), strict=True):
        scale = float(np.abs(theirs).max())
        err = float(np.abs(v - theirs).max())
        assert scale > 0 and err <= 1e-5 * scale, f"{name} {k}: max |ours - onnxruntime| {err} at scale {scale}"
