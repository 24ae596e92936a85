"""Layer-list JSON: a plain description of a network for compilers that have no ONNX.

The document is a `LayerList` (schema in `schemas/layer_list.schema.json`). Shapes of node outputs
are checked against the same shape rules the ONNX importer uses; MACs are derived, never trusted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema

from ..errors import LayerListError, ModelError, ShapeError
from ..ir import AttrValue, DType, Graph, Node, Requant, Tensor, TensorKind
from .checks import check_dims, check_node_attributes, check_requant
from .dtypes import output_dtype
from .macs import node_macs
from .shapes import SHAPE_RULES

LAYER_LIST_VERSION: Literal["1.0"] = "1.0"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _integer_dtype(dt: DType) -> DType:
    if dt.is_float:
        raise ValueError("float32 tensors come through ONNX (a float32 graph); the layer list is integer")
    return dt


# The layer list describes integer networks: every dtype but FLOAT32.
IntegerDType = Annotated[
    DType,
    AfterValidator(_integer_dtype),
    WithJsonSchema(
        {
            "type": "string",
            "enum": [d.value for d in DType if not d.is_float],
            "description": "integer element type",
        }
    ),
]


class LayerTensor(_Frozen):
    name: str
    shape: list[int] = Field(description="dimensions, outermost first")
    dtype: IntegerDType
    kind: TensorKind
    data: list[int] | None = Field(default=None, description="constants only: values in row-major order")


class LayerRequant(_Frozen):
    mul: str = Field(description="constant tensor: multiplier, scalar or per output channel")
    add: str = Field(description="constant tensor: offset, scalar or per output channel")
    div: int = Field(gt=0, description="power-of-two divisor")
    n_levels: int = Field(gt=1)
    signed: bool


class LayerNode(_Frozen):
    name: str
    op: str = Field(description="operator type, ONNX spelling (Conv, Gemm, MatMul, RequantShift, iSoftmax, ...)")
    inputs: list[str]
    outputs: list[str]
    attributes: dict[str, int | float | str | list[int] | list[float]] = Field(default_factory=dict)
    requant: LayerRequant | None = Field(default=None, description="fused requantization of the output")


class LayerList(_Frozen):
    schema_version: Literal["1.0"] = LAYER_LIST_VERSION
    name: str
    tensors: list[LayerTensor]
    nodes: list[LayerNode] = Field(description="in execution (topological) order")
    inputs: list[str]
    outputs: list[str]


def _attr(v: Any) -> AttrValue:
    return tuple(v) if isinstance(v, list) else v


def graph_from_layer_list(doc: LayerList, *, source: str = "<layer list>") -> Graph:
    tensors: dict[str, Tensor] = {}
    for lt in doc.tensors:
        if lt.name in tensors:
            raise LayerListError(f"{source}: tensor {lt.name!r} defined twice", path=source)
        try:
            check_dims(source, "tensor", lt.name, lt.shape)
        except ModelError as e:
            raise LayerListError(str(e), path=source) from None
        data = None
        if lt.data is not None:
            if lt.kind is not TensorKind.CONSTANT:
                raise LayerListError(f"{source}: tensor {lt.name!r} has data but is not a constant", path=source)
            arr = np.asarray(lt.data, dtype=np.int64)
            if arr.size != int(np.prod(lt.shape, dtype=np.int64)):
                raise LayerListError(
                    f"{source}: tensor {lt.name!r}: {arr.size} values for shape {lt.shape}", path=source
                )
            if arr.size and not lt.dtype.holds(int(arr.min()), int(arr.max())):
                raise LayerListError(f"{source}: tensor {lt.name!r}: values outside {lt.dtype}", path=source)
            data = arr.reshape(lt.shape)
        tensors[lt.name] = Tensor(lt.name, tuple(lt.shape), lt.dtype, lt.kind, data)
    nodes = []
    for n in doc.nodes:
        if n.op not in SHAPE_RULES:
            raise LayerListError(f"{source}: node {n.name}: unsupported operator {n.op!r}", path=source, node=n.name)
        for t in (*n.inputs, *n.outputs):
            if t not in tensors:
                raise LayerListError(f"{source}: node {n.name}: tensor {t!r} is not declared", path=source, node=n.name)
        attrs = {k: _attr(v) for k, v in n.attributes.items()}
        base_inputs = [t for t in n.inputs if not (n.requant and t in (n.requant.mul, n.requant.add))]
        in_shapes = [tensors[t].shape for t in base_inputs]
        try:
            check_node_attributes("", n.name, n.op, attrs, in_shapes, len(n.outputs))
            if n.requant is not None:
                _check_requant(n, tensors)
            out_shapes = SHAPE_RULES[n.op](n.name, attrs, in_shapes)
            _check_out_dtypes(n, attrs, [tensors[t].dtype for t in base_inputs], tensors)
        except ShapeError as e:
            raise LayerListError(f"{source}: {e}", path=source, node=n.name) from None
        except (KeyError, IndexError, TypeError, ValueError, ZeroDivisionError, OverflowError) as e:
            raise LayerListError(
                f"{source}: node {n.name} ({n.op}): malformed attributes ({e})", path=source, node=n.name
            ) from None
        for t, s in zip(n.outputs, out_shapes, strict=True):
            if tensors[t].shape != s:
                raise LayerListError(
                    f"{source}: node {n.name}: output {t} declared {tensors[t].shape}, operator gives {s}",
                    path=source,
                    node=n.name,
                )
        rq = None
        if n.requant:
            rq = Requant(
                mul=n.requant.mul,
                add=n.requant.add,
                div=n.requant.div,
                n_levels=n.requant.n_levels,
                signed=n.requant.signed,
                source_node=n.name,
            )
            inputs = [*base_inputs, n.requant.mul, n.requant.add]
        else:
            inputs = list(n.inputs)
        nodes.append(
            Node(
                name=n.name,
                op_type=n.op,
                inputs=tuple(inputs),
                outputs=tuple(n.outputs),
                attributes=tuple(sorted(attrs.items())),
                requant=rq,
                macs=node_macs(n.op, attrs, in_shapes, out_shapes),
            )
        )
    try:
        return Graph(
            name=doc.name,
            tensors=tensors,
            nodes=tuple(nodes),
            input_names=tuple(doc.inputs),
            output_names=tuple(doc.outputs),
            source=source,
        )
    except LayerListError:
        raise
    except Exception as e:  # Graph's own consistency errors, re-labelled with the document
        raise LayerListError(f"{source}: {e}", path=source) from None


def _check_requant(n: LayerNode, tensors: Mapping[str, Tensor]) -> None:
    """A fused requant's tensors are declared int32 constants listed last in the node's inputs, and its
    div / n_levels / signed match the declared dtype of the output."""
    rq = n.requant
    assert rq is not None
    for role, t in (("mul", rq.mul), ("add", rq.add)):
        if t not in tensors:
            raise ShapeError(f"node {n.name}: requant {role} tensor {t!r} is not declared", node=n.name)
        if not tensors[t].is_constant:
            raise ShapeError(f"node {n.name}: requant {role} tensor {t!r} must be a constant", node=n.name)
        if tensors[t].dtype is not DType.INT32:
            raise ShapeError(
                f"node {n.name}: requant {role} tensor {t!r} is declared {tensors[t].dtype.value}; the kernels "
                "read requantization parameters as int32",
                node=n.name,
            )
    if list(n.inputs[-2:]) != [rq.mul, rq.add]:
        raise ShapeError(
            f"node {n.name}: inputs {n.inputs} must end with the requant tensors [{rq.mul!r}, {rq.add!r}]",
            node=n.name,
        )
    out = tensors[n.outputs[0]].dtype if n.outputs and n.outputs[0] in tensors else None
    check_requant("", n.name, div=rq.div, n_levels=rq.n_levels, signed=rq.signed, out_dtype=out)


def _check_out_dtypes(
    n: LayerNode, attrs: Mapping[str, Any], in_dtypes: list[DType], tensors: Mapping[str, Tensor]
) -> None:
    """Without a requant, each output must be declared with the dtype its operator produces (a Conv's int32
    accumulators declared int8 would be truncated by nothing)."""
    if n.requant is not None:
        return
    try:
        want = output_dtype(n.op, attrs, in_dtypes)
    except (KeyError, IndexError, ValueError):
        return  # an operator without a fixed dtype rule (checked by its own kernel)
    for t in n.outputs:
        if tensors[t].dtype is not want:
            raise ShapeError(
                f"node {n.name} ({n.op}): output {t} is declared {tensors[t].dtype.value}, but the operator "
                f"produces {want.value}" + (" (add a requant to narrow it)" if want is DType.INT32 else ""),
                node=n.name,
            )


def layer_list_from_graph(graph: Graph, *, include_data: bool = True) -> LayerList:
    tensors = [
        LayerTensor(
            name=t.name,
            shape=list(t.shape),
            dtype=t.dtype,
            kind=t.kind,
            data=t.data.ravel().tolist() if include_data and t.data is not None else None,
        )
        for t in graph.tensors.values()
    ]
    nodes = []
    for n in graph.nodes:
        rq = None
        if n.requant:
            r = n.requant
            rq = LayerRequant(mul=r.mul, add=r.add, div=r.div, n_levels=r.n_levels, signed=r.signed)
        attrs = {k: list(v) if isinstance(v, tuple) else v for k, v in n.attributes}
        nodes.append(
            LayerNode(
                name=n.name, op=n.op_type, inputs=list(n.inputs), outputs=list(n.outputs), attributes=attrs, requant=rq
            )
        )
    return LayerList(
        name=graph.name, tensors=tensors, nodes=nodes, inputs=list(graph.input_names), outputs=list(graph.output_names)
    )


def load_layer_list(path: str | Path) -> Graph:
    p = Path(path)
    if not p.is_file():
        raise LayerListError(f"{p}: no such layer-list file", path=str(p))
    try:
        doc = LayerList.model_validate_json(p.read_text())
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(str(x) for x in err['loc'])}: {err['msg']}" for err in e.errors()[:5])
        raise LayerListError(f"{p}: invalid layer list: {problems}", path=str(p)) from None
    return graph_from_layer_list(doc, source=str(p))


def layer_list_schema() -> dict[str, Any]:
    return LayerList.model_json_schema()


def dump_layer_list(graph: Graph, *, include_data: bool = True) -> str:
    return json.dumps(layer_list_from_graph(graph, include_data=include_data).model_dump(mode="json"), indent=1) + "\n"
