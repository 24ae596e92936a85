"""The one sliding-window shape rule (`frontend.shapes.window_output_size`) against onnxruntime.

For MaxPool / AveragePool (ceil_mode, pads, dilation, auto_pad) and Conv (pads, strides, dilation,
auto_pad) on edge cases: the frontend's inferred shape, and the reference interpreter's values element by
element, equal what onnxruntime computes; where onnxruntime rejects the attributes, the frontend rejects
them too with a typed error.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import deeploy_tiler as dt
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.frontend.shapes import window_output_size
from deeploy_tiler.ir import DType

ort = pytest.importorskip("onnxruntime")


def _model(op: str, width: int, attrs: dict[str, Any], weight: np.ndarray | None) -> onnx.ModelProto:
    inputs = ["x"] + (["w"] if weight is not None else [])
    inits = [numpy_helper.from_array(weight.astype(np.float32), "w")] if weight is not None else []
    node = helper.make_node(op, inputs, ["y"], name="n", **attrs)
    g = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 3, width])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        initializer=inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 19)])
    m.ir_version = 9
    return m


def _ort(m: onnx.ModelProto, x: np.ndarray) -> np.ndarray | None:
    so = ort.SessionOptions()
    so.log_severity_level = 3
    try:
        sess = ort.InferenceSession(m.SerializeToString(), so, providers=["CPUExecutionProvider"])
    except Exception:  # onnxruntime refuses the attributes (e.g. a pad as wide as the kernel)
        return None
    try:
        return np.asarray(sess.run(None, {"x": x.astype(np.float32)})[0])
    except Exception:  # refused at run time: auto_pad SAME with dilation; MaxPool SAME with negative pads
        return None


def _ours(m: onnx.ModelProto, x: np.ndarray) -> np.ndarray | None:
    try:
        graph = import_onnx(m, name="w", source="<test>", input_dtypes={"x": DType.INT8})
    except dt.DeeployTilerError:
        return None
    (out,) = dt.reference_run(graph, {"x": x}).values()
    assert tuple(out.shape) == graph.tensors["y"].shape  # frontend and reference agree on the shape
    return out


POOL_CASES = [
    # (width, kernel, stride, dilation, pads (begin, end), ceil_mode, auto_pad)
    *[(w, k, s, 1, p, c, "NOTSET") for w, k, s, p, c in itertools.product(
        (1, 2, 5, 7, 16), (1, 2, 3), (1, 2, 3), ((0, 0), (0, 1), (1, 0), (1, 1), (2, 2)), (0, 1)
    )],
    *[(w, 2, s, 2, p, c, "NOTSET") for w, s, p, c in itertools.product((5, 8, 9), (1, 2, 3), ((0, 0), (1, 2)), (0, 1))],
    *[(w, k, s, 1, (0, 0), c, mode) for w, k, s, c, mode in itertools.product(
        (5, 8), (1, 2, 3), (1, 2, 3), (0, 1), ("SAME_UPPER", "SAME_LOWER", "VALID")
    )],
]  # fmt: skip


def _pool_attrs(k: int, s: int, d: int, p: tuple[int, int], c: int, mode: str) -> dict[str, Any]:
    attrs: dict[str, Any] = {"kernel_shape": [1, k], "strides": [1, s], "ceil_mode": c}
    if d != 1:
        attrs["dilations"] = [1, d]
    if mode == "NOTSET":
        attrs["pads"] = [0, p[0], 0, p[1]]
    else:
        attrs["auto_pad"] = mode
    return attrs


@pytest.mark.parametrize("op", ["MaxPool", "AveragePool"])
@pytest.mark.parametrize(("w", "k", "s", "d", "p", "c", "mode"), POOL_CASES)
def test_pool_matches_onnxruntime(
    op: str, w: int, k: int, s: int, d: int, p: tuple[int, int], c: int, mode: str
) -> None:
    if k * d > w + p[0] + p[1] and mode == "NOTSET":
        pytest.skip("kernel larger than the padded input: rejected by both (not a shape-rule case)")
    x = np.random.default_rng(w * 100 + k * 10 + s).integers(-100, 100, size=(1, 2, 3, w))
    m = _model(op, w, _pool_attrs(k, s, d, p, c, mode), None)
    want, got = _ort(m, x), _ours(m, x)
    if want is None and op == "MaxPool" and mode.startswith("SAME") and k == 1 and s > 1:
        # onnxruntime's MaxPool computes SAME pads of a kernel below the stride as negative and refuses
        # them; its AveragePool and Conv clamp them to 0 as the frontend does. A 1-wide max is a 1-wide mean.
        want = _ort(_model("AveragePool", w, _pool_attrs(k, s, d, p, c, mode), None), x)
    if want is None:
        assert got is None, "onnxruntime rejects these attributes, the frontend accepted them"
        return
    assert got is not None, "onnxruntime accepts these attributes, the frontend rejected them"
    assert got.shape == want.shape
    # AveragePool: the integer reference rounds half up; onnxruntime's float mean is exact for these sizes.
    expected = np.floor(want + 0.5).astype(np.int64) if op == "AveragePool" else want.astype(np.int64)
    np.testing.assert_array_equal(got, expected)


CONV_CASES = [
    (w, k, s, d, p, mode)
    for w, k, s, d, p, mode in itertools.product(
        (4, 7), (1, 2, 3), (1, 2, 3), (1, 2), ((0, 0), (1, 0), (2, 3)), ("NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID")
    )
    if mode == "NOTSET" or p == (0, 0)
]


@pytest.mark.parametrize(("w", "k", "s", "d", "p", "mode"), CONV_CASES)
def test_conv_matches_onnxruntime(w: int, k: int, s: int, d: int, p: tuple[int, int], mode: str) -> None:
    if (k - 1) * d + 1 > w + p[0] + p[1]:
        pytest.skip("kernel larger than the padded input")
    rng = np.random.default_rng(w + 10 * k + 100 * s)
    x = rng.integers(-50, 50, size=(1, 2, 3, w))
    weight = rng.integers(-5, 5, size=(3, 2, 1, k))
    attrs: dict[str, Any] = {"kernel_shape": [1, k], "strides": [1, s], "dilations": [1, d]}
    if mode == "NOTSET":
        attrs["pads"] = [0, p[0], 0, p[1]]
    else:
        attrs["auto_pad"] = mode
    m = _model("Conv", w, attrs, weight)
    want, got = _ort(m, x), _ours(m, x)
    if want is None:
        assert got is None, "onnxruntime rejects these attributes, the frontend accepted them"
        return
    assert got is not None, "onnxruntime accepts these attributes, the frontend rejected them"
    np.testing.assert_array_equal(got, want.astype(np.int64))


def test_ceil_mode_example_from_the_issue() -> None:
    # kernel 1, stride 2, width 16: the 9th window would start at 16, in the end padding: dropped.
    assert window_output_size(16, 1, 2, 1, 0, 0, True) == 8
    assert window_output_size(16, 1, 2, 1, 0, 0, False) == 8
    assert window_output_size(5, 2, 2, 1, 0, 0, True) == 3  # a partial last window that starts inside is kept
    assert window_output_size(2, 3, 1, 1, 0, 0, False) is None
