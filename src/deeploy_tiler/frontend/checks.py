"""Checks at the door of the importers (ONNX and layer list): every field an integer within its physical
range, every attribute within its operator's rules, requantization consistent with the declared dtypes.

Each check raises a typed error (`ModelError`, `ShapeError`, `LayerListError` via the importer) naming the
file, node, tensor or field and the rule, before shape inference, planning or the reference run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import ModelError, ShapeError
from ..ir import DType

__all__ = [
    "MAX_DIM",
    "MAX_ELEMENTS",
    "check_dims",
    "check_node_attributes",
    "check_requant",
    "check_tensor_proto",
]

# A dimension / tensor beyond these is not a tensor of a microcontroller network (and would overflow the
# int64 arithmetic of the cost models); a tensor of 2**40 bytes is answered as infeasible by the planner.
MAX_DIM = 2**31 - 1
MAX_ELEMENTS = 2**40
# Attribute integers (strides, pads, kernel sizes, group, axis, ...) beyond this are nonsense.
_MAX_ATTR = 2**31 - 1
# Slice bounds may be INT64_MAX ("to the end") as exporters write them.
_UNBOUNDED_ATTRS = frozenset({"starts", "ends"})
_WINDOW_OPS = frozenset({"Conv", "MaxPool", "AveragePool"})
_AUTO_PADS = ("NOTSET", "", "SAME_UPPER", "SAME_LOWER", "VALID")
# Operand counts (after static operands are folded into attributes): (min, max).
_ARITY: dict[str, tuple[int, int]] = {
    **dict.fromkeys(("Conv", "Gemm"), (2, 3)),
    **dict.fromkeys(("MatMul", "Add", "Sub", "Mul", "Gather"), (2, 2)),
    "RequantShift": (3, 3),
    **dict.fromkeys(
        ("MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Transpose", "Slice", "Squeeze"),
        (1, 1),
    ),
    **dict.fromkeys(("Unsqueeze", "Pad", "Relu", "Clip", "Identity", "IntegerMean"), (1, 1)),
    "ReduceMean": (1, 2),
}
_LEVELED = frozenset({"iSoftmax", "ITAMax", "Softmax", "iRMSNorm", "iLayerNorm", "LayerNormalization"})


def _fail(where: str, node: str, op: str, msg: str) -> ShapeError:
    return ShapeError(f"{where}node {node} ({op}): {msg}", node=node)


def check_dims(source: str, what: str, name: str, dims: Sequence[int | None]) -> tuple[int, ...]:
    """A declared shape (None: symbolic / unknown) as positive ints, or a ModelError saying which rule
    a dimension breaks: negative, zero (empty tensors are not supported yet), symbolic, or too large."""
    out = []
    for i, d in enumerate(dims):
        if d is None:
            raise ModelError(
                f"{source}: {what} {name}: dimension {i} is symbolic or unknown; fix the dimensions before planning",
                path=source,
            )
        if d < 0:
            raise ModelError(f"{source}: {what} {name}: dimension {i} is {d}; dimensions are >= 0", path=source)
        if d == 0:
            raise ModelError(
                f"{source}: {what} {name}: dimension {i} is 0 (shape {tuple(dims)}); empty tensors are not "
                "supported yet",
                path=source,
            )
        if d > MAX_DIM:
            raise ModelError(f"{source}: {what} {name}: dimension {i} is {d}, above {MAX_DIM}", path=source)
        out.append(int(d))
    numel = 1
    for d in out:
        numel *= d
    if numel > MAX_ELEMENTS:
        raise ModelError(
            f"{source}: {what} {name}: shape {tuple(out)} has {numel} elements, above {MAX_ELEMENTS}", path=source
        )
    return tuple(out)


def check_tensor_proto(source: str, name: str, dims: Sequence[int], to_array: Callable[[], Any]) -> Any:
    """The array of an initializer / Constant after checking its declared dims, or a ModelError when the
    dims are negative, absurd, or do not match the data stored (`to_array` raises on a mismatch)."""
    if any(d < 0 for d in dims):
        raise ModelError(f"{source}: initializer {name}: negative dimension in {tuple(dims)}", path=source)
    numel = 1
    for d in dims:
        numel *= int(d)
    if numel > MAX_ELEMENTS:
        raise ModelError(f"{source}: initializer {name}: {tuple(dims)} has {numel} elements", path=source)
    try:
        return to_array()
    except Exception as e:  # onnx's numpy_helper raises ValueError / TypeError / others on inconsistent data
        raise ModelError(
            f"{source}: initializer {name}: its data does not match its dims {tuple(dims)} or type "
            f"({e.__class__.__name__}: {str(e).splitlines()[0] if str(e) else ''})",
            path=source,
        ) from None


def _ints(where: str, node: str, op: str, key: str, value: Any, *, lo: int | None = None) -> tuple[int, ...]:
    vals = value if isinstance(value, tuple | list) else (value,)
    for v in vals:
        if isinstance(v, bool) or not isinstance(v, int | np.integer):
            raise _fail(where, node, op, f"attribute {key} must hold integers, got {value!r}")
        if key not in _UNBOUNDED_ATTRS and abs(int(v)) > _MAX_ATTR:
            raise _fail(where, node, op, f"attribute {key}: {v} is out of range (|value| <= {_MAX_ATTR})")
        if lo is not None and v < lo:
            raise _fail(where, node, op, f"attribute {key} must be >= {lo}, got {value!r}")
    return tuple(int(v) for v in vals)


def _flag(where: str, node: str, op: str, attrs: Mapping[str, Any], key: str) -> None:
    if key not in attrs:
        return
    v = attrs[key]
    if isinstance(v, bool | float) or v not in (0, 1):
        raise _fail(where, node, op, f"attribute {key} must be 0 or 1, got {v!r}")


def _check_window(where: str, node: str, op: str, attrs: Mapping[str, Any], ins: Sequence[tuple[int, ...]]) -> None:
    if not ins or len(ins[0]) < 3:
        raise _fail(where, node, op, f"input must have rank >= 3 (N, C, spatial...), got {ins[0] if ins else None}")
    n = len(ins[0]) - 2
    if "kernel_shape" in attrs:
        kernel = _ints(where, node, op, "kernel_shape", attrs["kernel_shape"], lo=1)
    elif op == "Conv" and len(ins) > 1:
        kernel = tuple(ins[1][2:])
    else:
        raise _fail(where, node, op, "attribute kernel_shape is missing")
    if len(kernel) != n:
        raise _fail(where, node, op, f"kernel_shape {kernel} has {len(kernel)} dims, the input {n} spatial dims")
    for key, lo, count in (("strides", 1, n), ("dilations", 1, n), ("pads", 0, 2 * n)):
        if key in attrs:
            vals = _ints(where, node, op, key, attrs[key], lo=lo)
            if len(vals) != count:
                raise _fail(where, node, op, f"attribute {key} {vals} needs {count} values for {n} spatial dims")
    mode = attrs.get("auto_pad", "NOTSET")
    if mode not in _AUTO_PADS:
        raise _fail(where, node, op, f"auto_pad {mode!r} is not one of {', '.join(m for m in _AUTO_PADS if m)}")
    if mode.startswith("SAME"):
        # onnxruntime refuses SAME with dilation (its pads would need the dilated kernel).
        dil = tuple(attrs.get("dilations", (1,) * n))
        if any(d != 1 for d in dil):
            raise _fail(where, node, op, f"auto_pad {mode} with dilations {dil} is not supported (use explicit pads)")
    if op == "Conv":
        _ints(where, node, op, "group", attrs.get("group", 1), lo=1)
        return
    _flag(where, node, op, attrs, "ceil_mode")
    _flag(where, node, op, attrs, "count_include_pad")
    pads = tuple(attrs.get("pads", (0,) * (2 * n)))
    for i in range(n):
        if pads[i] >= kernel[i] or pads[i + n] >= kernel[i]:
            # onnxruntime's rule: a pad as wide as the kernel makes windows that read only padding.
            raise _fail(where, node, op, f"pads {pads} must be smaller than the kernel {kernel} (dim {i})")


def check_node_attributes(
    where: str,
    node: str,
    op: str,
    attrs: Mapping[str, Any],
    in_shapes: Sequence[tuple[int, ...]],
    n_outputs: int = 1,
) -> None:
    """Every attribute of the node within its operator's rules (types, ranges, lengths), and its operand
    and result counts, before shape inference; `where` prefixes the message (e.g. "model.onnx: ")."""
    lo, hi = _ARITY.get(op, (1, 64))
    if not lo <= len(in_shapes) <= hi:
        want = f"{lo}" if lo == hi else f"{lo} to {hi}"
        raise _fail(where, node, op, f"takes {want} operand(s), got {len(in_shapes)}")
    if n_outputs != 1:
        raise _fail(where, node, op, f"must have exactly one output, got {n_outputs}")
    for key in ("kernel_shape", "strides", "dilations", "pads", "perm", "axes", "shape", "starts", "ends", "steps"):
        if key in attrs:
            _ints(where, node, op, key, attrs[key])
    for key in ("group", "axis", "keepdims", "transA", "transB", "ceil_mode", "count_include_pad", "storage_order"):
        if key in attrs:
            _ints(where, node, op, key, attrs[key])
    if op in _WINDOW_OPS:
        _check_window(where, node, op, attrs, in_shapes)
    elif op == "Gemm":
        _flag(where, node, op, attrs, "transA")
        _flag(where, node, op, attrs, "transB")
        for key in ("alpha", "beta"):
            if key in attrs:
                _ints(where, node, op, key, attrs[key])
    elif op == "Pad":
        _ints(where, node, op, "pads", attrs.get("pads", ()), lo=0)
    elif op == "Slice" and any(int(s) == 0 for s in _ints(where, node, op, "steps", attrs.get("steps", ()))):
        raise _fail(where, node, op, f"Slice steps {attrs['steps']} contain 0")
    elif op == "Reshape":
        _ints(where, node, op, "shape", attrs.get("shape", ()), lo=-1)
    elif op in ("ReduceMean", "IntegerMean"):
        _flag(where, node, op, attrs, "keepdims")
    elif op == "RequantShift":
        check_requant(
            where,
            node,
            div=attrs.get("div"),
            n_levels=attrs.get("n_levels_out"),
            signed=attrs.get("signed", 1),
            out_dtype=None,
        )
    if op in _LEVELED and "n_levels" in attrs:
        _ints(where, node, op, "n_levels", attrs["n_levels"], lo=2)
        if int(attrs["n_levels"]) > 2**32:
            raise _fail(where, node, op, f"n_levels {attrs['n_levels']} exceeds 2**32")


def check_requant(where: str, node: str, *, div: Any, n_levels: Any, signed: Any, out_dtype: DType | None) -> None:
    """Requantization parameters: `div` a positive power of two, `n_levels` in [2, 2**32], `signed` 0/1,
    and (when the output's dtype is declared) the dtype exactly the one n_levels / signed give."""
    op = "RequantShift"
    (d,) = _ints(where, node, op, "div", div, lo=1) if div is not None else (None,)
    if d is None:
        raise _fail(where, node, op, "requantization needs a div")
    if d & (d - 1):
        raise _fail(where, node, op, f"requant div {d} is not a power of two (the kernels shift by log2(div))")
    if n_levels is None:
        raise _fail(where, node, op, "requantization needs n_levels")
    (lv,) = _ints(where, node, op, "n_levels", n_levels, lo=2)
    if lv > 2**32:
        raise _fail(where, node, op, f"requant n_levels {lv} exceeds 2**32")
    if signed not in (0, 1, True, False) or isinstance(signed, float):
        raise _fail(where, node, op, f"requant signed must be 0 or 1, got {signed!r}")
    if out_dtype is not None:
        want = DType.from_levels(lv, bool(signed))
        if want is not out_dtype:
            kind = "signed" if signed else "unsigned"
            raise _fail(
                where,
                node,
                op,
                f"output declared {out_dtype.value}, but requant n_levels {lv} ({kind}) gives {want.value}",
            )
