"""Stacked integer decoders (Llama-style) in the operator dialect of the shared models.

Per layer: iRMSNorm -> Q/K/V projections (MatMul + RequantShift) -> multi-head attention (MatMul,
iSoftmax, MatMul) -> output projection -> residual Add -> iRMSNorm -> hardswish-gated FFN (iHardswish,
Mul) -> down projection -> residual Add. Optionally a final iRMSNorm and a vocabulary head, one GEMM or
`head_chunks` column chunks joined by a Concat (a chunk's weights are staged from L3 whole, so a head
larger than L2 streams chunk by chunk).

Decode (`kv_len > 0`): one token; each layer's key / value cache is a graph input `past_k.L` /
`past_v.L` of shape [1, heads, kv_len, head_dim]; the new token's key / value is appended by a Concat
on the sequence axis, and the grown caches `present_k.L` / `present_v.L` are graph outputs (the
shape of the shared microLlama models). Prefill (`kv_len == 0`): `tokens` tokens attend to each other
(no causal mask: the dialect has no masking operator).

Weights come from a seeded generator. Requantization is calibrated when the model is built: the graph
is run once by the integer reference, node by node, and every RequantShift's divisor is the power of
two that puts the 99.5th percentile of |x * mul| near 90 % of the output range, so no stage saturates
or dies. The calibration input is `decoder_inputs(config)` (same seeds), so the bundled models are
the same on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from ..frontend import import_onnx
from ..reference.interpreter import run_node
from ..reference.kernels import integral, requant_shift

__all__ = ["DecoderConfig", "build_decoder", "decoder_inputs"]


@dataclass(frozen=True)
class DecoderConfig:
    name: str = "decoder"
    layers: int = 1
    d_model: int = 64
    heads: int = 4
    ffn: int = 128
    kv_len: int = 0  # > 0: decode one token against a cache of kv_len; 0: prefill `tokens`
    tokens: int = 8  # prefill only
    vocab: int = 0  # > 0: final norm + vocabulary head
    # > 0: the head is that many column chunks (a GEMM each, joined by a Concat), so each chunk's weights
    # can be staged from L3 alone; 0: one d_model x vocab GEMM
    head_chunks: int = 0
    seed: int = 2024

    def __post_init__(self) -> None:
        if self.layers < 1 or self.d_model < 1 or self.ffn < 1 or self.heads < 1:
            raise ValueError(f"decoder {self.name}: layers, d_model, heads, ffn must be positive")
        if self.d_model % self.heads:
            raise ValueError(f"decoder {self.name}: d_model {self.d_model} is not a multiple of heads {self.heads}")
        if self.kv_len < 0 or self.vocab < 0 or self.tokens < 1 or self.head_chunks < 0:
            raise ValueError(f"decoder {self.name}: kv_len, vocab, head_chunks must be >= 0 and tokens >= 1")
        if self.head_chunks and (not self.vocab or self.vocab % self.head_chunks):
            raise ValueError(
                f"decoder {self.name}: head_chunks {self.head_chunks} must divide the vocabulary {self.vocab}"
            )

    @property
    def seq(self) -> int:
        return 1 if self.kv_len else self.tokens

    @property
    def head_dim(self) -> int:
        return self.d_model // self.heads

    @property
    def weight_bytes(self) -> int:
        """int8 bytes of the projection / FFN / head matrices (norm and requant constants excluded)."""
        d = self.d_model
        return self.layers * (4 * d * d + 3 * d * self.ffn) + d * self.vocab


_SOFTMAX_ATTRS = {"coeffA": 1.0, "coeffB": 86.0, "coeffC": 3888.0, "log2": 64.0, "n_levels": 256.0}


class _Graph:
    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def const(self, name: str, values: np.ndarray[Any, Any]) -> str:
        self.inits.append(numpy_helper.from_array(values.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], **attrs: Any) -> str:
        self.count += 1
        out = f"{op}_{self.count}_out"
        self.nodes.append(helper.make_node(op, inputs, [out], name=f"{op}_{self.count}", **attrs))
        return out

    def requant(self, x: str, *, signed: bool = True) -> str:
        tag = f"rq{self.count + 1}"
        mul = self.const(f"{tag}.mul", np.array([int(self.rng.integers(8, 16))]))
        add = self.const(f"{tag}.add", np.array([0]))
        return self.node(
            "RequantShift",
            [x, mul, add],
            div=numpy_helper.from_array(np.array(1.0, dtype=np.float32)),  # calibrated later
            n_levels_out=numpy_helper.from_array(np.array([256.0], dtype=np.float32)),
            signed=numpy_helper.from_array(np.array([1.0 if signed else 0.0], dtype=np.float32)),
        )

    def linear(self, x: str, name: str, k: int, n: int) -> str:
        return self.requant(self.node("MatMul", [x, self.const(name, self.rng.integers(-64, 64, size=(k, n)))]))

    def rmsnorm(self, x: str, name: str, d: int) -> str:
        w = self.const(name, self.rng.integers(40, 100, size=(d,)))
        return self.node("iRMSNorm", [x, w], D=65536, n_levels=256)

    def shape(self, name: str, dims: tuple[int, ...]) -> str:
        return self.const(name, np.array(dims))


def _layer(g: _Graph, cfg: DecoderConfig, x: str, li: int) -> tuple[str, list[str]]:
    """One decoder layer on `x`; returns its output and the names of the caches it writes."""
    d, h, hd, s = cfg.d_model, cfg.heads, cfg.head_dim, cfg.seq
    p = f"layers.{li}."
    n1 = g.rmsnorm(x, p + "attn_norm.weight", d)
    q, k, v = (g.linear(n1, f"{p}w{c}", d, d) for c in "qkv")
    heads_shape = g.shape(p + "heads_shape", (1, s, h, hd))
    qh = g.node("Transpose", [g.node("Reshape", [q, heads_shape])], perm=[0, 2, 1, 3])
    kh = g.node("Transpose", [g.node("Reshape", [k, heads_shape])], perm=[0, 2, 1, 3])
    vh = g.node("Transpose", [g.node("Reshape", [v, heads_shape])], perm=[0, 2, 1, 3])
    caches: list[str] = []
    if cfg.kv_len:
        kh = g.node("Concat", [f"past_k.{li}", kh], axis=2)
        vh = g.node("Concat", [f"past_v.{li}", vh], axis=2)
        caches = [kh, vh]
    kt = g.node("Transpose", [kh], perm=[0, 1, 3, 2])
    scores = g.requant(g.node("MatMul", [qh, kt]))
    probs = g.requant(
        g.node(
            "iSoftmax",
            [scores],
            **{k_: numpy_helper.from_array(np.array([v_], dtype=np.float32)) for k_, v_ in _SOFTMAX_ATTRS.items()},
        ),
        signed=False,
    )
    ctx = g.requant(g.node("MatMul", [probs, vh]))
    merged = g.node("Reshape", [g.node("Transpose", [ctx], perm=[0, 2, 1, 3]), g.shape(p + "model_shape", (1, s, d))])
    attn = g.linear(merged, p + "wo", d, d)
    res = g.requant(g.node("Add", [x, attn]))
    n2 = g.rmsnorm(res, p + "ffn_norm.weight", d)
    gate = g.requant(g.node("iHardswish", [g.linear(n2, p + "w1", d, cfg.ffn)], one_over_six=42, six=244, three=122))
    up = g.linear(n2, p + "w3", d, cfg.ffn)
    mixed = g.requant(g.node("Mul", [gate, up]))
    down = g.linear(mixed, p + "w2", cfg.ffn, d)
    return g.requant(g.node("Add", [res, down])), caches


def _uncalibrated(cfg: DecoderConfig) -> onnx.ModelProto:
    g = _Graph(cfg.seed)
    d, s = cfg.d_model, cfg.seq
    x = "input"
    inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, s, d])]
    cache_shape = [1, cfg.heads, cfg.kv_len, cfg.head_dim]
    present_shape = [1, cfg.heads, cfg.kv_len + 1, cfg.head_dim]
    renames: list[tuple[str, str]] = []
    for li in range(cfg.layers):
        if cfg.kv_len:
            inputs += [helper.make_tensor_value_info(f"past_{c}.{li}", TensorProto.FLOAT, cache_shape) for c in "kv"]
        x, caches = _layer(g, cfg, x, li)
        renames += [(t, f"present_{c}.{li}") for t, c in zip(caches, "kv", strict=False)]
    if cfg.vocab:
        normed = g.rmsnorm(x, "final_norm.weight", d)
        if cfg.head_chunks:  # column chunks of one head: chunk c holds vocabulary entries [c * w, (c + 1) * w)
            w = cfg.vocab // cfg.head_chunks
            # joined on a new axis of their own, so a Concat tile may split the columns (a tile takes
            # every input's whole slice along the joined axis: one row each here)
            split = g.shape("lm_head.chunk_shape", (1, s, 1, w))
            parts = [g.node("Reshape", [g.linear(normed, f"lm_head.{c}", d, w), split]) for c in range(cfg.head_chunks)]
            x = g.node("Reshape", [g.node("Concat", parts, axis=2), g.shape("lm_head.logits_shape", (1, s, cfg.vocab))])
        else:
            x = g.linear(normed, "lm_head", d, cfg.vocab)
    last = "logits" if cfg.vocab else "output"
    renames.append((x, last))
    mapping = dict(renames)
    for n in g.nodes:
        n.output[:] = [mapping.get(o, o) for o in n.output]
        n.input[:] = [mapping.get(i, i) for i in n.input]
    outputs = [helper.make_tensor_value_info(last, TensorProto.FLOAT, [1, s, cfg.vocab or d])]
    outputs += [
        helper.make_tensor_value_info(f"present_{c}.{li}", TensorProto.FLOAT, present_shape)
        for li in range(cfg.layers if cfg.kv_len else 0)
        for c in "kv"
    ]
    graph = helper.make_graph(g.nodes, cfg.name, inputs, outputs, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 10)], producer_name="deeploy_tiler")
    model.ir_version = 5
    return model


def decoder_inputs(cfg: DecoderConfig, *, seed: int = 7) -> dict[str, np.ndarray[Any, Any]]:
    """Deterministic int8 inputs: the token activations and, for decode, every layer's caches."""
    rng = np.random.default_rng(seed)
    out = {"input": rng.integers(-100, 100, size=(1, cfg.seq, cfg.d_model)).astype(np.int64)}
    for li in range(cfg.layers if cfg.kv_len else 0):
        for c in "kv":
            out[f"past_{c}.{li}"] = rng.integers(-100, 100, size=(1, cfg.heads, cfg.kv_len, cfg.head_dim)).astype(
                np.int64
            )
    return out


