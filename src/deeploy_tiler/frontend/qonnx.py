"""QONNX (`Quant` nodes, up to 8 bits; biases up to 32) -> QCDQ: QuantizeLinear -> Clip -> DequantizeLinear.

QONNX's Quant(x, scale, zeropt, bitwidth) is y = scale * (clip(round(x / scale + zeropt), lo, hi) - zeropt) with
lo, hi = [-2^(b-1) + narrow, 2^(b-1) - 1] when signed, [0, 2^b - 1 - narrow] otherwise, and round = half to even
(rounding_mode ROUND, the only mode accepted). That is QuantizeLinear (8-bit container, or int32 for a bias)
followed by an integer Clip to [lo, hi] (left out when it is the container's range) and DequantizeLinear: the
QCDQ form qonnx itself exports. A Quant of a constant is folded (its DequantizeLinear reads the integer codes),
so the QDQ pass sees standard weights; a sub-8-bit activation range becomes the clamp bounds there.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import UnsupportedOperatorError

QONNX_DOMAINS = frozenset({"qonnx.custom_op.general", "finn.custom_op.general", "onnx.brevitas"})


def is_qonnx(model: onnx.ModelProto) -> bool:
    return any(n.op_type == "Quant" and n.domain in QONNX_DOMAINS for n in model.graph.node)


def _bounds(bits: int, signed: bool, narrow: bool) -> tuple[int, int]:
    if signed:
        return -(2 ** (bits - 1)) + int(narrow), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1 - int(narrow)


def _axis(scale: np.ndarray[Any, Any], rank: int) -> tuple[np.ndarray[Any, Any], int | None]:
    """A QONNX broadcastable scale -> (1-D values, the axis they run along) for DequantizeLinear."""
    if scale.size == 1:
        return scale.reshape(()), None
    full = np.reshape(scale, (1,) * (rank - scale.ndim) + scale.shape)
    axes = [i for i, d in enumerate(full.shape) if d > 1]
    if len(axes) != 1:
        raise ValueError(f"scale of shape {scale.shape} varies along more than one axis")
    return full.reshape(-1), axes[0]


def qonnx_to_qcdq(model: onnx.ModelProto, *, source: str) -> onnx.ModelProto:
    """The QCDQ model equivalent to a QONNX model (every Quant replaced); other nodes are kept."""
    g = model.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    for n in g.node:
        if n.op_type == "Constant":
            consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    refused: dict[str, list[str]] = {}
    nodes: list[onnx.NodeProto] = []
    inits: dict[str, np.ndarray[Any, Any]] = {}
    for n in g.node:
        if n.op_type != "Quant" or n.domain not in QONNX_DOMAINS:
            nodes.append(n)
            continue
        name = n.name or n.output[0]
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        mode = attrs.get("rounding_mode", b"ROUND")
        mode = mode.decode() if isinstance(mode, bytes) else str(mode)
        x, s, z, b = n.input[:4]
        if any(t not in consts for t in (s, z, b)):
            refused.setdefault("Quant with a non-constant scale, zero point or bit width", []).append(name)
            continue
        bits_f = float(np.ravel(consts[b])[0])
        zero = np.ravel(consts[z]).astype(np.float64)
        if mode != "ROUND" or bits_f != int(bits_f) or not np.all(zero == np.round(zero)):
            refused.setdefault(f"Quant with rounding_mode {mode} or fractional bits / zero point", []).append(name)
            continue
        bits, signed, narrow = int(bits_f), bool(attrs.get("signed", 1)), bool(attrs.get("narrow", 0))
        is_const = x in consts
        if bits > (32 if is_const else 8) or (bits > 8 and not signed):
            refused.setdefault(f"Quant of {bits} bits (at most 8 for activations, 32 for constants)", []).append(name)
            continue
        lo, hi = _bounds(bits, signed, narrow)
        container: type[np.integer[Any]] = np.int32 if bits > 8 else (np.int8 if signed else np.uint8)
        rank = consts[x].ndim if is_const else 4
        try:
            scale, axis = _axis(np.asarray(consts[s], np.float32), rank)
        except ValueError as e:
            refused.setdefault(f"Quant: {e}", []).append(name)
            continue
        zp = np.asarray(np.ravel(consts[z])[0] if zero.size == 1 else zero, dtype=container).reshape(scale.shape)
        sname, zname = f"{name}_scale", f"{name}_zp"
        inits[sname], inits[zname] = scale, zp
        ax: dict[str, Any] = {} if axis is None else {"axis": axis}
        if is_const:
            shape = [1] * consts[x].ndim
            if axis is not None:
                shape[axis] = -1
            sc, zc = scale.reshape(shape), zp.astype(np.float32).reshape(shape)
            codes = np.clip(np.round(np.asarray(consts[x], np.float32) / sc + zc), lo, hi).astype(container)
            inits[f"{name}_codes"] = codes
            nodes.append(
                helper.make_node("DequantizeLinear", [f"{name}_codes", sname, zname], n.output, name=name, **ax)
            )
            continue
        if axis is not None:
            refused.setdefault("Quant of an activation with per-channel scales", []).append(name)
            continue
        q = f"{name}_q"
        nodes.append(helper.make_node("QuantizeLinear", [x, sname, zname], [q], name=name + "_quant"))
        info = np.iinfo(container)
        if (lo, hi) != (info.min, info.max):
            inits[f"{name}_lo"], inits[f"{name}_hi"] = np.array(lo, container), np.array(hi, container)
            clipped = f"{name}_clip"
            nodes.append(helper.make_node("Clip", [q, f"{name}_lo", f"{name}_hi"], [clipped], name=name + "_clip"))
            q = clipped
        nodes.append(helper.make_node("DequantizeLinear", [q, sname, zname], n.output, name=name + "_dequant"))
    if refused:
        raise UnsupportedOperatorError(refused, path=source)
    used = {t for n in nodes for t in n.input}
    keep = [i for i in g.initializer if i.name in used]
    new_inits = [numpy_helper.from_array(v, k) for k, v in inits.items()]
    graph = helper.make_graph(nodes, g.name, list(g.input), list(g.output), keep + new_inits)
    opsets = [o for o in model.opset_import if o.domain not in QONNX_DOMAINS]
    opsets = [o if o.domain or o.version >= 13 else helper.make_opsetid("", 13) for o in opsets]
    out = helper.make_model(graph, opset_imports=opsets)
    out.ir_version = max(model.ir_version, 7)
    return out
