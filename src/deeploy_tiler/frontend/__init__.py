"""Model import: ONNX (standard ops + the integer dialect) and the layer-list JSON."""

from .layer_list import LayerList, dump_layer_list, graph_from_layer_list, layer_list_schema, load_layer_list
from .onnx_import import SUPPORTED_OPS, graph_input_names, import_onnx, load_onnx, read_onnx

__all__ = [
    "SUPPORTED_OPS",
    "LayerList",
    "dump_layer_list",
    "graph_from_layer_list",
    "graph_input_names",
    "import_onnx",
    "layer_list_schema",
    "load_layer_list",
    "load_onnx",
    "read_onnx",
]
