"""QOperator ONNX (QLinearConv, QLinearMatMul, com.microsoft QGemm / QLinearAdd / ...) -> the integer dialect.

Each quantized operator becomes an integer accumulating node (Conv, Gemm, MatMul with zero points folded
into the weights and an int32 bias) followed by a `deeploy_tiler::RequantFloat` node that the importer fuses
into it, or a table lookup (Gather on a 256-entry constant) for 8-bit -> 8-bit functions. The result is an
ONNX model whose constants are all integers (float32 scales travel as their bit patterns), ready for the
ordinary importer. Every operator or pattern it cannot lower is collected and reported at once.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import ShapeError, UnsupportedOperatorError
from . import requant as R
from .qlowering import (
    CLAMP_HI,
    CLAMP_LO,
    PASS_THROUGH,
    QLINEAR_UNARY,
    LoweringBase,
    as_text,
    int_range,
    needed_by,
    node_attr,
    span_scalars,
)
from .shapes import explicit_pads


class _Lowering(LoweringBase):
    def qlinear_conv(self, n: onnx.NodeProto) -> None:
        x, xs, xz, w, ws, wz, ys, yz = n.input[:8]
        wv, wsv, wzv, ysv, yzv, xzv = (self.const(t) for t in (w, ws, wz, ys, yz, xz))
        if wv is None or wsv is None or ysv is None:
            return self.refuse("QLinearConv with non-constant weights or scales", n)
        bias = self.const(n.input[8]) if len(n.input) > 8 and n.input[8] else None
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute if not a.name.startswith("dt_")}
        attrs.setdefault("kernel_shape", list(wv.shape[2:]))
        m = wv.shape[0]
        acc = self.conv(
            n, x, self.scalar(xs), int(self.scalar(xz)), wv, wzv if wzv is not None else np.zeros(1), bias, attrs
        )
        scale = R.conv_scale(self.scalar(xs), np.asarray(wsv, np.float32).ravel(), self.scalar(ys))
        out_zp = yzv if yzv is not None else np.zeros((), np.uint8)
        self.requant(n, acc, scale, out_zp, (m, *([1] * (wv.ndim - 2))))
        del xzv

    def matmul_like(
        self,
        n: onnx.NodeProto,
        a: str,
        az: int,
        b: np.ndarray[Any, Any],
        bz: np.ndarray[Any, Any],
        bias: np.ndarray[Any, Any] | None,
        trans_b: bool,
        scale: np.ndarray[Any, Any],
        yz: np.ndarray[Any, Any],
    ) -> None:
        bq = b.astype(np.int64)
        bzv = np.asarray(bz, np.int64).ravel()
        bq = bq - (bzv.reshape(-1, 1) if trans_b else bzv.reshape(1, -1))
        n_out = bq.shape[0] if trans_b else bq.shape[1]
        col = bq.sum(axis=1) if trans_b else bq.sum(axis=0)
        c = (np.zeros(n_out, np.int64) if bias is None else bias.astype(np.int64).ravel()) - az * col
        acc = (n.name or n.output[0]) + "_acc"
        rank = len(self.shapes[a])
        if rank == 2:
            self.emit(
                "Gemm",
                [a, self.add_const("w", bq), self.add_const("bias", c)],
                [acc],
                n.name or acc,
                transB=int(trans_b),
            )
        else:
            bm = bq.T if trans_b else bq
            has_bias = bool(np.any(c))
            mm = acc + ("_mm" if has_bias else "")
            self.emit("MatMul", [a, self.add_const("w", bm)], [mm], (n.name or acc) + ("_mm" if has_bias else ""))
            if has_bias:
                self.emit("Add", [mm, self.add_const("bias", c)], [acc], (n.name or acc) + "_bias")
        self.requant(n, acc, scale, yz, (n_out,))

    def qlinear_matmul(self, n: onnx.NodeProto) -> None:
        a, as_, az, b, bs, bz, ys, yz = n.input[:8]
        bv, bsv, bzv, ysv, yzv = (self.const(t) for t in (b, bs, bz, ys, yz))
        if bsv is None or ysv is None or yzv is None or self.const(as_) is None:
            return self.refuse("QLinearMatMul with non-constant scales or zero points", n)
        if bv is None and self.const(a) is None:
            return self.activation_matmul(n)
        if bv is None or bv.ndim != 2:
            return self.refuse("QLinearMatMul whose B is neither an activation nor a constant matrix", n)
        scale = R.conv_scale(self.scalar(as_), np.asarray(bsv, np.float32).ravel(), self.scalar(ys))
        self.matmul_like(
            n, a, int(self.scalar(az)), bv, bzv if bzv is not None else np.zeros(1), None, False, scale, yzv
        )

    def centred(self, n: onnx.NodeProto, x: str, zp: str) -> str:
        """x - zp as an explicit Sub when the zero point is nonzero (the input itself otherwise)."""
        zv = int(self.scalar(zp))
        if not zv:
            return x
        out = f"{n.output[0]}_{x}_centred"
        self.emit("Sub", [x, self.add_const("zp", np.array([zv], np.int64))], [out], out)
        return out

    def qlinear_mul(self, n: onnx.NodeProto) -> None:
        """MLAS QLinearMul (SSE2): y = saturate(rne(float32((a - a_zp) * (b - b_zp)) * ratio + float32(c_zp))),
        ratio = (a_scale * b_scale) / c_scale; the zero point is added in float before the rounding."""
        a, as_, az, b, bs, bz, cs = n.input[:7]
        cz = self.const(n.input[7]) if len(n.input) > 7 and n.input[7] else None
        czv = cz if cz is not None else np.zeros((), np.uint8)
        ins = []
        for x, z in ((a, az), (b, bz)):
            v = self.const(x)
            if v is not None:
                ins.append(self.add_const("qmul_const", v.astype(np.int64) - int(self.scalar(z))))
            else:
                ins.append(self.centred(n, x, z))
        acc = (n.name or n.output[0]) + "_acc"
        self.emit("Mul", ins, [acc], n.name or acc)
        scale = R.conv_scale(self.scalar(as_), R.f32([self.scalar(bs)]), self.scalar(cs))
        self.requant(n, acc, scale, czv, (1,), zp_in_float=True)

    def activation_matmul(self, n: onnx.NodeProto) -> None:
        """A @ B of two activations (attention scores): (A - a_zp) @ (B - b_zp), nonzero zero points subtracted."""
        a, as_, az, b, bs, bz, ys, yz = n.input[:8]
        operands = [self.centred(n, a, az), self.centred(n, b, bz)]
        acc = (n.name or n.output[0]) + "_acc"
        self.emit("MatMul", operands, [acc], n.name or acc)
        scale = R.conv_scale(self.scalar(as_), R.f32([self.scalar(bs)]), self.scalar(ys))
        yzv = self.const(yz)
        assert yzv is not None
        self.requant(n, acc, scale, yzv, (1,))

    def qgemm(self, n: onnx.NodeProto) -> None:
        a, as_, az, b, bs, bz = n.input[:6]
        c = n.input[6] if len(n.input) > 6 else ""
        ys = n.input[7] if len(n.input) > 7 else ""
        yz = n.input[8] if len(n.input) > 8 else ""
        bv, bsv, bzv, ysv, yzv = (self.const(t) for t in (b, bs, bz, ys, yz))
        if not ys or ysv is None:
            return self.refuse("QGemm with a float output (no y_scale)", n)
        if bv is None or bsv is None or node_attr(n, "transA", 0) or float(node_attr(n, "alpha", 1.0)) != 1.0:
            return self.refuse("QGemm with non-constant B, transA or alpha != 1", n)
        cv = self.const(c) if c else None
        yzv = yzv if yzv is not None else np.zeros((), np.uint8)
        scale = R.conv_scale(self.scalar(as_), np.asarray(bsv, np.float32).ravel(), self.scalar(ys))
        trans_b = bool(node_attr(n, "transB", 0))
        self.matmul_like(
            n, a, int(self.scalar(az)), bv, bzv if bzv is not None else np.zeros(1), cv, trans_b, scale, yzv
        )

    def qlinear_add(self, n: onnx.NodeProto) -> None:
        a, as_, az, b, bs, bz, cs = n.input[:7]
        cz = n.input[7] if len(n.input) > 7 else ""
        czv = self.const(cz)
        czv = czv if czv is not None else np.zeros((), np.uint8)
        ra, rb, fixed = R.qadd_params(
            self.scalar(as_), int(self.scalar(az)), self.scalar(bs), int(self.scalar(bz)), self.scalar(cs), int(czv)
        )
        lo, hi = int_range(czv)
        ins = [a, b]
        for pos, t in enumerate(ins):
            v = self.const(t)
            if v is not None:
                ins[pos] = self.add_const("qadd_const", v.astype(np.int64))
        scalar_a, scalar_b = span_scalars(self.shapes[ins[0]], self.shapes[ins[1]])
        self.emit(
            R.QLINEAR_ADD,
            ins,
            [n.output[0]],
            n.name or n.output[0],
            ratio_a=int(R.float_bits(ra)),
            ratio_b=int(R.float_bits(rb)),
            fixed=int(R.float_bits(fixed)),
            scalar_a=scalar_a,
            scalar_b=scalar_b,
            lo=max(lo, int(node_attr(n, CLAMP_LO, lo))),
            hi=min(hi, int(node_attr(n, CLAMP_HI, hi))),
            signed=int(czv.dtype.kind == "i"),
            n_levels_out=256,
        )
        self.dtypes[n.output[0]] = np.dtype(czv.dtype)

    def pool_as_conv(self, n: onnx.NodeProto, kernel: tuple[int, ...], attrs: dict[str, Any], count: int) -> None:
        """An average of `count` values as a depthwise Conv with a kernel of ones and a requant by 1/count."""
        x, xs, xz, ys, yz = n.input[:5]
        yzv = self.const(yz)
        yzv = yzv if yzv is not None else np.zeros((), np.uint8)
        c = self.shapes[x][1]
        ones = np.ones((c, 1, *kernel), np.int64)
        acc = self.conv(
            n,
            x,
            self.scalar(xs),
            int(self.scalar(xz)),
            ones,
            np.zeros(1),
            None,
            {**attrs, "group": c, "kernel_shape": list(kernel)},
        )
        scale = R.f32(R.f32(self.scalar(xs)) / R.f32(R.f32(self.scalar(ys)) * R.f32(count)))
        self.requant(n, acc, np.full(1, scale, np.float32), yzv, (1,))

    def qlinear_gap(self, n: onnx.NodeProto) -> None:
        if node_attr(n, "channels_last", 0):
            return self.refuse("QLinearGlobalAveragePool with channels_last", n)
        spatial = self.shapes[n.input[0]][2:]
        self.pool_as_conv(n, tuple(spatial), {}, int(np.prod(spatial)))

    def qlinear_avgpool(self, n: onnx.NodeProto) -> None:
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute if not a.name.startswith("dt_")}
        kernel = tuple(int(k) for k in attrs["kernel_shape"])
        spatial = self.shapes[n.input[0]][2:]
        pads = explicit_pads(attrs, spatial, kernel)
        if attrs.get("ceil_mode", 0) or attrs.get("channels_last", 0):
            return self.refuse("QLinearAveragePool with ceil_mode or channels_last", n)
        if any(pads) and not attrs.get("count_include_pad", 0):
            return self.refuse("QLinearAveragePool with padding and count_include_pad=0 (a per-position divisor)", n)
        keep = {k: v for k, v in attrs.items() if k in ("strides", "pads", "auto_pad")}
        self.pool_as_conv(n, kernel, keep, int(np.prod(kernel)))

    def table(
        self,
        n: onnx.NodeProto,
        x: str,
        out: str,
        fn: Any,
        xs: float,
        xz: int,
        ys: float,
        yz: np.ndarray[Any, Any],
        x_dtype: np.dtype[Any],
    ) -> None:
        """y = T[x] with T[v] = quantize(fn(dequantize(v))) over all 256 codes (Gather wraps negative codes)."""
        lo, hi = int_range(yz)
        codes = np.arange(256, dtype=np.int64)
        if x_dtype.kind == "i":
            codes = np.where(codes < 128, codes, codes - 256)
        real = fn(R.dequantize_value(codes, xs, xz))
        lo = max(lo, int(node_attr(n, CLAMP_LO, lo)))  # a folded Relu / Clip / QCDQ range
        hi = min(hi, int(node_attr(n, CLAMP_HI, hi)))
        tab = R.quantize_value(real, ys, int(yz), lo, hi)
        self.emit("Gather", [self.add_const("table", tab), x], [out], (n.name or out) + "_lut", axis=0)
        self.dtypes[out] = np.dtype(yz.dtype)

    def qlinear_concat(self, n: onnx.NodeProto) -> None:
        ys, yz = self.scalar(n.input[0]), self.const(n.input[1])
        yzv = yz if yz is not None else np.zeros((), np.uint8)
        parts = []
        for i in range(2, len(n.input), 3):
            x, s, z = n.input[i : i + 3]
            if self.scalar(s) == ys and int(self.scalar(z)) == int(yzv):
                parts.append(x)
                continue
            out = f"{n.output[0]}_in{i // 3}"
            self.table(n, x, out, lambda v: v, self.scalar(s), int(self.scalar(z)), ys, yzv, self.dtype_of(x))
            parts.append(out)
        axis = int(node_attr(n, "axis", 0))
        lo, hi = int_range(yzv)
        clo, chi = max(lo, int(node_attr(n, CLAMP_LO, lo))), min(hi, int(node_attr(n, CLAMP_HI, hi)))
        if (clo, chi) == (lo, hi):
            self.emit("Concat", parts, [n.output[0]], n.name or n.output[0], axis=axis)
        else:  # a narrower output range: clamp the joined codes
            joined = n.output[0] + "_joined"
            self.emit("Concat", parts, [joined], (n.name or n.output[0]) + "_join", axis=axis)
            bounds = [self.add_const("clamp", np.array(v, np.int64)) for v in (clo, chi)]
            self.emit("Clip", [joined, *bounds], [n.output[0]], (n.name or n.output[0]) + "_clamp")
        self.dtypes[n.output[0]] = np.dtype(yzv.dtype)

    def dtype_of(self, t: str) -> np.dtype[Any]:
        return self.dtypes.get(t, np.dtype(np.uint8))

    def qlinear_unary(self, n: onnx.NodeProto) -> None:
        x, xs, xz, ys, yz = n.input[:5]
        yzv = self.const(yz)
        yzv = yzv if yzv is not None else np.zeros((), np.uint8)
        op = {"QLinearSigmoid": "Sigmoid", "QLinearLeakyRelu": "LeakyRelu"}.get(n.op_type) or as_text(
            node_attr(n, "op", b"")
        )
        fn = R.unary_float(op, node_attr(n, "alpha", None), node_attr(n, "beta", None))
        self.table(n, x, n.output[0], fn, self.scalar(xs), int(self.scalar(xz)), self.scalar(ys), yzv, self.dtype_of(x))

    # --- driver ------------------------------------------------------------------------------------
    def run(self) -> onnx.ModelProto:
        g = self.model.graph
        handlers = {
            "QLinearConv": self.qlinear_conv,
            "QLinearMatMul": self.qlinear_matmul,
            "QGemm": self.qgemm,
            "QLinearAdd": self.qlinear_add,
            "QLinearGlobalAveragePool": self.qlinear_gap,
            "QLinearAveragePool": self.qlinear_avgpool,
            "QLinearConcat": self.qlinear_concat,
            "QLinearSigmoid": self.qlinear_unary,
            "QLinearLeakyRelu": self.qlinear_unary,
            QLINEAR_UNARY: self.qlinear_unary,
            "QLinearMul": self.qlinear_mul,
        }
        poisoned: set[str] = set()  # outputs of refused nodes: their readers are not reported again
        for n in g.node:
            if n.op_type == "Constant":
                continue
            if any(t in poisoned for t in n.input) and (n.op_type in handlers or n.op_type in PASS_THROUGH):
                poisoned.update(n.output)
                continue
            before = sum(len(v) for v in self.refused.values())
            try:
                if n.op_type in handlers:
                    handlers[n.op_type](n)
                elif n.op_type == "QuantizeLinear" and n.input[0] in {i.name for i in g.input}:
                    self.nodes.append(n)
                    self.shapes[n.output[0]] = self.shapes[n.input[0]]
                    zp = self.const(n.input[2]) if len(n.input) > 2 else None
                    self.dtypes[n.output[0]] = np.dtype(zp.dtype if zp is not None else np.uint8)
                elif n.op_type == "DequantizeLinear" and n.output[0] in {o.name for o in g.output}:
                    self.nodes.append(n)
                elif n.op_type in PASS_THROUGH:
                    self.nodes.append(n)
                    self.infer(n)
                    self.dtypes[n.output[0]] = self.dtype_of(n.input[0])
                else:
                    what = f"{n.domain}::{n.op_type}" if n.domain else n.op_type
                    self.refuse(f"{what} (no integer lowering on quantized tensors)", n)
            except (KeyError, ValueError, IndexError, ShapeError) as e:
                self.refuse(f"{n.op_type}: malformed quantization parameters or shapes ({e})", n)
            if sum(len(v) for v in self.refused.values()) > before:
                poisoned.update(n.output)
        if self.refused:
            raise UnsupportedOperatorError(self.refused, path=self.source)
        consts = [n for n in g.node if n.op_type == "Constant" and needed_by(n.output[0], self.nodes)]
        keep = [i for i in g.initializer if needed_by(i.name, self.nodes)]
        inits = keep + [numpy_helper.from_array(v, k) for k, v in self.new_consts.items()]
        graph = helper.make_graph(consts + self.nodes, g.name, list(g.input), list(g.output), inits)
        out = helper.make_model(graph, opset_imports=list(self.model.opset_import))
        out.ir_version = self.model.ir_version
        return out


def lower_qoperator(model: onnx.ModelProto, *, source: str) -> onnx.ModelProto:
    """The integer-dialect model equivalent (bit-exact, see docs/onnx_quantization.md) to a QOperator model."""
    return _Lowering(model, source).run()
