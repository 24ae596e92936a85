"""QDQ ONNX -> QOperator ONNX: fold each DequantizeLinear -> op -> QuantizeLinear group into the quantized
operator onnxruntime fuses it into (QLinearConv, QLinearMatMul, QGemm, QLinearAdd, ...), so the arithmetic is
onnxruntime's. A Relu / Clip between the op and its QuantizeLinear becomes the clamp bounds of the fused node;
data-movement operators run on the quantized tensor (with a requantizing table when their input and output
scales differ). Q at the graph inputs and DQ at the graph outputs stay: the importer strips them.
`lower_quantized` chains this pass with `qoperator.lower_qoperator`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import UnsupportedOperatorError
from . import requant as R
from .float32 import float_initializers, is_float_graph
from .qlowering import CLAMP_HI, CLAMP_LO, PASS_THROUGH, QLINEAR_UNARY, QOPERATOR_OPS, is_qoperator
from .qonnx import is_qonnx, qonnx_to_qcdq
from .qoperator import lower_qoperator

MS = "com.microsoft"
# float op -> (quantized op, its domain)
FUSED = {
    "Conv": ("QLinearConv", ""),
    "MatMul": ("QLinearMatMul", ""),
    "Gemm": ("QGemm", MS),
    "Add": ("QLinearAdd", MS),
    "AveragePool": ("QLinearAveragePool", MS),
    "GlobalAveragePool": ("QLinearGlobalAveragePool", MS),
    "Concat": ("QLinearConcat", MS),
    "Sigmoid": ("QLinearSigmoid", MS),
    "LeakyRelu": ("QLinearLeakyRelu", MS),
    "Mul": ("QLinearMul", MS),
}
FUSED |= {op: (QLINEAR_UNARY, R.DOMAIN) for op in R.UNARY_TABLE_OPS - set(FUSED)}
MOVEMENT = PASS_THROUGH - {"Concat", "Pad", "Clip"}


def has_interior_qdq(model: onnx.ModelProto) -> bool:
    g = model.graph
    ins = {i.name for i in g.input}
    outs = {o.name for o in g.output}
    return any(
        (n.op_type == "QuantizeLinear" and n.input[0] not in ins)
        or (n.op_type == "DequantizeLinear" and n.output[0] not in outs)
        for n in g.node
    )


class _Fold:
    def __init__(self, model: onnx.ModelProto, source: str) -> None:
        self.model = model
        self.source = source
        g = model.graph
        self.consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
        for n in g.node:
            if n.op_type == "Constant":
                self.consts[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
        self.graph_inputs = {i.name for i in g.input}
        self.graph_outputs = {o.name for o in g.output}
        self.consumers: dict[str, list[onnx.NodeProto]] = {}
        for n in g.node:
            for t in n.input:
                self.consumers.setdefault(t, []).append(n)
        self.dq = {n.output[0]: n for n in g.node if n.op_type == "DequantizeLinear"}
        self.refused: dict[str, list[str]] = {}
        self.refused_nodes: set[str] = set()  # outputs of refused nodes (their Q / DQ are not reported again)
        self.consumed: set[int] = set()  # ids of Q/DQ nodes absorbed into a fused node
        self.out: list[onnx.NodeProto] = []
        self.quantized: set[str] = set()  # 8-bit tensors written by QOperator nodes of a mixed model
        for n in g.node:  # ... and by the QuantizeLinear of a graph input
            if n.op_type == "QuantizeLinear" and n.input[0] in self.graph_inputs:
                self.quantized.add(n.output[0])

    def refuse(self, what: str, n: onnx.NodeProto) -> None:
        self.refused.setdefault(what, []).append(n.name or n.op_type)
        self.refused_nodes.update(n.output)

    def qparams(self, dq: onnx.NodeProto) -> list[str]:
        """(q tensor, scale, zero point) of a DequantizeLinear; a missing zero point gets an explicit uint8 0."""
        zp = dq.input[2] if len(dq.input) > 2 and dq.input[2] else self.zero_point(np.uint8)
        return [dq.input[0], dq.input[1], zp]

    def zero_point(self, dtype: Any) -> str:
        name = f"dt_zero_{np.dtype(dtype).name}"
        self.consts.setdefault(name, np.zeros((), dtype))
        return name

    def output_q(self, n: onnx.NodeProto) -> tuple[onnx.NodeProto, dict[str, int], str] | None:
        """The QuantizeLinear the node's result goes to (through at most one Relu / Clip), the clamp, and the
        quantized tensor's name (a QCDQ Clip on the codes after the QuantizeLinear narrows the clamp)."""
        t = n.output[0]
        clamp: dict[str, int] = {}
        users = self.consumers.get(t, [])
        if len(users) == 1 and users[0].op_type in ("Relu", "Clip") and t not in self.graph_outputs:
            act = users[0]
            users = self.consumers.get(act.output[0], [])
            if len(users) != 1 or users[0].op_type != "QuantizeLinear" or act.output[0] in self.graph_outputs:
                return None
            q = users[0]
            scale = float(self.consts[q.input[1]].ravel()[0])
            zp_arr = self.consts[q.input[2]] if len(q.input) > 2 else np.zeros((), np.uint8)
            info = np.iinfo(zp_arr.dtype)
            zp = int(zp_arr.ravel()[0])
            lo_v, hi_v = (0.0, None) if act.op_type == "Relu" else self.clip_bounds(act)
            if lo_v is not None:
                clamp[CLAMP_LO] = int(R.quantize_value(lo_v, scale, zp, info.min, info.max))
            if hi_v is not None:
                clamp[CLAMP_HI] = int(R.quantize_value(hi_v, scale, zp, info.min, info.max))
            self.consumed.add(id(act))
        elif len(users) == 1 and users[0].op_type == "QuantizeLinear" and t not in self.graph_outputs:
            q = users[0]
        else:
            return None
        self.consumed.add(id(q))
        out = q.output[0]
        after = self.consumers.get(out, [])
        if len(after) == 1 and after[0].op_type == "Clip" and out not in self.graph_outputs:
            lo_c, hi_c = self.clip_bounds(after[0])
            if lo_c is not None:
                clamp[CLAMP_LO] = max(clamp.get(CLAMP_LO, int(lo_c)), int(lo_c))
            if hi_c is not None:
                clamp[CLAMP_HI] = min(clamp.get(CLAMP_HI, int(hi_c)), int(hi_c))
            self.consumed.add(id(after[0]))
            out = after[0].output[0]
        return q, clamp, out

    def clip_bounds(self, act: onnx.NodeProto) -> tuple[float | None, float | None]:
        def bound(i: int, attr: str) -> float | None:
            if len(act.input) > i and act.input[i]:
                return float(self.consts[act.input[i]].ravel()[0])
            for a in act.attribute:
                if a.name == attr:
                    return float(helper.get_attribute_value(a))
            return None

        return bound(1, "min"), bound(2, "max")

    def q_out(self, q: onnx.NodeProto) -> list[str]:
        zp = q.input[2] if len(q.input) > 2 and q.input[2] else self.zero_point(np.uint8)
        return [q.input[1], zp]

    def fold(self, n: onnx.NodeProto) -> None:
        op = n.op_type
        if op == "Clip" and n.input[0] in self.quantized:  # QCDQ: a clamp on the codes
            self.out.append(n)
            self.quantized.update(n.output)
            return None
        if op in QOPERATOR_OPS or (op in MOVEMENT and n.input[0] in self.quantized):
            self.out.append(n)  # a QOperator node of a mixed model (or data movement after one)
            self.quantized.update(n.output)
            return None
        ins = [t for t in n.input]
        dqs = [self.dq.get(t) for t in ins]
        if op in MOVEMENT:
            if dqs[0] is None:
                return self.refuse(f"{op} on a float tensor that no DequantizeLinear feeds", n)
            res = self.output_q(n)
            if res is None:
                return self.refuse(f"{op} whose result is not re-quantized", n)
            q, clamp, q_name = res
            xq, xs, xz = self.qparams(dqs[0])
            self.consumed.add(id(dqs[0]))
            ys, yz = self.q_out(q)
            same = np.array_equal(self.consts[xs], self.consts[ys]) and np.array_equal(self.consts[xz], self.consts[yz])
            mid = q_name if same and not clamp else q_name + "_moved"
            self.out.append(helper.make_node(op, [xq, *ins[1:]], [mid], name=n.name, **_attrs(n)))
            if clamp:  # a Relu / Clip / QCDQ range after the move: requantize (if needed) and clamp the codes
                moved, mid = mid, (q_name + "_rq" if not same else q_name + "_moved")
                if not same:
                    self.out.append(
                        helper.make_node(
                            "QLinearConcat", [ys, yz, moved, xs, xz], [mid], name=n.name + "_rq", domain=MS, axis=0
                        )
                    )
                else:
                    mid = moved
                dt = self.consts[yz].dtype
                info = np.iinfo(dt)
                bounds = []
                for key, default in ((CLAMP_LO, info.min), (CLAMP_HI, info.max)):
                    name = f"{q_name}_{key}"
                    self.consts[name] = np.array(clamp.get(key, default), dt)
                    bounds.append(name)
                self.out.append(helper.make_node("Clip", [mid, *bounds], [q_name], name=n.name + "_clamp"))
                return None
            if not same:  # a one-input QLinearConcat is a requantization
                self.out.append(
                    helper.make_node(
                        "QLinearConcat", [ys, yz, mid, xs, xz], [q_name], name=n.name + "_rq", domain=MS, axis=0
                    )
                )
            return None
        if op not in FUSED:
            return self.refuse(f"{op} (float operator without a quantized form)", n)
        operands = [t for t in ins if t]
        if any(t not in self.dq for t in operands):
            return self.refuse(f"{op} with an operand that is not dequantized (float island)", n)
        bad_axis = self.per_channel_axis_mismatch(n, [self.dq[t] for t in operands])
        if bad_axis:
            return self.refuse(bad_axis, n)
        res = self.output_q(n)
        if res is None:
            return self.refuse(f"{op} whose result is not quantized by one QuantizeLinear", n)
        q, clamp, q_name = res
        for d in dqs:
            if d is not None:
                self.consumed.add(id(d))
        qs = [self.qparams(self.dq[t]) for t in operands]
        ys, yz = self.q_out(q)
        new_op, domain = FUSED[op]
        attrs = {**_attrs(n), **clamp}
        if new_op == QLINEAR_UNARY:
            attrs["op"] = op
        if op == "Conv":
            qin = [*qs[0], *qs[1], ys, yz] + ([qs[2][0]] if len(qs) > 2 else [])
        elif op == "MatMul":
            qin = [*qs[0], *qs[1], ys, yz]
        elif op == "Gemm":
            if float(attrs.get("beta", 1.0)) != 1.0:
                return self.refuse("Gemm with beta != 1", n)
            attrs.pop("beta", None)
            qin = [*qs[0], *qs[1], qs[2][0] if len(qs) > 2 else "", ys, yz]
        elif op in ("Add", "Mul"):
            qin = [*qs[0], *qs[1], ys, yz]
        elif op == "Concat":
            qin = [ys, yz] + [t for p in qs for t in p]
        else:
            qin = [*qs[0], ys, yz]
        self.out.append(helper.make_node(new_op, qin, [q_name], name=n.name, domain=domain, **attrs))
        return None

    def per_channel_axis_mismatch(self, n: onnx.NodeProto, dqs: list[onnx.NodeProto]) -> str:
        """Per-channel scales are supported along the output channels of the weights only."""
        for pos, d in enumerate(dqs):
            if self.consts.get(d.input[1], np.zeros(1)).size <= 1:
                continue
            rank = self.consts[d.input[0]].ndim if d.input[0] in self.consts else -1
            axis = int(_attrs(d).get("axis", 1))
            axis = axis % rank if rank > 0 else axis
            want = {"Conv": 0, "MatMul": 1, "Gemm": 0 if _attrs(n).get("transB", 0) else 1}.get(n.op_type)
            if pos == 2:  # an int32 bias: one value per output channel
                continue
            if pos != 1 or want is None or axis != want:
                return (
                    f"{n.op_type} with per-channel scales along axis {axis} of operand {pos} (not its output channels)"
                )
        return ""

    def run(self) -> onnx.ModelProto:
        g = self.model.graph
        for n in g.node:
            if n.op_type in ("QuantizeLinear", "DequantizeLinear", "Constant") or id(n) in self.consumed:
                continue
            self.fold(n)
        for n in g.node:
            if n.op_type == "DequantizeLinear" and n.output[0] in self.graph_outputs:
                self.out.append(n)  # an output edge, even when interior nodes also read the tensor
                continue
            if id(n) in self.consumed or n.op_type == "Constant":
                continue
            if n.op_type == "QuantizeLinear":
                if n.input[0] in self.graph_inputs:
                    self.out.insert(0, n)
                elif n.input[0] in self.dq:  # a requantization Q(DQ(x)) written out
                    self.refuse("QuantizeLinear(DequantizeLinear(x)) requantization", n)
                else:
                    self.refuse("QuantizeLinear of a float value computed in the graph (float island)", n)
            elif n.op_type == "DequantizeLinear":
                if n.output[0] in self.graph_outputs:
                    self.out.append(n)
                elif n.input[0] not in self.consts:
                    users = [u for u in self.consumers.get(n.output[0], []) if not set(u.output) <= self.refused_nodes]
                    if users:  # readers already reported are not repeated
                        names = ", ".join(u.op_type for u in users)
                        self.refuse(f"DequantizeLinear feeding an unquantized operator ({names})", n)
        if self.refused:
            raise UnsupportedOperatorError(self.refused, path=self.source)
        used = {t for n in self.out for t in n.input}
        inits = [numpy_helper.from_array(np.asarray(v), k) for k, v in self.consts.items() if k in used]
        consts = [n for n in g.node if n.op_type == "Constant" and n.output[0] in used]
        graph = helper.make_graph(
            consts + self.out,
            g.name,
            list(g.input),
            list(g.output),
            [i for i in inits if i.name not in {c.output[0] for c in consts}],
        )
        opsets = list(self.model.opset_import)
        if not any(o.domain == MS for o in opsets):
            opsets.append(helper.make_opsetid(MS, 1))
        out = helper.make_model(graph, opset_imports=opsets)
        out.ir_version = self.model.ir_version
        return out


