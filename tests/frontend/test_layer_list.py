from __future__ import annotations

import json
from pathlib import Path

import pytest

from deeploy_tiler.errors import LayerListError
from deeploy_tiler.frontend import dump_layer_list, import_onnx, load_layer_list, load_onnx
from deeploy_tiler.frontend.layer_list import LayerList, graph_from_layer_list, layer_list_schema
from deeploy_tiler.ir import Node

from .onnx_helpers import conv_rq_model

REPO = Path(__file__).resolve().parents[2]


def test_round_trip_of_a_real_model(tmp_path: Path, model_dirs: dict[str, Path]) -> None:
    g = load_onnx(model_dirs["miniMobileNetv2"] / "network.onnx")
    path = tmp_path / "layers.json"
    path.write_text(dump_layer_list(g))
    g2 = load_layer_list(path)

    def key(n: Node) -> tuple[object, ...]:  # the layer list does not carry ONNX provenance (fused_nodes, domain)
        return (n.name, n.op_type, n.inputs, n.outputs, n.attributes, n.requant and n.requant.div, n.macs)

    assert [key(n) for n in g2.nodes] == [key(n) for n in g.nodes]
    assert [n.requant is None for n in g2.nodes] == [n.requant is None for n in g.nodes]
    assert g2.input_names == g.input_names and g2.output_names == g.output_names
    assert all(g.tensors[k].same_as(g2.tensors[k]) for k in g.tensors)


def test_shapes_are_checked_not_trusted(tmp_path: Path) -> None:
    doc = json.loads(dump_layer_list(import_onnx(conv_rq_model(), name="t", source="t")))
    for t in doc["tensors"]:
        if t["name"] == "y":
            t["shape"] = [1, 8, 5, 5]
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(LayerListError, match=r"node conv: output y declared \(1, 8, 5, 5\)"):
        load_layer_list(path)


def test_schema_errors_name_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(
        json.dumps(
            {
                "name": "x",
                "tensors": [{"name": "a", "shape": [1], "dtype": "float32", "kind": "input"}],
                "nodes": [],
                "inputs": [],
                "outputs": [],
            }
        )
    )
    with pytest.raises(LayerListError, match=r"tensors\.0\.dtype"):
        load_layer_list(path)


def test_undeclared_tensor_and_unknown_op() -> None:
    doc = LayerList.model_validate(
        {
            "name": "x",
            "inputs": ["a"],
            "outputs": ["b"],
            "tensors": [
                {"name": "a", "shape": [4], "dtype": "int8", "kind": "input"},
                {"name": "b", "shape": [4], "dtype": "int8", "kind": "output"},
            ],
            "nodes": [{"name": "n", "op": "Relu", "inputs": ["a", "zz"], "outputs": ["b"]}],
        }
    )
    with pytest.raises(LayerListError, match="tensor 'zz' is not declared"):
        graph_from_layer_list(doc)
    doc2 = doc.model_copy(update={"nodes": [doc.nodes[0].model_copy(update={"op": "Warp", "inputs": ["a"]})]})
    with pytest.raises(LayerListError, match="unsupported operator 'Warp'"):
        graph_from_layer_list(doc2)


def test_published_schema_is_current() -> None:
    published = json.loads((REPO / "schemas" / "layer_list.schema.json").read_text())
    assert published == layer_list_schema()
