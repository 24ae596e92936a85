"""Standard quantized ONNX (QDQ, QOperator) import, checked element by element against onnxruntime.

Models are built in tests/models_onnx.py (random seeded weights, quantize_static with random calibration
data); nothing is downloaded.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from deeploy_tiler import api
from deeploy_tiler.errors import UnsupportedOperatorError
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.frontend.ort_compare import integer_edged, ort_run
from deeploy_tiler.ir import DType, Graph
from deeploy_tiler.reference import kernels as K

ort = pytest.importorskip("onnxruntime")
M = pytest.importorskip("tests.models_onnx")

FORMATS = ("qdq_s8s8", "qdq_u8s8_pc", "qop_u8s8")


def _random_inputs(graph: Graph, seed: int) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    return {t.name: rng.integers(t.dtype.min, t.dtype.max + 1, t.shape) for t in graph.inputs}


def _compare(graph: Graph, model: onnx.ModelProto, seed: int) -> tuple[int, int]:
    ins = _random_inputs(graph, seed)
    ref = api.reference_run(graph, ins)
    theirs = ort_run(model, ins)
    total = differing = 0
    for name, ours in ref.items():
        o = theirs[name].astype(np.int64)
        assert o.shape == ours.shape
        total += ours.size
        differing += int(np.count_nonzero(o != ours))
    return total, differing


@pytest.fixture(scope="module")
def corpus() -> dict[tuple[str, str], onnx.ModelProto]:
    out = {}
    for arch, build in M.ARCHITECTURES.items():
        f = build()
        for fmt in FORMATS:
            out[arch, fmt] = M.quantize(f, M.FORMATS[fmt])
    return out


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("arch", sorted(M.ARCHITECTURES))
def test_corpus_imports_and_matches_onnxruntime(
    corpus: dict[tuple[str, str], onnx.ModelProto], arch: str, fmt: str
) -> None:
    model = corpus[arch, fmt]
    graph = import_onnx(model, name=arch, source=f"{arch}/{fmt}")
    for seed in (1, 2):
        total, differing = _compare(graph, model, seed)
        assert total > 0
        assert differing == 0, f"{differing} of {total} elements differ from onnxruntime"


@pytest.mark.parametrize(("arch", "fmt"), [("resnet8", "qdq_u8s8_pc"), ("transformer_ffn", "qop_u8s8")])
@pytest.mark.parametrize("spec", ["siracusa", "siracusa_neureka"])
def test_corpus_plans_and_validates(
    corpus: dict[tuple[str, str], onnx.ModelProto], arch: str, fmt: str, spec: str
) -> None:
    graph = import_onnx(corpus[arch, fmt], name=arch, source=arch)
    plan = api.plan(graph, spec)
    assert api.validate(plan, graph, spec) == []


def _conv_model(x_dtype: Any, ratio: float) -> onnx.ModelProto:
    """A QLinearConv whose combined scale makes exact .5 ties common (ratio = 0.5 or 0.25)."""
    rng = np.random.default_rng(3)
    tx = TensorProto.UINT8 if x_dtype == np.uint8 else TensorProto.INT8
    info = np.iinfo(x_dtype)
    m, c = 8, 4
    w = rng.integers(-127, 128, (m, c, 3, 3)).astype(np.int8)
    inits = [
        numpy_helper.from_array(np.array(1.0, np.float32), "xs"),
        numpy_helper.from_array(np.array(7 if x_dtype == np.uint8 else -3, x_dtype), "xz"),
        numpy_helper.from_array(w, "w"),
        numpy_helper.from_array(np.full(m, ratio, np.float32), "ws"),
        numpy_helper.from_array(np.zeros(m, np.int8), "wz"),
        numpy_helper.from_array(np.array(64.0, np.float32), "ys"),
        numpy_helper.from_array(np.array(int(info.min) + 100, x_dtype), "yz"),
        numpy_helper.from_array(rng.integers(-999, 999, m).astype(np.int32), "b"),
    ]
    node = helper.make_node(
        "QLinearConv", ["x", "xs", "xz", "w", "ws", "wz", "ys", "yz", "b"], ["y"], pads=[1, 1, 1, 1]
    )
    g = helper.make_graph(
        [node],
        "conv",
        [helper.make_tensor_value_info("x", tx, [1, c, 9, 9])],
        [helper.make_tensor_value_info("y", tx, None)],
        inits,
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


@pytest.mark.parametrize("x_dtype", [np.uint8, np.int8])
@pytest.mark.parametrize("ratio", [32.0, 16.0])
def test_requant_rounds_half_to_even_like_onnxruntime(x_dtype: Any, ratio: float) -> None:
    # scale = ratio / 64: accumulators land on exact halves, where half-even and half-up differ
    model = _conv_model(x_dtype, ratio)
    graph = import_onnx(model, name="conv", source="conv", input_dtypes={"x": DType(np.dtype(x_dtype).name)})
    total, differing = 0, 0
    for seed in range(4):
        t, d = _compare(graph, model, seed)
        total, differing = total + t, differing + d
    assert total == 4 * 8 * 81
    assert differing == 0
    # the case is discriminating: rounding half up instead would disagree with onnxruntime somewhere
    ins = _random_inputs(graph, 0)
    xz = int(numpy_helper.to_array(model.graph.initializer[1]))
    yz = int(numpy_helper.to_array(model.graph.initializer[6]))
    w = numpy_helper.to_array(model.graph.initializer[2]).astype(np.int64)
    b = numpy_helper.to_array(model.graph.initializer[7]).astype(np.int64)
    acc = K.conv(ins["x"] - xz, w, b, pads=(1, 1, 1, 1))
    info = np.iinfo(x_dtype)
    half_up = np.clip(np.floor(acc * (ratio / 64.0) + 0.5).astype(np.int64) + yz, info.min, info.max)
    assert np.any(half_up != ort_run(model, ins)["y"])


def test_integer_edged_model_has_integer_inputs() -> None:
    model = M.quantize(M.mlp_autoencoder(), M.FORMATS["qdq_s8s8"])
    edged = integer_edged(model)
    assert [i.type.tensor_type.elem_type for i in edged.graph.input] == [TensorProto.INT8]
    assert not any(n.op_type == "QuantizeLinear" and n.input[0] == "input" for n in edged.graph.node)


def test_unsupported_patterns_are_listed_at_once() -> None:
    b = M._Builder(9)
    x = b.conv("input", 3, 4, 3)
    s = b.op("Softmax", [x], axis=1)
    y = b.op("LayerNormalization", [s, b.const(np.ones(8, np.float32), "g")], axis=-1)
    model = M.quantize(b.model("islands", [("input", [1, 3, 8, 8])], [y]), M.FORMATS["qdq_u8s8_pc"])
    with pytest.raises(UnsupportedOperatorError) as err:
        import_onnx(model, name="islands", source="islands.onnx")
    text = str(err.value)
    assert "Softmax" in text and "LayerNormalization" in text
