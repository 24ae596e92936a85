"""frontend.float32: recognising a float32 graph, the operators it runs, the BatchNormalization fold,
and the import that keeps every float constant exactly (as its bit pattern)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from deeploy_tiler.errors import ModelError, UnsupportedOperatorError
from deeploy_tiler.frontend import import_onnx
from deeploy_tiler.frontend.float32 import (
    bn_scale_shift,
    check_float_ops,
    float_initializers,
    fold_batchnorm,
    fold_bn_params,
    is_float_graph,
)
from deeploy_tiler.frontend.requant import bits_float
from deeploy_tiler.ir import DType

M = pytest.importorskip("tests.models_onnx")


def _model(nodes: list[onnx.NodeProto], inits: list[onnx.TensorProto], x: list[int], y: list[int]) -> onnx.ModelProto:
    g = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, y)],
        inits,
    )
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])


def _f(arr: Any, name: str) -> onnx.TensorProto:
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def test_float_graphs_are_recognised() -> None:
    assert is_float_graph(M.resnet8())
    assert float_initializers(M.resnet8())
    # integral float weights: an integer graph, unless the caller declares a float32 input
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [], [1, 4], [1, 4])
    assert not is_float_graph(m)
    assert is_float_graph(m, {"x": DType.FLOAT32})
    g = import_onnx(m, name="g", source="g.onnx", input_dtypes={"x": DType.FLOAT32})
    assert g.tensor("y").dtype is DType.FLOAT32 and g.tensor("y").nbytes == 16


def test_every_tensor_is_float32_with_its_real_byte_size_and_exact_constants() -> None:
    model = M.resnet8()
    g = import_onnx(model, name="resnet8", source="resnet8.onnx")
    assert {t.dtype for t in g.tensors.values()} == {DType.FLOAT32}
    assert all(t.nbytes == 4 * t.numel for t in g.tensors.values())
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    consts = [t for t in g.tensors.values() if t.is_constant]
    assert len(consts) == 20  # 9 convs + the classifier, weight and bias each
    for t in consts:
        assert t.data is not None
        # the bit patterns give back the very float32 values of the model
        assert np.array_equal(bits_float(t.data).view(np.int32), inits[t.name].view(np.int32))


def test_unsupported_float_operators_are_listed_at_once() -> None:
    nodes = [
        helper.make_node("Softmax", ["x"], ["s1"], name="sm1"),
        helper.make_node("Softmax", ["s1"], ["s2"], name="sm2"),
        helper.make_node("Sigmoid", ["s2"], ["t"], name="sig"),
        helper.make_node("Mul", ["t", "w"], ["y"], name="mul"),
    ]
    m = _model(nodes, [_f(np.full((1, 4), 0.5), "w")], [1, 4], [1, 4])
    with pytest.raises(UnsupportedOperatorError, match="no float32 kernel") as err:
        check_float_ops(m, "m.onnx")
    got = {k.split(" ")[0]: v for k, v in err.value.unsupported.items()}
    assert got == {"Softmax": ["sm1", "sm2"], "Sigmoid": ["sig"]}
    with pytest.raises(UnsupportedOperatorError, match="Softmax"):
        import_onnx(m, name="m", source="m.onnx")


def test_bn_fold_formula_is_float32_step_by_step() -> None:
    rng = np.random.default_rng(0)
    w = rng.normal(size=(3, 2, 3, 3)).astype(np.float32)
    b = rng.normal(size=3).astype(np.float32)
    gamma, beta, mean = (rng.normal(size=3).astype(np.float32) for _ in range(3))
    var = rng.uniform(0.5, 2.0, 3).astype(np.float32)
    w2, b2 = fold_bn_params(w, b, gamma, beta, mean, var, 1e-5)
    assert w2.dtype == np.float32 and b2.dtype == np.float32
    for c in range(3):
        s = np.float32(gamma[c] / np.float32(np.sqrt(np.float32(var[c] + np.float32(1e-5)))))
        assert np.array_equal(w2[c], (w[c] * s).astype(np.float32))
        assert b2[c] == np.float32(np.float32(np.float32(b[c] - mean[c]) * s) + beta[c])
    _, b3 = fold_bn_params(w, None, gamma, beta, mean, var, 1e-5)  # no conv bias: b = 0
    assert np.array_equal(b3, ((np.float32(0) - mean) * (gamma / np.sqrt(var + np.float32(1e-5)))) + beta)


def test_batchnorm_folds_into_the_conv_before_it() -> None:
    model = M.float_cnn_bn()
    folded, which = fold_batchnorm(model, "m.onnx")
    assert len(which) == 3 and all(len(v) == 2 for v in which.values())
    assert not any(n.op_type == "BatchNormalization" for n in folded.graph.node)
    g = import_onnx(model, name="m", source="m.onnx")
    convs = [n for n in g.nodes if n.op_type == "Conv"]
    assert len(convs) == 3 and all(n.fused_nodes == which[n.name] for n in convs)
    assert all(len(n.inputs) == 3 for n in convs)  # the folded bias


def _bn_params(c: int) -> list[onnx.TensorProto]:
    rng = np.random.default_rng(c)
    vals = [rng.uniform(0.5, 1.5, c), rng.normal(size=c), rng.normal(size=c), rng.uniform(0.5, 2.0, c)]
    return [_f(v, n) for v, n in zip(vals, ("g", "b", "m", "v"), strict=True)]


def test_batchnorm_without_a_conv_becomes_a_scale_and_shift() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("BatchNormalization", ["r", "g", "b", "m", "v"], ["n1"], name="bn1", epsilon=1e-3),
        helper.make_node("BatchNormalization", ["n1", "g", "b", "m", "v"], ["y"], name="bn2", epsilon=1e-3),
    ]
    m = _model(nodes, _bn_params(4), [1, 4, 2, 3], [1, 4, 2, 3])
    g = import_onnx(m, name="m", source="m.onnx")
    assert [n.op_type for n in g.nodes] == ["Relu", "Mul", "Add", "Mul", "Add"]
    assert [n.fused_nodes for n in g.nodes[1:]] == [("bn1",), ("bn1",), ("bn2",), ("bn2",)]
    scale = g.tensor(g.nodes[1].inputs[1])
    assert scale.shape == (4, 1, 1) and scale.data is not None
    s, t = bn_scale_shift(*(numpy_helper.to_array(p) for p in _bn_params(4)), 1e-3)
    assert np.array_equal(bits_float(scale.data).reshape(-1), s)
    for c in range(4):  # s = gamma / sqrt(var + eps); t = beta - mean * s, each step float32
        gamma, beta, mean, var = (numpy_helper.to_array(p)[c] for p in _bn_params(4))
        sc = np.float32(gamma / np.float32(np.sqrt(np.float32(var + np.float32(1e-3)))))
        assert s[c] == sc and t[c] == np.float32(beta - np.float32(mean * sc))


def test_batchnorm_after_a_shared_conv_output_stays_standalone() -> None:
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
        helper.make_node("BatchNormalization", ["c", "g", "b", "m", "v"], ["n"], name="bn"),
        helper.make_node("Add", ["n", "c"], ["y"], name="add"),
    ]
    m = _model(nodes, [*_bn_params(2), _f(np.full((2, 2, 1, 1), 0.25), "w")], [1, 2, 2, 2], [1, 2, 2, 2])
    g = import_onnx(m, name="m", source="m.onnx")
    assert [n.op_type for n in g.nodes] == ["Conv", "Mul", "Add", "Add"]
    assert g.nodes[0].fused_nodes == ()


def test_batchnorm_in_training_mode_or_with_computed_parameters_is_refused_at_once() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["gx"], name="relu"),
        helper.make_node("BatchNormalization", ["x", "gx", "b", "m", "v"], ["n1"], name="bn1"),
        helper.make_node("BatchNormalization", ["n1", "g", "b", "m", "v"], ["y"], name="bn2", training_mode=1),
    ]
    m = _model(nodes, _bn_params(4), [1, 4], [1, 4])
    with pytest.raises(UnsupportedOperatorError) as err:
        import_onnx(m, name="m", source="m.onnx")
    got = {k: v for k, v in err.value.unsupported.items()}
    assert got == {
        "BatchNormalization with parameters that are not constants": ["bn1"],
        "BatchNormalization in training mode (one output, training_mode = 0 only)": ["bn2"],
    }


def test_bad_float_inputs_and_constants_are_typed_errors() -> None:
    m = _model([helper.make_node("Mul", ["x", "w"], ["y"])], [_f(np.full((1, 4), 0.5), "w")], [1, 4], [1, 4])
    with pytest.raises(ModelError, match="graph input x declared int8 in a float32 graph"):
        import_onnx(m, name="m", source="m.onnx", input_dtypes={"x": DType.INT8})
    inf = _model([helper.make_node("Mul", ["x", "w"], ["y"])], [_f([[0.5, np.inf, 1, 2]], "w")], [1, 4], [1, 4])
    with pytest.raises(ModelError, match="initializer w holds non-finite"):
        import_onnx(inf, name="m", source="m.onnx")
    dbl = _model(
        [helper.make_node("Mul", ["x", "w"], ["y"])],
        [numpy_helper.from_array(np.full((1, 4), 0.5, np.float64), "w")],
        [1, 4],
        [1, 4],
    )
    with pytest.raises(ModelError, match="initializer w is float64"):
        import_onnx(dbl, name="m", source="m.onnx", input_dtypes={"x": DType.FLOAT32})


def test_clip_bounds_keep_their_float_values() -> None:
    nodes = [
        helper.make_node("Mul", ["x", "w"], ["t"]),
        helper.make_node("Clip", ["t", "lo", "hi"], ["y"], name="clip"),
    ]
    inits = [_f(np.full((1, 4), 0.5), "w"), _f(-0.25, "lo"), _f(0.75, "hi")]
    g = import_onnx(_model(nodes, inits, [1, 4], [1, 4]), name="m", source="m.onnx")
    clip = g.node("clip")
    assert np.float32(clip.attr("min")) == np.float32(-0.25) and np.float32(clip.attr("max")) == np.float32(0.75)
