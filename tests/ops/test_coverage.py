"""Every supported operator is covered by every registry that has to know it.

The supported operators are the frontend's shape rules (`frontend.shapes.SHAPE_RULES`: what a model may
contain). For each one, a small sample node is built and handed to each registry, which must answer for
it (not merely list its name):

* shapes (frontend.shapes) and output dtypes (frontend.dtypes.output_dtype);
* work: MACs (frontend.macs) for the MAC operators, the cluster's operation count (ops.policy) for the
  others;
* tiling geometry (ops.builders) for every operator that is not a data-free alias;
* reference kernels (reference.registry.KERNELS), run on the sample, except the float-only operators,
  which must be listed in FLOAT_ONLY_OPS (with the integer operator to use instead);
* validator rules: `validator.needed_regions` on the whole output, a box inside each operand;
* emitter lowerings: the emitter's table `emitter.lower.registry.LOWERINGS` (imported read-only) for every
  operator that is neither an alias (no code) nor float-only (refused before emission).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from deeploy_tiler.emitter.lower.registry import LOWERINGS
from deeploy_tiler.frontend.dtypes import output_dtype
from deeploy_tiler.frontend.shapes import SHAPE_RULES
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import ALIAS_OPS, AttrValue, DType, Graph
from deeploy_tiler.ops.builders import BUILDERS, node_geometry
from deeploy_tiler.ops.policy import MAC_OPS, cluster_policy
from deeploy_tiler.reference.registry import FLOAT_ONLY_OPS, KERNELS
from deeploy_tiler.validator import needed_regions
from tests.solver.graphs import single_node

I8, I32 = DType.INT8, DType.INT32
X4 = ((1, 8, 6, 6), I8, False)
ROWS = ((2, 16), I8, False)

# op -> (inputs as (shape, dtype, constant?), attributes)
SAMPLES: dict[str, tuple[list[tuple[tuple[int, ...], DType, bool]], dict[str, AttrValue]]] = {
    "Conv": ([X4, ((16, 8, 3, 3), I8, True)], {"kernel_shape": (3, 3), "pads": (1, 1, 1, 1), "strides": (1, 1)}),
    "Gemm": ([((4, 16), I8, False), ((16, 8), I8, True)], {}),
    "MatMul": ([((2, 4, 16), I8, False), ((16, 8), I8, True)], {}),
    "Add": ([X4, X4], {}),
    "Sub": ([X4, X4], {}),
    "Mul": ([X4, X4], {}),
    "MaxPool": ([X4], {"kernel_shape": (2, 2), "strides": (2, 2)}),
    "AveragePool": ([X4], {"kernel_shape": (2, 2), "strides": (2, 2)}),
    "GlobalAveragePool": ([X4], {}),
    "Flatten": ([X4], {"axis": 1}),
    "Reshape": ([X4], {"shape": (1, 288)}),
    "Transpose": ([X4], {"perm": (0, 2, 3, 1)}),
    "Concat": ([X4, X4], {"axis": 1}),
    "Gather": ([((10, 16), I8, False), ((3,), I32, True)], {"axis": 0}),
    "Slice": ([X4], {"starts": (1,), "ends": (5,), "axes": (1,)}),
    "Squeeze": ([((1, 8, 1, 6), I8, False)], {"axes": (2,)}),
    "Unsqueeze": ([((8, 6), I8, False)], {"axes": (0,)}),
    "Pad": ([X4], {"pads": (0, 0, 1, 1, 0, 0, 1, 1)}),
    "Relu": ([X4], {}),
    "Clip": ([X4], {"min": -5, "max": 5}),
    "Identity": ([X4], {}),
    "Softmax": ([ROWS], {"axis": -1}),
    "LayerNormalization": ([ROWS, ((16,), I8, True), ((16,), I8, True)], {"axis": -1}),
    "RequantShift": (
        [((1, 8, 6, 6), I32, False), ((1, 8, 1, 1), I32, True), ((1, 8, 1, 1), I32, True)],
        {"div": 256, "n_levels_out": 256, "signed": 1},
    ),
    "iSoftmax": ([ROWS], {"coeffA": 1, "coeffB": 10, "coeffC": 62, "log2": 8, "n_levels": 256}),
    "ITAMax": ([ROWS], {"n_levels": 256}),
    "iRMSNorm": ([ROWS, ((16,), I32, True)], {"D": 256, "n_levels": 256}),
    "iLayerNorm": ([ROWS, ((16,), I32, True), ((16,), I32, True)], {"D": 256, "n_levels": 256}),
    "iGELU": ([X4], {"b": -20, "one": 1000}),
    "iHardswish": ([X4], {"one_over_six": 42, "six": 200, "three": 100}),
    "TrueIntegerDiv": ([X4], {"Delta": 16384, "eps": 1, "eta": 100, "y": 3}),
    "IntegerMean": ([X4], {"axes": (2, 3), "keepdims": 1}),
    "ReduceMean": ([X4], {"axes": (2, 3), "keepdims": 1}),
}
SUPPORTED = sorted(SHAPE_RULES)
CLUSTER = load_hw("siracusa").cluster_engine


def test_every_supported_operator_has_a_sample() -> None:
    assert sorted(SAMPLES) == SUPPORTED


def _sample(op: str) -> Graph:
    inputs, attrs = SAMPLES[op]
    return single_node(op, inputs, attrs)  # runs the shape rule and the MAC count


def _arrays(op: str, graph: Graph) -> list[np.ndarray[Any, Any]]:
    rng = np.random.default_rng(0)
    out = []
    for i, name in enumerate(graph.nodes[0].inputs):
        t = graph.tensor(name)
        if op == "Gather" and i == 1:
            out.append(rng.integers(0, graph.tensor(graph.nodes[0].inputs[0]).shape[0], t.shape))
        elif t.dtype == I32 and t.is_constant:
            out.append(rng.integers(1, 100, t.shape))  # scales / norms: positive
        else:
            out.append(rng.integers(max(t.dtype.min, -100), min(t.dtype.max, 100) + 1, t.shape))
    return out


@pytest.mark.parametrize("op", SUPPORTED)
def test_operator_is_covered_by_every_registry(op: str) -> None:
    graph = _sample(op)
    node = graph.nodes[0]
    attrs = dict(node.attributes)
    out = graph.tensor(node.outputs[0])
    in_dtypes = [graph.tensor(t).dtype for t in node.inputs]
    # shapes: the rule gave a non-empty output shape; dtypes: the rule knows the operator
    assert all(d > 0 for d in out.shape)
    assert isinstance(output_dtype(op, attrs, in_dtypes), DType)

    if node.is_alias:
        assert op in ALIAS_OPS and op not in BUILDERS and op not in LOWERINGS  # data-free: no code, no tiles
    else:
        geom = node_geometry(node, graph)
        assert geom.out_shape == out.shape
        policy = cluster_policy(node, graph, geom, CLUSTER)
        if op in MAC_OPS:
            assert node.macs > 0 and policy.macs == node.macs
        else:
            assert node.macs == 0 and policy.elementwise_ops > 0
        if op in FLOAT_ONLY_OPS:
            assert op not in LOWERINGS  # refused with the integer replacement before emission
        else:
            assert op in LOWERINGS

    if op in FLOAT_ONLY_OPS:
        assert (op not in KERNELS and FLOAT_ONLY_OPS[op] in SHAPE_RULES) or " or " in FLOAT_ONLY_OPS[op]
    else:
        result = np.asarray(KERNELS[op](_arrays(op, graph), attrs))
        assert result.shape == out.shape

    whole = tuple((0, s) for s in out.shape)
    needs = needed_regions(node, graph, whole)
    for name, region in needs.items():
        shape = graph.tensor(name).shape
        assert len(region) == len(shape)
        assert all(start >= 0 and start + size <= extent for (start, size), extent in zip(region, shape, strict=True))
    assert node.inputs[0] in needs  # the data operand is always read
