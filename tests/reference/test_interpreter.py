"""The interpreter's contract: input validation, fused RequantShift, intermediates, typed errors."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import helper

from deeploy_tiler.errors import ReferenceError_, UnsupportedOperatorError
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.ir import DType, Graph
from deeploy_tiler.reference import reference_run
from tests.frontend.onnx_helpers import const, conv_rq_model, model, rq_attrs


def _graph(m: onnx.ModelProto, *, fuse: bool = True, input_dtypes: dict[str, DType] | None = None) -> Graph:
    return import_onnx(m, name="t", source="t.onnx", fuse=fuse, input_dtypes=input_dtypes)


def _x(shape: tuple[int, ...] = (1, 4, 6, 6), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(-128, 128, size=shape).astype(np.int64)


def test_fused_requant_equals_standalone_and_a_direct_formula() -> None:
    m = conv_rq_model()
    fused, unfused = _graph(m), _graph(m, fuse=False)
    assert fused.nodes[0].requant is not None and len(unfused.nodes) == 2
    x = _x()
    y_fused = reference_run(fused, {"x": x})["y"]
    y_unfused = reference_run(unfused, {"x": x})["y"]
    assert np.array_equal(y_fused, y_unfused)
    # independent: conv by shifted sums, then clip(floor((acc*3 + 0 + 128) / 256), -128, 127)
    w = fused.tensor("w").data
    assert w is not None
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    acc = sum(
        np.einsum("nchw,mc->nmhw", xp[:, :, u : u + 6, v : v + 6], w[:, :, u, v]) for u in range(3) for v in range(3)
    )
    assert np.array_equal(y_fused, np.clip((acc * 3 + 128) // 256, -128, 127))


def test_outputs_in_graph_order_and_intermediates() -> None:
    m = conv_rq_model()
    g = _graph(m, fuse=False)
    out = reference_run(g, {"x": _x()})
    assert list(out) == ["y"] and out["y"].dtype == np.int64
    everything = reference_run(g, {"x": _x()}, keep_intermediates=True)
    assert list(everything) == ["x", "acc", "y"]
    everything["y"][...] = 0  # returned arrays are the caller's own
    assert reference_run(g, {"x": _x()})["y"].any()


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        ({}, "missing input"),
        ({"x": _x(), "z": _x()}, "unknown input"),
        ({"x": _x((1, 4, 6, 5))}, "'x': shape"),
        ({"x": np.full((1, 4, 6, 6), 128)}, "'x': values in \\[128, 128\\] are outside the int8 range"),
        ({"x": np.full((1, 4, 6, 6), 0.5)}, "'x': holds non-integer values"),
        ({"x": np.full((1, 4, 6, 6), "a")}, "'x': unsupported array dtype"),
    ],
)
def test_input_validation(inputs: dict[str, np.ndarray], match: str) -> None:
    with pytest.raises(ReferenceError_, match=match):
        reference_run(_graph(conv_rq_model()), inputs)


def test_integral_float_inputs_and_declared_unsigned_inputs_are_accepted() -> None:
    g = _graph(conv_rq_model(), input_dtypes={"x": DType.UINT8})
    x = np.full((1, 4, 6, 6), 200)
    assert np.array_equal(reference_run(g, {"x": x.astype(np.float32)})["y"], reference_run(g, {"x": x})["y"])
    with pytest.raises(ReferenceError_, match="outside the uint8 range"):
        reference_run(g, {"x": -x})


def test_float_softmax_is_refused_with_a_typed_error() -> None:
    m = model([helper.make_node("Softmax", ["x"], ["y"], name="sm", axis=-1)], {"x": [1, 4]}, {"y": [1, 4]})
    g = _graph(m)
    with pytest.raises(UnsupportedOperatorError, match=r"Softmax .*iSoftmax or ITAMax.*sm"):
        reference_run(g, {"x": np.zeros((1, 4), np.int64)})


def test_kernel_failure_names_the_node() -> None:
    nodes = [helper.make_node("Gather", ["x", "idx"], ["y"], name="gather_bad", axis=1)]
    m = model(nodes, {"x": [1, 3]}, {"y": [1]}, [const("idx", np.array(5.0))])
    with pytest.raises(ReferenceError_, match=r"gather_bad.*out of range"):
        reference_run(_graph(m), {"x": np.zeros((1, 3), np.int64)})


def test_integer_dialect_graph_runs_unfused_requant_chain() -> None:
    nodes = [
        helper.make_node("iHardswish", ["x"], ["h"], name="hs", one_over_six=2, six=6, three=3),
        helper.make_node("RequantShift", ["h", "mul", "add"], ["y"], name="rq", **rq_attrs(div=4)),
    ]
    m = model(nodes, {"x": [5]}, {"y": [5]}, [const("mul", np.array(1.0)), const("add", np.array(0.0))])
    y = reference_run(_graph(m), {"x": np.array([-5, -3, 0, 2, 5])})["y"]
    assert np.array_equal(y, [0, 0, 0, 5, 15])  # [0, 0, 0, 20, 60] -> floor((v + 2) / 4)