def _calibrate(model: onnx.ModelProto, cfg: DecoderConfig) -> None:
    """Set every RequantShift's divisor in place (module docstring)."""
    graph = import_onnx(model, name=cfg.name, source=f"<calibrating {cfg.name}>", fuse=False)
    protos = {n.name: n for n in model.graph.node}
    values: dict[str, Any] = dict(decoder_inputs(cfg))
    for node in graph.nodes:
        if node.op_type != "RequantShift":
            values[node.outputs[0]] = run_node(graph, node, values)
            continue
        x = values[node.inputs[0]]
        mul = graph.tensor(node.inputs[1]).data
        add = graph.tensor(node.inputs[2]).data
        assert mul is not None and add is not None
        signed = bool(integral(node.attrs.get("signed", 1), "signed"))
        target = 0.9 * (127 if signed else 255)
        spread = float(np.percentile(np.abs(x * mul), 99.5)) if x.size else 0.0
        div_log2 = max(0, math.ceil(math.log2(spread / target))) if spread > target else 0
        values[node.outputs[0]] = requant_shift(x, mul, add, div=2**div_log2, n_levels=256, signed=signed)
        for a in protos[node.name].attribute:
            if a.name == "div":
                a.t.CopyFrom(numpy_helper.from_array(np.array(float(2**div_log2), dtype=np.float32)))


def build_decoder(cfg: DecoderConfig) -> onnx.ModelProto:
    """The ONNX model of `cfg`, requantization calibrated (module docstring)."""
    model = _uncalibrated(cfg)
    _calibrate(model, cfg)
    return model