def _attrs(n: onnx.NodeProto) -> dict[str, Any]:
    return {a.name: helper.get_attribute_value(a) for a in n.attribute}


def qdq_to_qoperator(model: onnx.ModelProto, *, source: str) -> onnx.ModelProto:
    return _Fold(model, source).run()


def lower_quantized(model: onnx.ModelProto, *, source: str) -> onnx.ModelProto:
    """A standard quantized model (QDQ or QOperator) as an integer-dialect model; others pass unchanged."""
    if is_qonnx(model):
        model = qonnx_to_qcdq(model, source=source)
    if has_interior_qdq(model):
        model = qdq_to_qoperator(model, source=source)
    if is_qoperator(model):
        model = lower_qoperator(model, source=source)
    elif not is_float_graph(model):  # a plain float32 graph takes the float path (frontend.float32)
        _refuse_float_graph(model, source)
    return model


def _refuse_float_graph(model: onnx.ModelProto, source: str) -> None:
    """An integer-dialect network with float weights that are not integers: every node reading them, at once."""
    g = model.graph
    floats = float_initializers(model)
    if not floats:
        return
    users: dict[str, list[str]] = {}
    for n in g.node:
        for t in n.input:
            if t in floats:
                key = (
                    f"{n.op_type}: initializer {t} holds non-integer values "
                    "(float weights in an integer-dialect graph; quantize the model)"
                )
                users.setdefault(key, []).append(n.name or n.op_type)
    raise UnsupportedOperatorError(users, path=source)
