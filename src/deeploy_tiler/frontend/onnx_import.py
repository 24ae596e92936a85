"""ONNX -> `Graph`: parsing, operator check, static-operand folding, shape and dtype inference,
Q/DQ stripping at the graph edges, RequantShift fusion."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import ModelError, ShapeError, UnsupportedOperatorError
from ..ir import AttrValue, DType, Graph, Node, Tensor, TensorKind
from .checks import check_dims, check_node_attributes, check_tensor_proto
from .dtypes import INT32_CONST_OPERANDS, output_dtype
from .empty import prune_empty
from .float32 import check_float_constant, check_float_ops, fold_batchnorm, is_float_graph
from .fusion import fuse_requant
from .macs import node_macs
from .qdq import lower_quantized
from .requant import DOMAIN as DT_DOMAIN
from .requant import float_bits
from .shapes import SHAPE_RULES, explicit_pads

KNOWN_DOMAINS = frozenset({"", "ai.onnx", "PACTOps", DT_DOMAIN})
EDGE_ONLY_OPS = frozenset({"QuantizeLinear", "DequantizeLinear"})
SUPPORTED_OPS = frozenset(SHAPE_RULES) | EDGE_ONLY_OPS | {"Constant"}

# Constant operands that are really parameters: folded into attributes (input index -> attribute).
STATIC_OPERANDS: dict[str, dict[int, str]] = {
    "Reshape": {1: "shape"},
    "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"},
    "Squeeze": {1: "axes"},
    "Unsqueeze": {1: "axes"},
    "Pad": {1: "pads", 2: "constant_value"},
    "Clip": {1: "min", 2: "max"},
}


def _attr_value(value: Any) -> AttrValue:
    """ONNX attribute -> plain value; tensor attributes (QuantLib stores scalars so) become numbers."""
    if isinstance(value, onnx.TensorProto):
        value = numpy_helper.to_array(value)
    if isinstance(value, np.ndarray):
        flat = value.ravel().tolist()
        if value.ndim == 0 or (value.size == 1 and value.ndim <= 1):
            return _attr_value(flat[0])
        return tuple(_attr_value(v) for v in flat)  # type: ignore[return-value]
    if isinstance(value, bytes):
        return value.decode()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list | tuple):
        return tuple(_attr_value(v) for v in value)  # type: ignore[return-value]
    if isinstance(value, int | float | str):
        return value
    raise TypeError(f"unsupported attribute value {value!r}")


def _integer_array(name: str, arr: np.ndarray[Any, Any], source: str) -> np.ndarray[Any, np.dtype[np.int64]]:
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(np.round(arr) == arr):
            raise ModelError(
                f"{source}: initializer {name} holds non-integer values; only integer networks are supported",
                path=source,
            )
    elif arr.dtype.kind not in "iub":
        raise ModelError(f"{source}: initializer {name} has unsupported dtype {arr.dtype}", path=source)
    return arr.astype(np.int64)


def _declared_shapes(graph: onnx.GraphProto) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for vi in (*graph.value_info, *graph.output, *graph.input):
        dims = vi.type.tensor_type.shape.dim
        if dims and all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims):
            shapes[vi.name] = tuple(int(d.dim_value) for d in dims)
    return shapes


def import_onnx(
    model: onnx.ModelProto,
    *,
    name: str,
    source: str,
    input_dtypes: Mapping[str, DType] | None = None,
    fuse: bool = True,
) -> Graph:
    for init in model.graph.initializer:  # malformed data is reported before the quantized lowering reads it
        check_tensor_proto(source, init.name, init.dims, partial(numpy_helper.to_array, init))
    model = lower_quantized(model, source=source)  # QDQ / QOperator / QONNX -> the integer dialect
    float_graph = is_float_graph(model, input_dtypes)  # plain float32 network: values as float32 bits
    folded: dict[str, tuple[str, ...]] = {}
    if float_graph:
        check_float_ops(model, source)
        model, folded = fold_batchnorm(model, source)
    g = model.graph
    # --- operator check: every unsupported operator at once --------------------------------------
    unsupported: dict[str, list[str]] = {}
    for i, n in enumerate(g.node):
        if n.op_type not in SUPPORTED_OPS or n.domain not in KNOWN_DOMAINS:
            key = f"{n.domain}::{n.op_type}" if n.domain else n.op_type
            unsupported.setdefault(key, []).append(n.name or f"#{i}")
    if unsupported:
        raise UnsupportedOperatorError(unsupported, path=source)

    consts: dict[str, np.ndarray[Any, np.dtype[np.int64]]] = {}
    raw_float_consts: dict[str, np.ndarray[Any, Any]] = {}
    for init in g.initializer:
        raw_float_consts[init.name] = check_tensor_proto(
            source, init.name, init.dims, partial(numpy_helper.to_array, init)
        )
    for n in g.node:
        if n.op_type == "Constant":
            if len(n.output) != 1 or len(n.attribute) != 1 or not n.attribute[0].HasField("t"):
                raise ModelError(
                    f"{source}: Constant node {n.name}: needs one output and a tensor `value`", path=source
                )
            t = n.attribute[0].t
            raw_float_consts[n.output[0]] = check_tensor_proto(
                source, n.output[0], t.dims, partial(numpy_helper.to_array, t)
            )

    for n in g.node:
        if n.op_type in EDGE_ONLY_OPS and (len(n.input) < 2 or len(n.output) != 1):
            raise ModelError(f"{source}: {n.op_type} node {n.name}: needs x, scale and one output", path=source)
    # Q/DQ only at the edges: the integer side becomes the graph's input / output.
    used_as_qparam = {t for n in g.node if n.op_type in EDGE_ONLY_OPS for t in n.input[1:]}
    for cname, arr in raw_float_consts.items():
        if float_graph and arr.dtype.kind == "f":
            check_float_constant(cname, arr, source)
            consts[cname] = float_bits(arr)
        elif cname not in used_as_qparam:
            consts[cname] = _integer_array(cname, arr, source)

    graph_inputs = [i.name for i in g.input if i.name not in raw_float_consts]
    graph_outputs = [o.name for o in g.output]
    declared = _declared_shapes(g)
    rename: dict[str, str] = {}
    edge_in_dtype: dict[str, DType] = {}
    body = []
    for n in g.node:
        if n.op_type == "Constant":
            continue
        if n.op_type == "QuantizeLinear":
            if n.input[0] not in graph_inputs:
                raise ModelError(
                    f"{source}: QuantizeLinear node {n.name} is inside the graph; only "
                    "graph-edge quantization is supported",
                    path=source,
                    node=n.name,
                )
            zp = raw_float_consts.get(n.input[2]) if len(n.input) > 2 else None
            edge_in_dtype[n.input[0]] = DType.INT8 if zp is not None and zp.dtype == np.int8 else DType.UINT8
            rename[n.output[0]] = n.input[0]
            continue
        if n.op_type == "DequantizeLinear":
            if n.output[0] not in graph_outputs:
                raise ModelError(
                    f"{source}: DequantizeLinear node {n.name} is inside the graph; only "
                    "graph-edge dequantization is supported",
                    path=source,
                    node=n.name,
                )
            graph_outputs[graph_outputs.index(n.output[0])] = n.input[0]
            continue
        body.append(n)

    # --- nodes: names, attributes, folded operands, shapes ------------------------------------------
    shapes: dict[str, tuple[int, ...]] = {k: tuple(int(d) for d in v.shape) for k, v in consts.items()}
    for gi in g.input:
        if gi.name in graph_inputs:
            dims = [d.dim_value if d.HasField("dim_value") else None for d in gi.type.tensor_type.shape.dim]
            shapes[gi.name] = check_dims(source, "graph input", gi.name, dims, allow_empty=True)
    dtypes: dict[str, DType] = {}
    for t in graph_inputs:
        dtypes[t] = (input_dtypes or {}).get(t, DType.FLOAT32 if float_graph else edge_in_dtype.get(t, DType.INT8))
        if float_graph and dtypes[t] is not DType.FLOAT32:
            raise ModelError(
                f"{source}: graph input {t} declared {dtypes[t].value} in a float32 graph (float32 only)", path=source
            )
    const_roles: dict[str, set[tuple[str, int]]] = {}
    nodes: list[Node] = []
    seen_names: set[str] = set()
    for idx, n in enumerate(body):
        node_name = n.name or f"{n.op_type}_{idx}"
        while node_name in seen_names:
            node_name += "_"
        seen_names.add(node_name)
        try:
            attrs: dict[str, AttrValue] = {a.name: _attr_value(helper.get_attribute_value(a)) for a in n.attribute}
        except (TypeError, ValueError) as e:
            raise ModelError(
                f"{source}: node {node_name}: unsupported attribute ({e})", path=source, node=node_name
            ) from None
        inputs = [rename.get(t, t) for t in n.input]
        for pos, attr_name in STATIC_OPERANDS.get(n.op_type, {}).items():
            if pos < len(inputs) and inputs[pos]:
                if inputs[pos] not in consts:
                    raise ModelError(
                        f"{source}: node {node_name}: operand {pos} ({attr_name}) must be a constant",
                        path=source,
                        node=node_name,
                    )
                static = consts[inputs[pos]]
                if float_graph and raw_float_consts[inputs[pos]].dtype.kind == "f":
                    static = raw_float_consts[inputs[pos]].astype(np.float32)  # Clip bounds: float values
                attrs[attr_name] = _attr_value(static)
                if attr_name in ("shape", "axes", "pads", "starts", "ends", "steps"):
                    v = attrs[attr_name]
                    attrs[attr_name] = v if isinstance(v, tuple) else (v,)  # type: ignore[assignment]
        inputs = [t for pos, t in enumerate(inputs) if pos not in STATIC_OPERANDS.get(n.op_type, {})]
        for pos, t in enumerate(inputs):
            if t and t not in shapes:
                raise ModelError(
                    f"{source}: node {node_name}: input {t!r} is not defined before it", path=source, node=node_name
                )
            if t in consts:
                const_roles.setdefault(t, set()).add((n.op_type, pos))
        in_shapes = [shapes[t] for t in inputs if t]
        check_node_attributes(f"{source}: ", node_name, n.op_type, attrs, in_shapes, len(n.output))
        if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "") and n.op_type in ("Conv", "MaxPool", "AveragePool"):
            # Downstream stages only know explicit pads.
            kernel_attr = attrs.get("kernel_shape", in_shapes[1][2:] if n.op_type == "Conv" else ())
            kernel = tuple(int(k) for k in kernel_attr) if isinstance(kernel_attr, tuple) else ()
            attrs["pads"] = explicit_pads(attrs, in_shapes[0][2:], kernel)
            del attrs["auto_pad"]
        try:
            out_shapes = SHAPE_RULES[n.op_type](node_name, attrs, in_shapes)
        except ShapeError as e:
            raise ShapeError(f"{source}: {e}", node=node_name) from None
        except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
            raise ShapeError(
                f"{source}: node {node_name} ({n.op_type}): malformed attributes or operands "
                f"({e.__class__.__name__}: {e})",
                node=node_name,
            ) from None
        outputs = list(n.output)
        for t, s in zip(outputs, out_shapes, strict=True):
            if t in declared and declared[t] != s:
                raise ShapeError(
                    f"{source}: node {node_name} ({n.op_type}): inferred output shape {s} for "
                    f"{t} disagrees with the declared {declared[t]}",
                    node=node_name,
                )
            shapes[t] = s
        nodes.append(
            Node(
                name=node_name,
                op_type=n.op_type,
                inputs=tuple(inputs),
                outputs=tuple(outputs),
                attributes=tuple(sorted(attrs.items())),
                domain=n.domain,
                macs=node_macs(n.op_type, attrs, in_shapes, out_shapes),
                fused_nodes=folded.get(n.name, ()),
            )
        )

    # --- dtypes: constants by role and value range, activations by operator rule ---------------------
    for cname, roles in const_roles.items():
        arr = consts[cname]
        if float_graph:
            dtypes[cname] = DType.FLOAT32
            continue
        lo, hi = (int(arr.min()), int(arr.max())) if arr.size else (0, 0)
        dt = DType.smallest_holding(lo, hi, allow_unsigned=False)
        if roles & INT32_CONST_OPERANDS and DType.INT32.holds(lo, hi):
            dt = DType.INT32 if dt.itemsize < 4 else dt
        dtypes[cname] = dt
    for node in nodes:
        in_dts = [dtypes[t] for t in node.inputs if t]
        dt = DType.FLOAT32 if float_graph else output_dtype(node.op_type, node.attrs, in_dts)
        for t in node.outputs:
            dtypes[t] = dt

    tensors: dict[str, Tensor] = {}
    for t in graph_inputs:
        tensors[t] = Tensor(t, shapes[t], dtypes[t], TensorKind.INPUT)
    for t in const_roles:
        tensors[t] = Tensor(t, shapes[t], dtypes[t], TensorKind.CONSTANT, consts[t])
    outs = set(graph_outputs)
    for node in nodes:
        for t in node.outputs:
            kind = TensorKind.OUTPUT if t in outs else TensorKind.ACTIVATION
            tensors[t] = Tensor(t, shapes[t], dtypes[t], kind)
    missing = [t for t in graph_outputs if t not in tensors]
    if missing:
        raise ModelError(f"{source}: graph outputs {missing} are produced by no node", path=source)
    nodes = prune_empty(nodes, tensors, tuple(graph_outputs))
    used = {t for n in nodes for t in n.inputs} | {t for n in nodes for t in n.outputs} | set(graph_inputs)
    tensors = {k: v for k, v in tensors.items() if k in used}
    if fuse:
        nodes, tensors = fuse_requant(nodes, tensors, tuple(graph_outputs))
    return Graph(
        name=name,
        tensors=tensors,
        nodes=tuple(nodes),
        input_names=tuple(graph_inputs),
        output_names=tuple(graph_outputs),
        source=source,
    )


def read_onnx(path: str | Path) -> tuple[onnx.ModelProto, str]:
    """The parsed model and its name (the folder's name for the shared layout `<name>/network.onnx`)."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p}: no such model file", path=str(p))
    if p.stat().st_size == 0:
        raise ModelError(f"{p}: the file is empty (0 bytes), not an ONNX model", path=str(p))
    try:
        model = onnx.load(str(p))
    except Exception as e:  # protobuf raises several unrelated types for a corrupt file
        raise ModelError(f"{p}: not a readable ONNX model ({e.__class__.__name__}: {e})", path=str(p)) from None
    if not model.HasField("graph") or not model.ir_version:
        raise ModelError(f"{p}: not an ONNX model (no ir_version or graph in the file)", path=str(p))
    if not model.graph.node:
        raise ModelError(f"{p}: the ONNX graph has no nodes", path=str(p))
    return model, p.parent.name if p.stem == "network" else p.stem


def graph_input_names(model: onnx.ModelProto) -> tuple[str, ...]:
    """Graph inputs in order, without the initializers old exporters also list as inputs."""
    inits = {i.name for i in model.graph.initializer}
    return tuple(i.name for i in model.graph.input if i.name not in inits)


def load_onnx(path: str | Path, *, input_dtypes: Mapping[str, DType] | None = None, fuse: bool = True) -> Graph:
    model, name = read_onnx(path)
    return import_onnx(model, name=name, source=str(path), input_dtypes=input_dtypes, fuse=fuse)
