"""The bit-exact integer reference interpreter: runs a `Graph` node by node on int64 numpy arrays.

It is the oracle that tiling and code generation are checked against: its outputs reproduce the
shared models' `outputs.npz` exactly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ReferenceError_, UnsupportedOperatorError
from ..frontend.requant import bits_float, float_bits
from ..ir import DType, Graph, Node, Tensor
from .float32 import BIT_MOVEMENT_OPS, FLOAT_KERNELS
from .kernels import Array, as_int64, requant_shift
from .qlinear import requant_float
from .registry import FLOAT_ONLY_OPS, KERNELS


def check_supported(graph: Graph) -> None:
    """Raise `UnsupportedOperatorError` listing every node the interpreter cannot run."""
    missing: dict[str, list[str]] = {}
    for node in graph.nodes:
        if _is_float(graph, node) and node.op_type not in FLOAT_KERNELS and node.op_type not in BIT_MOVEMENT_OPS:
            missing.setdefault(f"{node.op_type} (no float32 kernel)", []).append(node.name)
        elif node.op_type not in KERNELS:
            key = node.op_type
            if node.op_type in FLOAT_ONLY_OPS:
                key = (
                    f"{node.op_type} (float operator without integer semantics; quantize it to "
                    f"{FLOAT_ONLY_OPS[node.op_type]})"
                )
            missing.setdefault(key, []).append(node.name)
    if missing:
        raise UnsupportedOperatorError(missing, path=graph.source)


def _is_float(graph: Graph, node: Node) -> bool:
    return any(graph.tensor(t).dtype.is_float for t in node.outputs)


def _validate_float_input(tensor: Tensor, value: Any) -> Array:
    arr = np.asarray(value)
    if arr.dtype.kind not in "fiub":
        raise ReferenceError_(f"input {tensor.name!r}: unsupported array dtype {arr.dtype}")
    if tuple(arr.shape) != tensor.shape:
        raise ReferenceError_(f"input {tensor.name!r}: shape {tuple(arr.shape)} != expected {tensor.shape}")
    vals = arr.astype(np.float32)
    if not np.all(np.isfinite(vals)):
        # NaN payloads differ between host FPUs and soft-float: only finite inputs are reproducible
        raise ReferenceError_(f"input {tensor.name!r}: holds values that are not finite float32 numbers")
    out = float_bits(vals)
    out.setflags(write=False)
    return out


def _validate_input(tensor: Tensor, value: Any) -> Array:
    if tensor.dtype.is_float:
        return _validate_float_input(tensor, value)
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(np.round(arr) == arr):
            raise ReferenceError_(f"input {tensor.name!r}: holds non-integer values")
    elif arr.dtype.kind not in "iub":
        raise ReferenceError_(f"input {tensor.name!r}: unsupported array dtype {arr.dtype}")
    if tuple(arr.shape) != tensor.shape:
        raise ReferenceError_(f"input {tensor.name!r}: shape {tuple(arr.shape)} != expected {tensor.shape}")
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise ReferenceError_(f"input {tensor.name!r}: values exceed the {tensor.dtype.value} range")
    out = arr.astype(np.int64)
    if out.size:
        lo, hi = int(out.min()), int(out.max())
        if not tensor.dtype.holds(lo, hi):
            raise ReferenceError_(
                f"input {tensor.name!r}: values in [{lo}, {hi}] are outside the {tensor.dtype.value} range "
                f"[{tensor.dtype.min}, {tensor.dtype.max}] (load the model with input_dtypes to change it)"
            )
    out.setflags(write=False)
    return out


def _validate_inputs(graph: Graph, inputs: Mapping[str, Any]) -> dict[str, Array]:
    unknown = [k for k in inputs if k not in graph.input_names]
    if unknown:
        raise ReferenceError_(
            f"graph {graph.name}: unknown input(s) {unknown}; the graph inputs are {list(graph.input_names)}"
        )
    missing = [k for k in graph.input_names if k not in inputs]
    if missing:
        raise ReferenceError_(f"graph {graph.name}: missing input(s) {missing}")
    return {name: _validate_input(graph.tensor(name), inputs[name]) for name in graph.input_names}


def run_node(graph: Graph, node: Node, values: Mapping[str, Array]) -> Array:
    """Execute one node (with its fused RequantShift, if any) on the given tensor values."""
    names = node.inputs[:-2] if node.requant is not None else node.inputs

    def value(name: str) -> Array | None:
        if not name:
            return None
        if name in values:
            return values[name]
        data = graph.tensor(name).data
        if data is None:
            raise ReferenceError_(f"node {node.name}: input {name!r} has no value")
        return data

    operands = [value(t) for t in names]
    kernel = FLOAT_KERNELS[node.op_type] if _is_float(graph, node) and node.op_type in FLOAT_KERNELS else None
    try:
        y = (kernel or KERNELS[node.op_type])(operands, node.attrs)
        rq = node.requant
        if rq is not None:
            m, a = value(rq.mul), value(rq.add)
            assert m is not None and a is not None
            if rq.mode in ("float", "float_zp"):
                y = requant_float(y, m, a, *rq.bounds, zp_in_float=rq.mode == "float_zp")
            else:
                y = requant_shift(y, m, a, div=rq.div, n_levels=rq.n_levels, signed=rq.signed)
    except ValueError as e:
        raise ReferenceError_(f"node {node.name} ({node.op_type}): {e}") from None
    return as_int64(y)


def reference_run(
    graph: Graph, inputs: Mapping[str, Any], *, keep_intermediates: bool = False
) -> dict[str, np.ndarray[Any, Any]]:
    """Run `graph` on `inputs` (graph input name -> integer array) with exact integer arithmetic.

    Returns the graph outputs in graph order (int64 arrays; float32 arrays for the FLOAT32 tensors of a
    float32 graph, whose inputs are float values); with `keep_intermediates`, every non-constant tensor
    instead: the graph inputs first, then each node's outputs in execution order.
    Raises `ReferenceError_` naming the tensor for a missing or unknown input, a wrong shape or values
    outside the input's dtype range, `UnsupportedOperatorError` for operators without a kernel.
    """
    check_supported(graph)
    values: dict[str, Array] = dict(_validate_inputs(graph, inputs))
    for node in graph.nodes:
        if len(node.outputs) != 1:
            raise ReferenceError_(
                f"node {node.name} ({node.op_type}): {len(node.outputs)} outputs; "
                "only single-output nodes are supported"
            )
        y = run_node(graph, node, values)
        out = graph.tensor(node.outputs[0])
        if tuple(y.shape) != out.shape:
            raise ReferenceError_(
                f"node {node.name} ({node.op_type}): computed shape {tuple(y.shape)} for "
                f"{out.name!r} differs from the graph's {out.shape}"
            )
        y.setflags(write=False)
        values[out.name] = y
    keys = list(values) if keep_intermediates else list(graph.output_names)
    return {k: _public(graph.tensor(k).dtype, values[k]) for k in keys}


def _public(dtype: DType, v: Array) -> np.ndarray[Any, Any]:
    """The caller's view of a value: float32 numbers for FLOAT32 (held as bit patterns inside)."""
    return np.array(bits_float(v)) if dtype.is_float else np.array(v, dtype=np.int64)
