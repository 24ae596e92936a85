"""frontend.empty: zero-length tensors are pruned, and an output computed from nothing is a typed error."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import helper

from deeploy_tiler.errors import ModelError
from deeploy_tiler.frontend import import_onnx

from .onnx_helpers import const, model, rq_attrs


def _conv_rq_pool(batch: int) -> object:
    w = np.ones((4, 4, 1, 1), np.float32)
    nodes = [
        helper.make_node(
            "Conv", ["x", "w"], ["acc"], name="conv", kernel_shape=[1, 1], pads=[0, 0, 0, 0], strides=[1, 1]
        ),
        helper.make_node("RequantShift", ["acc", "mul", "add"], ["r"], name="rq", **rq_attrs()),
        helper.make_node("MaxPool", ["r"], ["y"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
    ]
    inits = [const("w", w), const("mul", np.full((1, 4, 1, 1), 3.0)), const("add", np.zeros((1, 4, 1, 1)))]
    return model(nodes, {"x": [batch, 4, 2, 2]}, {"y": [batch, 4, 1, 1]}, inits)


def test_output_computed_from_an_empty_input_is_named() -> None:
    with pytest.raises(ModelError, match=r"node pool: input 'r' has 0 elements .* graph output 'y' is empty") as err:
        import_onnx(_conv_rq_pool(0), name="empty", source="empty.onnx")
    assert err.value.node == "pool"


def test_same_graph_with_data_imports() -> None:
    graph = import_onnx(_conv_rq_pool(1), name="full", source="full.onnx")
    assert [n.op_type for n in graph.nodes] == ["Conv", "MaxPool"]  # the requant fused into the conv
