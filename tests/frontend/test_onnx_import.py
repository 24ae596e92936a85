from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import helper

from deeploy_tiler.errors import ModelError, ShapeError, UnsupportedOperatorError
from deeploy_tiler.frontend import import_onnx, load_onnx
from deeploy_tiler.ir import DType, TensorKind

from .onnx_helpers import const, conv_rq_model, model, rq_attrs


def _imp(m: onnx.ModelProto, **kw: object) -> object:
    return import_onnx(m, name="t", source="t.onnx", **kw)  # type: ignore[arg-type]


def test_every_shared_model_imports(model_dirs: dict[str, Path]) -> None:
    expected_nodes = {
        "miniMobileNet": 6,
        "miniMobileNetv2": 15,
        "CNN_Linear1": 10,
        "KeywordSpotting": 12,
        "ICCT": 34,
        "microLlama1": 385,
        "microLlama8": 385,
        "microLlama64": 385,
    }
    for name, folder in model_dirs.items():
        g = load_onnx(folder / "network.onnx")
        assert len(g.nodes) == expected_nodes[name.rsplit("/", 1)[-1]], name
        assert all(t.dtype is not None for t in g.tensors.values())
        # no float anywhere, every constant integral, MACs only on contracting ops
        for t in g.constants:
            assert t.data is not None and t.data.dtype == np.int64
        assert g.total_macs == sum(n.macs for n in g.nodes if n.op_type in ("Conv", "Gemm", "MatMul"))


def test_minimobilenet_macs_and_fusion(model_dirs: dict[str, Path]) -> None:
    g = load_onnx(model_dirs["miniMobileNet"] / "network.onnx")
    assert [n.op_type for n in g.nodes] == ["Conv", "Conv", "Conv", "Conv", "Flatten", "Gemm"]
    assert all(n.requant is not None for n in g.nodes if n.op_type in ("Conv", "Gemm"))
    # 3x3 conv 3->32 stride 2 on 8x8 -> 4x4: 32*4*4 outputs * 3*3*3
    assert g.nodes[0].macs == 32 * 4 * 4 * 27
    assert g.tensor(g.nodes[0].outputs[0]).dtype in (DType.INT8, DType.UINT8)
    unfused = load_onnx(model_dirs["miniMobileNet"] / "network.onnx", fuse=False)
    assert len(unfused.nodes) == 11
    assert unfused.total_macs == g.total_macs


def test_microllama_cache_outputs_in_graph_order(model_dirs: dict[str, Path]) -> None:
    g = load_onnx(model_dirs["microLlama/INT8/microLlama8"] / "network.onnx")
    assert len(g.inputs) == 19 and len(g.outputs) == 17
    assert g.inputs[0].shape == (1, 1, 64) and g.inputs[3].shape == (1, 16, 8, 4)
    assert all(t.shape == (1, 16, 9, 4) for t in g.outputs[1:])
    assert all(t.kind is TensorKind.OUTPUT for t in g.outputs)
    assert sum(t.numel for t in g.constants if t.dtype is DType.INT8) >= 524_288


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="no such model file"):
        load_onnx(tmp_path / "nope.onnx")


