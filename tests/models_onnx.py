"""Standard ONNX models for the quantized-frontend corpus, built here (never downloaded).

Float32 networks of realistic architectures with seeded random weights, and their quantized forms made
by `onnxruntime.quantization.quantize_static` (QDQ or QOperator, int8 or uint8 activations, per-tensor
or per-channel weights) with seeded random calibration data. Used by tests/frontend/test_quantized.py
and benchmarks/bench_onnx_corpus.py.
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from deeploy_tiler.frontend.ort_compare import ort_int8_matmul_is_exact

OPSET = 17


class _Builder:
    """Accumulates nodes and float32 initializers with unique names."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def name(self, base: str) -> str:
        self.count += 1
        return f"{base}_{self.count}"

    def const(self, arr: np.ndarray[Any, Any], base: str) -> str:
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(arr, n))
        return n

    def op(self, op: str, inputs: list[str], **attrs: Any) -> str:
        out = self.name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [out], name=out + "_node", **attrs))
        return out

    def conv(
        self, x: str, c_in: int, c_out: int, k: int, stride: int = 1, group: int = 1, pad: int | None = None
    ) -> str:
        fan_in = c_in // group * k * k
        w = self.rng.normal(0, np.sqrt(2.0 / fan_in), (c_out, c_in // group, k, k)).astype(np.float32)
        b = self.rng.normal(0, 0.05, c_out).astype(np.float32)
        p = k // 2 if pad is None else pad
        return self.op(
            "Conv",
            [x, self.const(w, "w"), self.const(b, "b")],
            kernel_shape=[k, k],
            strides=[stride, stride],
            pads=[p, p, p, p],
            group=group,
        )

    def relu(self, x: str) -> str:
        return self.op("Relu", [x])

    def relu6(self, x: str) -> str:
        return self.op(
            "Clip", [x, self.const(np.array(0, np.float32), "lo"), self.const(np.array(6, np.float32), "hi")]
        )

    def gemm(self, x: str, k: int, n: int) -> str:
        w = self.rng.normal(0, np.sqrt(1.0 / k), (n, k)).astype(np.float32)
        b = self.rng.normal(0, 0.05, n).astype(np.float32)
        return self.op("Gemm", [x, self.const(w, "fcw"), self.const(b, "fcb")], transB=1)

    def matmul(self, x: str, k: int, n: int) -> str:
        w = self.rng.normal(0, np.sqrt(1.0 / k), (k, n)).astype(np.float32)
        return self.op("MatMul", [x, self.const(w, "mmw")])

    def bias(self, x: str, n: int) -> str:
        return self.op("Add", [x, self.const(self.rng.normal(0, 0.05, n).astype(np.float32), "bias")])

    def model(self, name: str, inputs: list[tuple[str, list[int]]], outputs: list[str]) -> onnx.ModelProto:
        g = helper.make_graph(
            self.nodes,
            name,
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
            self.inits,
        )
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests.models_onnx")
        m.ir_version = 8
        return onnx.shape_inference.infer_shapes(m)


def mobilenet_v2(px: int = 32, width: int = 8, seed: int = 0) -> onnx.ModelProto:
    """MobileNetV2-style: stem conv, two inverted-residual blocks (one with the skip Add), GAP, classifier."""
    b = _Builder(seed)
    x = b.relu6(b.conv("input", 3, width, 3, stride=2))
    for expand, stride in ((2, 2), (2, 1)):
        e = b.relu6(b.conv(x, width, width * expand, 1))
        d = b.relu6(b.conv(e, width * expand, width * expand, 3, stride=stride, group=width * expand))
        p = b.conv(d, width * expand, width, 1)
        x = b.op("Add", [x, p]) if stride == 1 else p
    y = b.op("Flatten", [b.op("GlobalAveragePool", [x])])
    return b.model("mobilenet_v2", [("input", [1, 3, px, px])], [b.gemm(y, width, 10)])


def resnet8(px: int = 32, width: int = 8, seed: int = 1) -> onnx.ModelProto:
    """ResNet-8 (MLPerf Tiny image classification): three residual stages, AveragePool, Dense."""
    b = _Builder(seed)
    x = b.relu(b.conv("input", 3, width, 3))
    c = width
    for stage, stride in enumerate((1, 2, 2)):
        co = width * (2**stage)
        y = b.relu(b.conv(x, c, co, 3, stride=stride))
        y = b.conv(y, co, co, 3)
        skip = x if stride == 1 and c == co else b.conv(x, c, co, 1, stride=stride, pad=0)
        x = b.relu(b.op("Add", [y, skip]))
        c = co
    side = px // 4
    y = b.op("AveragePool", [x], kernel_shape=[side, side], strides=[side, side])
    y = b.op("Flatten", [y])
    return b.model("resnet8", [("input", [1, 3, px, px])], [b.gemm(y, c, 10)])


def ds_cnn(seed: int = 2, width: int = 16) -> onnx.ModelProto:
    """DS-CNN keyword spotting (MLPerf Tiny): 10x4 stem conv on a 49x10 MFCC map, depthwise-separable blocks."""
    b = _Builder(seed)
    w = b.rng.normal(0, 0.2, (width, 1, 10, 4)).astype(np.float32)
    x = b.op(
        "Conv",
        ["input", b.const(w, "w"), b.const(np.zeros(width, np.float32), "b")],
        kernel_shape=[10, 4],
        strides=[2, 2],
        pads=[5, 1, 4, 2],
    )
    x = b.relu(x)
    for _ in range(2):
        x = b.relu(b.conv(x, width, width, 3, group=width))
        x = b.relu(b.conv(x, width, width, 1))
    y = b.op("Flatten", [b.op("GlobalAveragePool", [x])])
    return b.model("ds_cnn", [("input", [1, 1, 49, 10])], [b.gemm(y, width, 12)])


def mlp_autoencoder(seed: int = 3, dims: tuple[int, ...] = (64, 32, 8, 32, 64)) -> onnx.ModelProto:
    """MLP autoencoder (MLPerf Tiny anomaly detection, scaled down): Gemm + Relu layers."""
    b = _Builder(seed)
    x = "input"
    for i, (k, n) in enumerate(itertools.pairwise(dims)):
        x = b.gemm(x, k, n)
        if i < len(dims) - 2:
            x = b.relu(x)
    return b.model("mlp_autoencoder", [("input", [1, dims[0]])], [x])


def cnn_pool_concat(seed: int = 4, width: int = 8) -> onnx.ModelProto:
    """A small inception-style CNN: MaxPool, two branches joined by Concat, Transpose + Reshape, MatMul head."""
    b = _Builder(seed)
    x = b.relu(b.conv("input", 3, width, 3))
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    left = b.relu(b.conv(x, width, width, 1))
    right = b.relu(b.conv(x, width, width, 3))
    x = b.op("Concat", [left, right], axis=1)
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.op("Transpose", [x], perm=[0, 2, 3, 1])
    x = b.op("Reshape", [x, b.const(np.array([1, -1], np.int64), "shape")])
    y = b.matmul(x, 4 * 4 * 2 * width, 10)
    return b.model("cnn_pool_concat", [("input", [1, 3, 16, 16])], [b.bias(y, 10)])


def transformer_ffn(seq: int = 8, dim: int = 16, seed: int = 5) -> onnx.ModelProto:
    """The matrix part of a transformer encoder block: projection, ReLU feed-forward, residual Add."""
    b = _Builder(seed)
    h = b.bias(b.matmul("input", dim, dim), dim)
    x = b.op("Add", ["input", h])
    f = b.relu(b.bias(b.matmul(x, dim, 2 * dim), 2 * dim))
    f = b.bias(b.matmul(f, 2 * dim, dim), dim)
    return b.model("transformer_ffn", [("input", [1, seq, dim])], [b.op("Add", [x, f])])


def se_hardswish(seed: int = 7, width: int = 8) -> onnx.ModelProto:
    """MobileNetV3-style block: HardSwish conv, squeeze-and-excite (GAP, 1x1 convs, HardSigmoid / Sigmoid, Mul)."""
    b = _Builder(seed)
    x = b.op("HardSwish", [b.conv("input", 3, width, 3, stride=2)])
    s = b.op("GlobalAveragePool", [x])
    s = b.op("HardSigmoid", [b.conv(b.relu(b.conv(s, width, width // 2, 1, pad=0)), width // 2, width, 1, pad=0)])
    x = b.op("Mul", [x, s])
    x = b.op("Sigmoid", [b.conv(x, width, width, 1, pad=0)])
    x = b.op("LeakyRelu", [b.conv(x, width, width, 3)], alpha=0.1)
    y = b.op("Flatten", [b.op("GlobalAveragePool", [x])])
    return b.model("se_hardswish", [("input", [1, 3, 16, 16])], [b.gemm(y, width, 10)])


def _batchnorm(b: _Builder, x: str, c: int) -> str:
    gamma = b.rng.uniform(0.5, 1.5, c).astype(np.float32)
    beta = b.rng.normal(0, 0.1, c).astype(np.float32)
    mean = b.rng.normal(0, 0.1, c).astype(np.float32)
    var = b.rng.uniform(0.5, 2.0, c).astype(np.float32)
    names = [b.const(v, k) for v, k in ((gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var"))]
    return b.op("BatchNormalization", [x, *names], epsilon=1e-3)


def float_mlp_bn(
    batch: int = 2, dims: tuple[int, ...] = (32, 24, 16), classes: int = 10, seed: int = 9
) -> onnx.ModelProto:
    """A plain float32 MLP with BatchNormalization after every hidden Gemm (no Conv to fold into: the float
    path makes each a per-channel scale and shift). Not in ARCHITECTURES."""
    b = _Builder(seed)
    x = "input"
    for k, n in itertools.pairwise(dims):
        x = b.relu(_batchnorm(b, b.gemm(x, k, n), n))
    return b.model("float_mlp_bn", [("input", [batch, dims[0]])], [b.gemm(x, dims[-1], classes)])


def float_cnn_bn(px: int = 12, width: int = 8, seed: int = 8) -> onnx.ModelProto:
    """A plain float32 CNN with BatchNormalization after every convolution (the float path folds them):
    conv + BN + Relu, MaxPool, depthwise conv + BN + Clip, 1x1 conv + BN + Relu, AveragePool with
    count_include_pad, GlobalAveragePool, Reshape, Gemm, MatMul + bias Add, a constant Mul and Sub.
    Not in ARCHITECTURES (the quantized corpus): the float32 tests use it as it is."""
    b = _Builder(seed)

    def bn(x: str, c: int) -> str:
        return _batchnorm(b, x, c)

    x = b.relu(bn(b.conv("input", 3, width, 3), width))
    x = b.op("MaxPool", [x], kernel_shape=[2, 2], strides=[2, 2])
    x = b.relu6(bn(b.conv(x, width, width, 3, group=width), width))
    x = b.relu(bn(b.conv(x, width, 2 * width, 1, pad=0), 2 * width))
    x = b.op("AveragePool", [x], kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    y = b.op("GlobalAveragePool", [x])
    y = b.op("Reshape", [y, b.const(np.array([1, 2 * width], np.int64), "shape")])
    y = b.relu(b.gemm(y, 2 * width, 12))
    y = b.bias(b.matmul(y, 12, 10), 10)
    y = b.op("Mul", [y, b.const(b.rng.uniform(0.5, 2.0, 10).astype(np.float32), "scale")])
    y = b.op("Sub", [y, b.const(b.rng.normal(0, 0.1, 10).astype(np.float32), "shift")])
    return b.model("float_cnn_bn", [("input", [1, 3, px, px])], [y])


ARCHITECTURES: dict[str, Callable[[], onnx.ModelProto]] = {
    "se_hardswish": se_hardswish,
    "mobilenet_v2": mobilenet_v2,
    "resnet8": resnet8,
    "ds_cnn": ds_cnn,
    "mlp_autoencoder": mlp_autoencoder,
    "cnn_pool_concat": cnn_pool_concat,
    "transformer_ffn": transformer_ffn,
}


@dataclass(frozen=True)
class QuantFormat:
    name: str
    qdq: bool
    activation_signed: bool
    per_channel: bool


FORMATS: dict[str, QuantFormat] = {
    "qdq_s8s8": QuantFormat("qdq_s8s8", True, True, False),
    "qdq_u8s8_pc": QuantFormat("qdq_u8s8_pc", True, False, True),
    "qop_u8s8": QuantFormat("qop_u8s8", False, False, False),
    "qop_s8s8_pc": QuantFormat("qop_s8s8_pc", False, True, True),
}


def input_shapes(model: onnx.ModelProto, past: int = 2) -> dict[str, list[int]]:
    """Graph input shapes; a symbolic dimension (the KV-cache length) takes `past`."""
    return {
        i.name: [int(d.dim_value) if d.HasField("dim_value") else past for d in i.type.tensor_type.shape.dim]
        for i in model.graph.input
        if i.name not in {t.name for t in model.graph.initializer}
    }


def calibration_inputs(
    model: onnx.ModelProto, n: int, seed: int, past: int = 2
) -> list[dict[str, np.ndarray[Any, Any]]]:
    rng = np.random.default_rng(seed)
    shapes = input_shapes(model, past)
    return [{k: rng.normal(0, 1, s).astype(np.float32) for k, s in shapes.items()} for _ in range(n)]


def quantize(
    model: onnx.ModelProto, fmt: QuantFormat, *, seed: int = 0, n_calib: int = 8, past: int = 2
) -> onnx.ModelProto:
    """`quantize_static` of `model` in format `fmt` with seeded random calibration data."""
    from onnxruntime.quantization import CalibrationDataReader, QuantType, quantize_static
    from onnxruntime.quantization import QuantFormat as OrtFormat

    class Reader(CalibrationDataReader):  # type: ignore[misc]
        def __init__(self) -> None:
            self.it: Iterator[dict[str, np.ndarray[Any, Any]]] = iter(calibration_inputs(model, n_calib, seed, past))

        def get_next(self) -> dict[str, np.ndarray[Any, Any]] | None:
            return next(self.it, None)

    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "float.onnx", Path(tmp) / "quant.onnx"
        onnx.save(model, src)
        quantize_static(
            str(src),
            str(dst),
            Reader(),
            quant_format=OrtFormat.QDQ if fmt.qdq else OrtFormat.QOperator,
            activation_type=QuantType.QInt8 if fmt.activation_signed else QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            per_channel=fmt.per_channel,
            # 7-bit weights where onnxruntime's u8 x s8 kernel saturates (x86 without VNNI): the oracle stays exact
            reduce_range=not ort_int8_matmul_is_exact(),
        )
        return onnx.load(str(dst))


def quantized_input(model: onnx.ModelProto, seed: int) -> dict[str, np.ndarray[Any, Any]]:
    """Random float inputs for a quantized model (its graph inputs stay float; QuantizeLinear follows)."""
    return calibration_inputs(model, 1, seed + 1000)[0]


def ort_run(model: onnx.ModelProto, feeds: dict[str, np.ndarray[Any, Any]]) -> list[np.ndarray[Any, Any]]:
    import onnxruntime as ort

    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return list(sess.run(None, feeds))


def prefill_decoder(seq: int = 8, dim: int = 16, seed: int = 6) -> onnx.ModelProto:
    """One attention layer of a decoder in prefill: the past KV cache is a graph input (length `past`,
    symbolic here; `with_past_length` fixes it) concatenated with the new keys / values, which are outputs.
    Attention scores go through a ReLU (a linear-attention variant: Softmax has no integer form yet)."""
    b = _Builder(seed)
    q = b.matmul("x", dim, dim)
    k = b.matmul("x", dim, dim)
    v = b.matmul("x", dim, dim)
    pk = b.op("Concat", ["past_k", k], axis=1)
    pv = b.op("Concat", ["past_v", v], axis=1)
    s = b.op("MatMul", [q, b.op("Transpose", [pk], perm=[0, 2, 1])])
    y = b.op("MatMul", [b.relu(s), pv])
    out = b.op("Add", ["x", b.matmul(y, dim, dim)])
    g = helper.make_graph(
        b.nodes,
        "prefill_decoder",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, seq, dim]),
            helper.make_tensor_value_info("past_k", TensorProto.FLOAT, [1, "past", dim]),
            helper.make_tensor_value_info("past_v", TensorProto.FLOAT, [1, "past", dim]),
        ],
        [helper.make_tensor_value_info(t, TensorProto.FLOAT, None) for t in (out, pk, pv)],
        b.inits,
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="tests.models_onnx")
    m.ir_version = 8
    return m


def with_past_length(model: onnx.ModelProto, past: int) -> onnx.ModelProto:
    """`model` with its symbolic `past` dimension fixed (0: an empty KV cache)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for i in m.graph.input:
        for d in i.type.tensor_type.shape.dim:
            if d.dim_param == "past":
                d.dim_value = past
    return m


QONNX_DOMAIN = "qonnx.custom_op.general"


def to_qonnx(qdq: onnx.ModelProto, *, low_bits: int = 8) -> onnx.ModelProto:
    """A QDQ model rewritten as QONNX: every QuantizeLinear (+ its DequantizeLinears) of an activation and every
    DequantizeLinear of a constant becomes one `Quant` node (8 bits; int32 biases 32 bits). With `low_bits` < 8,
    the unsigned activations whose zero point is 0 (ReLU outputs) get that many bits instead."""
    g = qdq.graph
    consts = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    dq_of: dict[str, list[onnx.NodeProto]] = {}
    for n in g.node:
        if n.op_type == "DequantizeLinear":
            dq_of.setdefault(n.input[0], []).append(n)
    rename: dict[str, str] = {}
    nodes: list[onnx.NodeProto] = []
    inits = dict(consts)
    for n in g.node:
        if n.op_type == "QuantizeLinear":
            s, z = consts[n.input[1]], consts[n.input[2]]
            signed = z.dtype == np.int8
            bits = low_bits if (not signed and int(z) == 0) else 8
            out = n.output[0] + "_f"
            for d in dq_of.get(n.output[0], []):
                rename[d.output[0]] = out
            zf, bf = n.output[0] + "_zf", n.output[0] + "_bits"
            inits[zf], inits[bf] = np.array(float(z), np.float32), np.array(float(bits), np.float32)
            nodes.append(
                helper.make_node(
                    "Quant",
                    [n.input[0], n.input[1], zf, bf],
                    [out],
                    name=n.name + "_quant",
                    domain=QONNX_DOMAIN,
                    signed=int(signed),
                    narrow=0,
                    rounding_mode="ROUND",
                )
            )
        elif n.op_type == "DequantizeLinear" and n.input[0] in consts:
            q, s = consts[n.input[0]], consts[n.input[1]].astype(np.float32)
            z = consts[n.input[2]] if len(n.input) > 2 else np.zeros_like(s, dtype=np.int8)
            axis = next((int(helper.get_attribute_value(a)) for a in n.attribute if a.name == "axis"), 1)
            shape = [1] * q.ndim
            if s.size > 1:
                shape[axis] = -1
            sb, zb = s.reshape(shape), z.astype(np.float32).reshape(shape)
            wf = ((q.astype(np.float32) - zb) * sb).astype(np.float32)
            base = n.output[0]
            inits[base + "_wf"], inits[base + "_s"] = wf, sb
            inits[base + "_zf"] = zb
            inits[base + "_bits"] = np.array(32.0 if q.dtype == np.int32 else 8.0, np.float32)
            nodes.append(
                helper.make_node(
                    "Quant",
                    [base + "_wf", base + "_s", base + "_zf", base + "_bits"],
                    [n.output[0]],
                    name=n.name + "_quant",
                    domain=QONNX_DOMAIN,
                    signed=int(q.dtype != np.uint8),
                    narrow=0,
                    rounding_mode="ROUND",
                )
            )
        elif n.op_type == "DequantizeLinear":
            continue
        else:
            nodes.append(n)
    for n in nodes:
        for i, t in enumerate(n.input):
            n.input[i] = rename.get(t, t)
    used = {t for n in nodes for t in n.input}
    outputs = [helper.make_tensor_value_info(rename.get(o.name, o.name), TensorProto.FLOAT, None) for o in g.output]
    graph = helper.make_graph(
        nodes, g.name, list(g.input), outputs, [numpy_helper.from_array(v, k) for k, v in inits.items() if k in used]
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(QONNX_DOMAIN, 1)])
    m.ir_version = 8
    return m
