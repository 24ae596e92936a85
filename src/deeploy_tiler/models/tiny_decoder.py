"""The bundled default: one integer decoder layer in the operator dialect of the shared models.

iRMSNorm -> Q/K/V projections (MatMul + RequantShift) -> 4-head attention (MatMul, iSoftmax, MatMul)
-> output projection -> residual Add -> iRMSNorm -> hardswish-gated FFN (iHardswish, Mul) -> residual.
Weights come from a seeded generator, so the model is the same on every machine. Integer-op
attributes use the values of the shared microLlama models. The requantization shifts were calibrated
once with the reference interpreter on `tiny_decoder_inputs()` (the 99.5th percentile of each
accumulator lands near 90 % of the int8 range), so no stage is saturated or dead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DEFAULT_MODEL_NAME = "tiny_decoder"
# log2 of each RequantShift divisor, in graph order (see the module docstring).
_RQ_SHIFTS = (6, 6, 6, 9, 2, 12, 11, 4, 5, 17, 6, 8, 11, 4)


class _Builder:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0
        self.shifts = iter(_RQ_SHIFTS)

    def const(self, name: str, values: np.ndarray[Any, Any]) -> str:
        self.inits.append(numpy_helper.from_array(values.astype(np.float32), name))
        return name

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        return self.const(name, self.rng.integers(-64, 64, size=shape))

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        self.count += 1
        out = f"{op}_{self.count}_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.count}", **attrs))
        return out

    def requant(self, x: str, *, signed: bool = True) -> str:
        div_log2 = next(self.shifts)
        tag = f"rq{self.count + 1}"
        mul = self.const(f"{tag}.mul", np.array([int(self.rng.integers(8, 16))]))
        add = self.const(f"{tag}.add", np.array([0]))
        return self.node(
            "RequantShift",
            [x, mul, add],
            div=numpy_helper.from_array(np.array(2.0**div_log2, dtype=np.float32)),
            n_levels_out=numpy_helper.from_array(np.array([256.0], dtype=np.float32)),
            signed=numpy_helper.from_array(np.array([1.0 if signed else 0.0], dtype=np.float32)),
        )

    def linear(self, x: str, name: str, k: int, n: int) -> str:
        return self.requant(self.node("MatMul", [x, self.weight(name, (k, n))]))

    def rmsnorm(self, x: str, name: str, d: int) -> str:
        w = self.const(name, self.rng.integers(40, 100, size=(d,)))
        return self.node("iRMSNorm", [x, w], D=65536, n_levels=256)


def build_tiny_decoder(
    *, tokens: int = 8, d_model: int = 32, heads: int = 4, ffn: int = 64, seed: int = 2024
) -> onnx.ModelProto:
    b = _Builder(seed)
    hd = d_model // heads
    x = "input"
    n1 = b.rmsnorm(x, "attn_norm.weight", d_model)
    q, k, v = (b.linear(n1, f"w{p}", d_model, d_model) for p in "qkv")
    shape_heads = b.const("heads_shape", np.array([1, tokens, heads, hd]))
    qh = b.node("Transpose", [b.node("Reshape", [q, shape_heads])], perm=[0, 2, 1, 3])
    kt = b.node("Transpose", [b.node("Reshape", [k, shape_heads])], perm=[0, 2, 3, 1])
    vh = b.node("Transpose", [b.node("Reshape", [v, shape_heads])], perm=[0, 2, 1, 3])
    scores = b.requant(b.node("MatMul", [qh, kt]))
    probs = b.requant(
        b.node(
            "iSoftmax",
            [scores],
            coeffA=numpy_helper.from_array(np.array([1.0], dtype=np.float32)),
            coeffB=numpy_helper.from_array(np.array([86.0], dtype=np.float32)),
            coeffC=numpy_helper.from_array(np.array([3888.0], dtype=np.float32)),
            log2=numpy_helper.from_array(np.array([64.0], dtype=np.float32)),
            n_levels=numpy_helper.from_array(np.array([256.0], dtype=np.float32)),
        ),
        signed=False,
    )
    ctx = b.requant(b.node("MatMul", [probs, vh]))
    merged = b.node(
        "Reshape",
        [b.node("Transpose", [ctx], perm=[0, 2, 1, 3]), b.const("model_shape", np.array([1, tokens, d_model]))],
    )
    attn = b.linear(merged, "wo", d_model, d_model)
    h = b.requant(b.node("Add", [x, attn]))
    n2 = b.rmsnorm(h, "ffn_norm.weight", d_model)
    gate = b.requant(b.node("iHardswish", [b.linear(n2, "w1", d_model, ffn)], one_over_six=42, six=244, three=122))
    up = b.linear(n2, "w3", d_model, ffn)
    mixed = b.requant(b.node("Mul", [gate, up]))
    down = b.linear(mixed, "w2", ffn, d_model)
    b.requant(b.node("Add", [h, down]))
    b.nodes[-1].output[0] = "output"
    graph = helper.make_graph(
        b.nodes,
        DEFAULT_MODEL_NAME,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, tokens, d_model])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, tokens, d_model])],
        initializer=b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)], producer_name="deeploy_tiler")
    model.ir_version = 5
    return model


def tiny_decoder_inputs(*, tokens: int = 8, d_model: int = 32, seed: int = 7) -> dict[str, np.ndarray[Any, Any]]:
    rng = np.random.default_rng(seed)
    return {"input": rng.integers(-100, 100, size=(1, tokens, d_model)).astype(np.int64)}
