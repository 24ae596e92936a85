"""The shared machinery of the QOperator lowering (`qoperator.py`): constants, emitted nodes with their shapes,
the fused float32 requantization and the zero-point-folding integer Conv."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from . import requant as R
from .shapes import SHAPE_RULES, explicit_pads

QOPERATOR_OPS = frozenset(
    {
        "QLinearConv",
        "QLinearMatMul",
        "QGemm",
        "QLinearAdd",
        "QLinearAveragePool",
        "QLinearGlobalAveragePool",
        "QLinearConcat",
        "QLinearSigmoid",
        "QLinearLeakyRelu",
        "QLinearMul",
        "QLinearUnary",
        "MatMulInteger",
        "ConvInteger",
    }
)
# Operators that move 8-bit data without arithmetic: they run unchanged on the quantized tensors.
PASS_THROUGH = frozenset(
    {"MaxPool", "Reshape", "Flatten", "Transpose", "Squeeze", "Unsqueeze", "Slice", "Identity", "Concat", "Pad", "Clip"}
)
_STATIC = {"Reshape": {1: "shape"}, "Slice": {1: "starts", 2: "ends", 3: "axes", 4: "steps"}}
_STATIC |= {"Squeeze": {1: "axes"}, "Unsqueeze": {1: "axes"}, "Pad": {1: "pads", 2: "constant_value"}}
_STATIC |= {"Clip": {1: "min", 2: "max"}}
# Private attributes the QDQ pass puts on a quantized node: clamp bounds of a folded Relu / Clip.
CLAMP_LO, CLAMP_HI = "dt_clamp_lo", "dt_clamp_hi"
# A QDQ element-wise float operator without a quantized onnxruntime form (attribute `op`): a table.
QLINEAR_UNARY = "QLinearUnary"


def is_qoperator(model: onnx.ModelProto) -> bool:
    return any(n.op_type in QOPERATOR_OPS for n in model.graph.node)


def int_range(arr: np.ndarray[Any, Any]) -> tuple[int, int]:
    info = np.iinfo(arr.dtype)
    return int(info.min), int(info.max)


class LoweringBase:
    """State of one lowering: the ONNX constants, the integer-dialect nodes emitted so far and their shapes."""

    def __init__(self, model: onnx.ModelProto, source: str) -> None:
        self.model = model
        self.source = source
        g = model.graph
        self.consts: dict[str, np.ndarray[Any, Any]] = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        for n in g.node:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        self.used_consts: set[str] = set()
        self.new_consts: dict[str, np.ndarray[Any, Any]] = {}
        self.nodes: list[onnx.NodeProto] = []
        self.shapes: dict[str, tuple[int, ...]] = {}
        self.dtypes: dict[str, np.dtype[Any]] = {}  # the 8-bit type of every quantized activation
        self.refused: dict[str, list[str]] = {}
        for gi in g.input:
            dims = gi.type.tensor_type.shape.dim
            self.shapes[gi.name] = tuple(int(d.dim_value) for d in dims)
        self.count = 0

    # --- helpers ---------------------------------------------------------------------------------
    def refuse(self, what: str, node: onnx.NodeProto) -> None:
        self.refused.setdefault(what, []).append(node.name or node.op_type)

    def const(self, name: str) -> np.ndarray[Any, Any] | None:
        if not name:
            return None
        if name in self.consts:
            self.used_consts.add(name)
            return self.consts[name]
        return self.new_consts.get(name)

    def add_const(self, base: str, arr: np.ndarray[Any, Any]) -> str:
        self.count += 1
        name = f"{base}__dt{self.count}"
        self.new_consts[name] = np.asarray(arr)
        self.shapes[name] = tuple(int(d) for d in np.shape(arr))
        return name

    def emit(self, op: str, inputs: Sequence[str], outputs: Sequence[str], name: str, **attrs: Any) -> None:
        domain = R.DOMAIN if op in (R.REQUANT_FLOAT, R.QLINEAR_ADD) else ""
        node = helper.make_node(op, list(inputs), list(outputs), name=name, domain=domain, **attrs)
        self.nodes.append(node)
        self.infer(node)

    def infer(self, node: onnx.NodeProto) -> None:
        attrs: dict[str, Any] = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        static = _STATIC.get(node.op_type, {})
        ins = []
        for pos, t in enumerate(node.input):
            if pos in static:
                v = self.const(t)
                if v is not None:
                    attrs[static[pos]] = tuple(int(e) for e in np.ravel(v))
            elif t:
                ins.append(self.shapes[t])
        if node.op_type == R.REQUANT_FLOAT:
            outs = [ins[0]]
        elif node.op_type == R.QLINEAR_ADD:
            outs = SHAPE_RULES["Add"](node.name, attrs, ins)
        else:
            outs = SHAPE_RULES[node.op_type](node.name, attrs, ins)
        for t, s in zip(node.output, outs, strict=True):
            self.shapes[t] = s

    def scalar(self, name: str, default: float = 0.0) -> float:
        v = self.const(name)
        if v is None:
            return default
        if v.size != 1:
            raise ValueError(f"{name} must be a scalar")
        return float(v.ravel()[0])

    def requant(
        self,
        node: onnx.NodeProto,
        acc: str,
        scale: np.ndarray[Any, Any],
        y_zp: np.ndarray[Any, Any],
        shape: tuple[int, ...],
        *,
        zp_in_float: bool = False,
    ) -> None:
        lo, hi = int_range(y_zp)
        lo = max(lo, int(node_attr(node, CLAMP_LO, lo)))
        hi = min(hi, int(node_attr(node, CLAMP_HI, hi)))
        scale_bits = R.float_bits(scale).reshape(shape if scale.size > 1 else (1,))
        zp = np.asarray(y_zp, np.int64).reshape(1)
        self.emit(
            R.REQUANT_FLOAT,
            [acc, self.add_const("rq_scale", scale_bits), self.add_const("rq_zp", zp)],
            [node.output[0]],
            (node.name or node.output[0]) + "_rq",
            lo=lo,
            hi=hi,
            signed=int(y_zp.dtype.kind == "i"),
            n_levels_out=256,
            zp_in_float=int(zp_in_float),
        )
        self.dtypes[node.output[0]] = np.dtype(y_zp.dtype)

    # --- operators --------------------------------------------------------------------------------
    def conv(
        self,
        n: onnx.NodeProto,
        x: str,
        xs: float,
        xz: int,
        w: np.ndarray[Any, Any],
        wz: np.ndarray[Any, Any],
        bias: np.ndarray[Any, Any] | None,
        attrs: dict[str, Any],
    ) -> str:
        """Integer Conv of (x - xz) * (w - wz) + bias; a nonzero xz with padding pads with xz explicitly."""
        m = w.shape[0]
        wq = w.astype(np.int64) - np.asarray(wz, np.int64).reshape(-1, *([1] * (w.ndim - 1)))
        b = np.zeros(m, np.int64) if bias is None else bias.astype(np.int64)
        spatial = self.shapes[x][2:]
        pads = explicit_pads(attrs, spatial, tuple(w.shape[2:]))
        attrs = {k: v for k, v in attrs.items() if k not in ("auto_pad", "pads")}
        if xz != 0 and any(pads):
            nsp = len(spatial)
            full = [0, 0, *pads[:nsp], 0, 0, *pads[nsp:]]
            padded = (n.name or n.output[0]) + "_pad"
            self.emit(
                "Pad",
                [
                    x,
                    self.add_const("pads", np.array(full, np.int64)),
                    self.add_const("pad_value", np.array(xz, np.int64)),
                ],
                [padded],
                padded,
            )
            x, pads = padded, tuple(0 for _ in pads)
        b = b - xz * wq.reshape(m, -1).sum(axis=1)
        acc = (n.name or n.output[0]) + "_acc"
        self.emit(
            "Conv",
            [x, self.add_const("w", wq), self.add_const("bias", b)],
            [acc],
            n.name or acc,
            pads=list(pads),
            **attrs,
        )
        return acc


def span_scalars(sa: tuple[int, ...], sb: tuple[int, ...]) -> tuple[int, int]:
    """Whether A / B is one value per innermost run of the broadcast loop (MLAS's scalar paths)."""
    rank = max(len(sa), len(sb))
    a = [1] * (rank - len(sa)) + list(sa)
    b = [1] * (rank - len(sb)) + list(sb)
    while a and a[-1] == 1 and b[-1] == 1:
        a.pop()
        b.pop()
    if not a:
        return 0, 0
    return int(a[-1] == 1 and b[-1] > 1), int(b[-1] == 1 and a[-1] > 1)


def as_text(v: Any) -> str:
    return v.decode() if isinstance(v, bytes) else str(v)


def needed_by(name: str, nodes: Sequence[onnx.NodeProto]) -> bool:
    return any(name in n.input for n in nodes)


def node_attr(node: onnx.NodeProto, name: str, default: Any) -> Any:
    for a in node.attribute:
        if a.name == name:
            return helper.get_attribute_value(a)
    return default