def test_truncated_file(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    data = (model_dirs["miniMobileNet"] / "network.onnx").read_bytes()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(data[: len(data) // 3])
    with pytest.raises(ModelError, match=r"cut\.onnx"):
        load_onnx(bad)


def test_unknown_operators_listed_together() -> None:
    nodes = [
        helper.make_node("FooOp", ["x"], ["a"], name="f1"),
        helper.make_node("BarOp", ["a"], ["b"], name="b1"),
        helper.make_node("FooOp", ["b"], ["y"], name="f2"),
    ]
    with pytest.raises(UnsupportedOperatorError) as info:
        _imp(model(nodes, {"x": [1, 4]}, {"y": [1, 4]}))
    assert info.value.unsupported == {"BarOp": ["b1"], "FooOp": ["f1", "f2"]}
    assert "f1" in str(info.value) and "BarOp" in str(info.value)


def test_inconsistent_conv_shapes_name_the_node() -> None:
    m = conv_rq_model(c_in=4)
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 5
    with pytest.raises(ShapeError, match="conv"):
        _imp(m)


def test_declared_shape_disagreement_is_an_error() -> None:
    m = conv_rq_model()
    m.graph.value_info.append(helper.make_tensor_value_info("acc", onnx.TensorProto.FLOAT, [1, 8, 5, 5]))
    with pytest.raises(ShapeError, match=r"disagrees with the declared \(1, 8, 5, 5\)"):
        _imp(m)


def test_non_integer_initializer_rejected() -> None:
    m = conv_rq_model()
    m.graph.initializer[0].CopyFrom(const("w", np.full((8, 4, 3, 3), 0.5)))
    with pytest.raises(ModelError, match="initializer w holds non-integer"):
        _imp(m)


def test_fusion_and_dtypes() -> None:
    g = _imp(conv_rq_model())
    (node,) = g.nodes  # type: ignore[attr-defined]
    assert node.op_type == "Conv" and node.requant is not None
    assert node.requant.div == 256 and node.requant.n_levels == 256 and node.requant.signed
    assert node.inputs == ("x", "w", "mul", "add") and node.fused_nodes == ("conv", "rq")
    assert g.tensor("y").dtype is DType.INT8  # type: ignore[attr-defined]
    assert g.tensor("mul").dtype is DType.INT32 and g.tensor("w").dtype is DType.INT8  # type: ignore[attr-defined]
    assert "acc" not in g.tensors  # type: ignore[attr-defined]


def test_requant_with_two_consumers_is_not_fused() -> None:
    nodes = [
        helper.make_node("Add", ["x", "x"], ["s"], name="add"),
        helper.make_node("RequantShift", ["s", "m", "a"], ["y1"], name="rq1", **rq_attrs(signed=False)),
        helper.make_node("RequantShift", ["s", "m", "a"], ["y2"], name="rq2", **rq_attrs()),
    ]
    g = _imp(model(nodes, {"x": [1, 8]}, {"y1": [1, 8], "y2": [1, 8]}, [const("m", [1]), const("a", [0])]))
    assert [n.op_type for n in g.nodes] == ["Add", "RequantShift", "RequantShift"]  # type: ignore[attr-defined]
    assert g.tensor("s").dtype is DType.INT32 and g.tensor("y1").dtype is DType.UINT8  # type: ignore[attr-defined]


def test_edge_quantization_stripped() -> None:
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "zp"], ["q"], name="q"),
        helper.make_node("Relu", ["q"], ["r"], name="relu"),
        helper.make_node("DequantizeLinear", ["r", "s", "zp"], ["y"], name="dq"),
    ]
    inits = [
        onnx.numpy_helper.from_array(np.array(0.5, dtype=np.float32), "s"),
        onnx.numpy_helper.from_array(np.array(0, dtype=np.int8), "zp"),
    ]
    g = _imp(model(nodes, {"x": [2, 3]}, {"y": [2, 3]}, inits))
    assert [n.op_type for n in g.nodes] == ["Relu"]  # type: ignore[attr-defined]
    assert g.input_names == ("x",) and g.output_names == ("r",)  # type: ignore[attr-defined]
    assert g.tensor("x").dtype is DType.INT8  # type: ignore[attr-defined]


def test_quantize_inside_graph_rejected() -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("QuantizeLinear", ["r", "s"], ["y"], name="q_mid"),
    ]
    with pytest.raises(ModelError, match="q_mid"):
        _imp(model(nodes, {"x": [2]}, {"y": [2]}, [const("s", 0.5)]))


def test_static_operands_fold_into_attributes() -> None:
    nodes = [
        helper.make_node("Reshape", ["x", "shape"], ["r"], name="reshape"),
        helper.make_node("Transpose", ["r"], ["y"], name="tr", perm=[1, 0]),
    ]
    inits = [onnx.numpy_helper.from_array(np.array([3, -1], dtype=np.int64), "shape")]
    g = _imp(model(nodes, {"x": [2, 3, 4]}, {"y": [8, 3]}, inits))
    reshape = g.nodes[0]  # type: ignore[attr-defined]
    assert reshape.inputs == ("x",) and reshape.attr("shape") == (3, -1) and reshape.is_alias
    assert "shape" not in g.tensors  # type: ignore[attr-defined]
    assert g.tensor("y").shape == (8, 3)  # type: ignore[attr-defined]


def test_symbolic_input_shape_rejected() -> None:
    m = model([helper.make_node("Relu", ["x"], ["y"], name="r")], {"x": [1, 4]}, {"y": [1, 4]})
    m.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "batch"
    with pytest.raises(ModelError, match="symbolic"):
        _imp(m)
