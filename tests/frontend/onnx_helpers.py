"""Build tiny ONNX models in tests (never modified copies of the shared models)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def rq_attrs(div: int = 256, n_levels: int = 256, signed: bool = True) -> dict[str, Any]:
    return {
        "div": numpy_helper.from_array(np.array(float(div), dtype=np.float32)),
        "n_levels_out": numpy_helper.from_array(np.array([float(n_levels)], dtype=np.float32)),
        "signed": numpy_helper.from_array(np.array([1.0 if signed else 0.0], dtype=np.float32)),
    }


def const(name: str, values: Any) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32), name)


def model(
    nodes: list[onnx.NodeProto],
    inputs: dict[str, list[int]],
    outputs: dict[str, list[int]],
    inits: list[onnx.TensorProto] = (),
    value_info: dict[str, list[int]] | None = None,
) -> onnx.ModelProto:
    g = helper.make_graph(
        nodes,
        "t",
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in inputs.items()],
        [helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in outputs.items()],
        initializer=list(inits),
        value_info=[helper.make_tensor_value_info(k, TensorProto.FLOAT, v) for k, v in (value_info or {}).items()],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 10)])
    m.ir_version = 5
    return m


def conv_rq_model(c_in: int = 4, c_out: int = 8, hw: int = 6, k: int = 3, group: int = 1) -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w = rng.integers(-5, 5, size=(c_out, c_in // group, k, k))
    nodes = [
        helper.make_node(
            "Conv",
            ["x", "w"],
            ["acc"],
            name="conv",
            kernel_shape=[k, k],
            pads=[1, 1, 1, 1],
            strides=[1, 1],
            group=group,
        ),
        helper.make_node("RequantShift", ["acc", "mul", "add"], ["y"], name="rq", **rq_attrs()),
    ]
    return model(
        nodes,
        {"x": [1, c_in, hw, hw]},
        {"y": [1, c_out, hw, hw]},
        [const("w", w), const("mul", np.full((c_out, 1, 1), 3)), const("add", np.zeros((c_out, 1, 1)))],
    )
