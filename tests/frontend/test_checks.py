"""The importers' door checks (frontend/checks.py): every bad attribute, dimension, initializer or
requantization is a typed error naming the file / node / tensor and the rule, before shape inference."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import helper, numpy_helper

import deeploy_tiler as dt
from deeploy_tiler.errors import LayerListError, ModelError, ShapeError
from deeploy_tiler.frontend import dump_layer_list, import_onnx, load_onnx

from .onnx_helpers import conv_rq_model


def _with_attr(m: onnx.ModelProto, node: str, key: str, value: Any) -> onnx.ModelProto:
    m = copy.deepcopy(m)
    n = next(n for n in m.graph.node if n.name == node)
    kept = [a for a in n.attribute if a.name != key]
    del n.attribute[:]
    n.attribute.extend([*kept, helper.make_attribute(key, value)])
    return m


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("strides", [0, 0], r"node conv \(Conv\): attribute strides must be >= 1, got \(0, 0\)"),
        ("pads", [1.5, 1.5, 1.5, 1.5], r"attribute pads must hold integers, got \(1.5"),
        ("pads", [-1, 0, 0, 0], r"attribute pads must be >= 0"),
        ("dilations", [0, 1], r"attribute dilations must be >= 1"),
        ("pads", [1, 1], r"attribute pads \(1, 1\) needs 4 values for 2 spatial dims"),
        ("group", 0, r"attribute group must be >= 1"),
        ("auto_pad", "SIDEWAYS", r"auto_pad 'SIDEWAYS' is not one of"),
        ("strides", [2**40, 1], r"attribute strides: 1099511627776 is out of range"),
    ],
)
def test_conv_attribute_rules(key: str, value: Any, match: str) -> None:
    with pytest.raises(ShapeError, match=match) as info:
        import_onnx(_with_attr(conv_rq_model(), "conv", key, value), name="t", source="m.onnx")
    assert info.value.node == "conv" and str(info.value).startswith("m.onnx: ")


def _set_input_dim(m: onnx.ModelProto, i: int, value: int | str) -> onnx.ModelProto:
    m = copy.deepcopy(m)
    d = m.graph.input[0].type.tensor_type.shape.dim[i]
    if isinstance(value, str):
        d.dim_param = value
    else:
        d.dim_value = value
    return m


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (0, r"graph input x: dimension 2 is 0 \(shape .*\); empty tensors are not supported yet"),
        (-3, r"graph input x: dimension 2 is -3; dimensions are >= 0"),
        ("N", r"graph input x: dimension 2 is symbolic or unknown"),
        (2**31, r"dimension 2 is 2147483648, above 2147483647"),
    ],
)
def test_input_dimensions(value: int | str, match: str) -> None:
    with pytest.raises(ModelError, match=match):
        import_onnx(_set_input_dim(conv_rq_model(), 2, value), name="t", source="m.onnx")


def test_initializer_dims_beyond_its_data() -> None:
    m = copy.deepcopy(conv_rq_model())
    m.graph.initializer[0].dims[0] *= 10
    with pytest.raises(ModelError, match=r"initializer w: its data does not match its dims \(80,"):
        import_onnx(m, name="t", source="m.onnx")


def test_empty_and_non_onnx_files(tmp_path: Path) -> None:
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(ModelError, match=r"the file is empty \(0 bytes\), not an ONNX model"):
        load_onnx(tmp_path / "empty.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"\x12\x00")
    with pytest.raises(ModelError, match=r"not an ONNX model|not a readable ONNX model"):
        load_onnx(tmp_path / "junk.onnx")


def test_node_arity_and_outputs() -> None:
    m = copy.deepcopy(conv_rq_model())
    del m.graph.node[0].output[:]
    with pytest.raises(ShapeError, match=r"node conv \(Conv\): must have exactly one output, got 0"):
        import_onnx(m, name="t", source="m.onnx")
    m = copy.deepcopy(conv_rq_model())
    del m.graph.node[1].input[2]
    with pytest.raises(ShapeError, match=r"node rq \(RequantShift\): takes 3 operand\(s\), got 2"):
        import_onnx(m, name="t", source="m.onnx")


def test_requant_shift_attributes() -> None:
    div3 = numpy_helper.from_array(np.array(3.0, dtype=np.float32))
    with pytest.raises(ShapeError, match=r"requant div 3 is not a power of two"):
        import_onnx(_with_attr(conv_rq_model(), "rq", "div", div3), name="t", source="m.onnx")


# --- layer lists -------------------------------------------------------------------------------------------
@pytest.fixture
def doc() -> dict[str, Any]:
    return json.loads(dump_layer_list(import_onnx(conv_rq_model(), name="t", source="t")))


def _tensor(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(t for t in doc["tensors"] if t["name"] == name)


def test_layer_list_requant_rules(doc: dict[str, Any]) -> None:
    conv = doc["nodes"][0]
    bad = copy.deepcopy(doc)
    bad["nodes"][0]["requant"]["div"] = 6
    with pytest.raises(LayerListError, match=r"requant div 6 is not a power of two"):
        dt.graph_from_layer_list(bad)
    bad = copy.deepcopy(doc)
    bad["nodes"][0]["requant"]["n_levels"] = 1000
    with pytest.raises(LayerListError, match=r"output declared int8, but requant n_levels 1000 \(signed\) gives int16"):
        dt.graph_from_layer_list(bad)
    bad = copy.deepcopy(doc)
    _tensor(bad, conv["requant"]["mul"])["dtype"] = "int8"
    with pytest.raises(LayerListError, match=r"requant mul tensor .* is declared int8; the kernels read"):
        dt.graph_from_layer_list(bad)
    bad = copy.deepcopy(doc)
    bad["nodes"][0]["requant"]["mul"] = "ghost"
    with pytest.raises(LayerListError, match=r"requant mul tensor 'ghost' is not declared"):
        dt.graph_from_layer_list(bad)


def test_layer_list_conv_without_requant_declared_int8(doc: dict[str, Any]) -> None:
    bad = copy.deepcopy(doc)
    conv = bad["nodes"][0]
    rq = conv.pop("requant")
    conv["inputs"] = [t for t in conv["inputs"] if t not in (rq["mul"], rq["add"])]
    with pytest.raises(LayerListError, match=r"output y is declared int8, but the operator produces int32"):
        dt.graph_from_layer_list(bad)


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [("pads", [-1, 0, 0, 0], r"pads must be >= 0"), ("dilations", [0, 0], r"dilations must be >= 1")],
)
def test_layer_list_attribute_rules(doc: dict[str, Any], key: str, value: Any, match: str) -> None:
    doc["nodes"][0]["attributes"][key] = value
    with pytest.raises(LayerListError, match=match):
        dt.graph_from_layer_list(doc)


def test_layer_list_zero_dimension(doc: dict[str, Any]) -> None:
    _tensor(doc, "x")["shape"][2] = 0
    with pytest.raises(LayerListError, match=r"tensor x: dimension 2 is 0 .* empty tensors are not supported yet"):
        dt.graph_from_layer_list(doc)
