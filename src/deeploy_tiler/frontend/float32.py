"""Plain float32 ONNX graphs: recognising one, the operators the float path runs, and BatchNormalization
(folded into the preceding Conv, else a per-channel scale and shift; docs/float32.md).

A graph is a float32 graph when it holds float initializers with non-integer values and no operator of
the integer dialect (an integer graph with a stray float weight is refused by `qdq` as before), or when
the caller declares a graph input FLOAT32 (`input_dtypes`), which also covers float graphs whose weights
happen to be integers. Its values become IEEE-754 bit patterns (`requant.float_bits`) in the IR.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import onnx
from onnx import helper, numpy_helper

from ..errors import ModelError, UnsupportedOperatorError
from ..ir import DType
from .requant import f32

# Operators with a float32 reference kernel and C kernel (BatchNormalization is rewritten, see below).
FLOAT_COMPUTE_OPS = frozenset(
    {"Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Relu", "Clip", "MaxPool", "AveragePool", "GlobalAveragePool"}
)
# Data movement: the bit patterns move unchanged (alias ops share the buffer, Transpose copies).
FLOAT_MOVEMENT_OPS = frozenset(
    {"Flatten", "Reshape", "Transpose", "Identity", "Squeeze", "Unsqueeze", "Concat", "Slice"}
)
FLOAT_OPS = FLOAT_COMPUTE_OPS | FLOAT_MOVEMENT_OPS | {"BatchNormalization", "Constant"}
# Operators of the integer dialect (they may sit in the default domain): a graph using one is integer.
INTEGER_DIALECT_OPS = frozenset(
    {
        "RequantShift",
        "RequantFloat",
        "QAdd",
        "iSoftmax",
        "ITAMax",
        "iRMSNorm",
        "iLayerNorm",
        "iGELU",
        "iHardswish",
        "TrueIntegerDiv",
        "IntegerMean",
    }
)
_FLOAT_TYPES = (onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16)


def _integral(arr: np.ndarray[Any, Any]) -> bool:
    return bool(np.all(np.isfinite(arr)) and np.all(np.round(arr) == arr))


def float_initializers(model: onnx.ModelProto) -> set[str]:
    """Names of the float initializers holding non-integer values (QuantizeLinear parameters excepted)."""
    g = model.graph
    floats = {i.name for i in g.initializer if i.data_type in _FLOAT_TYPES and not _integral(numpy_helper.to_array(i))}
    qparams = {t for n in g.node if n.op_type in ("QuantizeLinear", "DequantizeLinear") for t in n.input[1:]}
    return floats - qparams


def is_float_graph(model: onnx.ModelProto, input_dtypes: Mapping[str, DType] | None = None) -> bool:
    """True for a plain float32 network (see the module docstring)."""
    if any(dt is DType.FLOAT32 for dt in (input_dtypes or {}).values()):
        return True
    standard = all(n.domain in ("", "ai.onnx") and n.op_type not in INTEGER_DIALECT_OPS for n in model.graph.node)
    no_qdq = not any(n.op_type in ("QuantizeLinear", "DequantizeLinear") for n in model.graph.node)
    return standard and no_qdq and bool(float_initializers(model))


def check_float_ops(model: onnx.ModelProto, source: str) -> None:
    """Every node of an operator the float path does not run, at once (UnsupportedOperatorError)."""
    refused: dict[str, list[str]] = {}
    for i, n in enumerate(model.graph.node):
        if n.op_type not in FLOAT_OPS or n.domain not in ("", "ai.onnx"):
            op = f"{n.domain}::{n.op_type}" if n.domain else n.op_type
            runs = ", ".join(sorted(FLOAT_COMPUTE_OPS))
            key = f"{op} (no float32 kernel; a float32 graph runs {runs} and data movement)"
            refused.setdefault(key, []).append(n.name or f"#{i}")
    if refused:
        raise UnsupportedOperatorError(refused, path=source)


def fold_bn_params(
    w: np.ndarray[Any, Any],
    b: np.ndarray[Any, Any] | None,
    gamma: Any,
    beta: Any,
    mean: Any,
    var: Any,
    eps: float,
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Conv weights and bias with BatchNormalization folded in, each step one float32 rounding:
    s = gamma / sqrt(var + eps); w' = w * s (per output channel); b' = (b - mean) * s + beta."""
    s = f32(f32(gamma) / np.sqrt(f32(f32(var) + np.float32(eps))))
    w2 = f32(f32(w) * s.reshape((-1,) + (1,) * (w.ndim - 1)))
    b0 = f32(np.zeros(w.shape[0])) if b is None else f32(b)
    b2 = f32(f32(f32(b0 - f32(mean)) * s) + f32(beta))
    return w2, b2


def bn_scale_shift(gamma: Any, beta: Any, mean: Any, var: Any, eps: float) -> tuple[np.ndarray[Any, Any], ...]:
    """A standalone BatchNormalization as y = x * s + t per channel, each step one float32 rounding:
    s = gamma / sqrt(var + eps); t = beta - mean * s."""
    s = f32(f32(gamma) / np.sqrt(f32(f32(var) + np.float32(eps))))
    return s, f32(f32(beta) - f32(f32(mean) * s))


def _ranks(model: onnx.ModelProto) -> dict[str, int]:
    """Tensor -> rank, from ONNX's shape inference (the declared shapes when it cannot run)."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # an inconsistent model: the importer's own shape rules report it later
        inferred = model
    g = inferred.graph
    return {
        vi.name: len(vi.type.tensor_type.shape.dim)
        for vi in (*g.value_info, *g.input, *g.output)
        if vi.type.tensor_type.HasField("shape")
    }


def fold_batchnorm(model: onnx.ModelProto, source: str) -> tuple[onnx.ModelProto, dict[str, tuple[str, ...]]]:
    """The model with every BatchNormalization folded into the Conv that produces its input (when nothing
    else reads that Conv's output), else rewritten as a per-channel Mul (scale) and Add (shift); and
    new node name -> the ONNX nodes it stands for. Training mode and non-constant parameters are refused,
    every such node at once."""
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    producers = {t: n for n in g.node for t in n.output}
    readers: dict[str, int] = {}
    for n in g.node:
        for t in n.input:
            readers[t] = readers.get(t, 0) + 1
    outputs = {o.name for o in g.output}
    ranks: dict[str, int] | None = None
    new_inits: dict[str, np.ndarray[Any, Any]] = {}
    replaced: dict[int, list[onnx.NodeProto]] = {}  # id(node) -> the nodes standing for it
    dropped: set[int] = set()
    folded: dict[str, tuple[str, ...]] = {}
    refused: dict[str, list[str]] = {}
    for bn in g.node:
        if bn.op_type != "BatchNormalization":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in bn.attribute}
        eps = float(attrs.get("epsilon", 1e-5))
        conv = producers.get(bn.input[0])
        if int(attrs.get("training_mode", 0)) != 0 or len(bn.output) != 1:
            refused.setdefault("BatchNormalization in training mode (one output, training_mode = 0 only)", []).append(
                bn.name or "BatchNormalization"
            )
            continue
        if any(t not in inits for t in bn.input[1:5]):
            refused.setdefault("BatchNormalization with parameters that are not constants", []).append(
                bn.name or "BatchNormalization"
            )
            continue
        gamma, beta, mean, var = (inits[t] for t in bn.input[1:5])
        foldable = (
            conv is not None
            and conv.op_type == "Conv"
            and id(conv) not in replaced
            and readers.get(conv.output[0], 0) == 1
            and conv.output[0] not in outputs
            and all(t in inits for t in conv.input[1:] if t)
        )
        if foldable:
            assert conv is not None
            w = inits[conv.input[1]]
            b = inits[conv.input[2]] if len(conv.input) > 2 and conv.input[2] else None
            w2, b2 = fold_bn_params(w, b, gamma, beta, mean, var, eps)
            w_name, b_name = f"{conv.input[1]}__bn_{bn.name}", f"{conv.name}__bias_bn_{bn.name}"
            new_inits[w_name], new_inits[b_name] = w2, b2
            new = onnx.NodeProto()
            new.CopyFrom(conv)
            del new.input[:]
            new.input.extend([conv.input[0], w_name, b_name])
            new.output[0] = bn.output[0]
            replaced[id(conv)] = [new]
            dropped.add(id(bn))
            folded[conv.name] = (conv.name, bn.name)
            continue
        ranks = _ranks(model) if ranks is None else ranks
        rank = ranks.get(bn.input[0])
        if rank is None or rank < 2:
            refused.setdefault("BatchNormalization on an input of unknown rank", []).append(bn.name or "BN")
            continue
        # standalone: y = x * s + t, s and t per channel (axis 1), broadcast over the dims after it
        sc, sh = bn_scale_shift(gamma, beta, mean, var, eps)
        tail = (1,) * (rank - 2)
        base = bn.name or f"bn_{len(folded)}"
        s_name, t_name, mid = f"{base}__scale", f"{base}__shift", f"{bn.output[0]}__scaled"
        new_inits[s_name], new_inits[t_name] = sc.reshape(-1, *tail), sh.reshape(-1, *tail)
        mul = helper.make_node("Mul", [bn.input[0], s_name], [mid], name=f"{base}__mul")
        add = helper.make_node("Add", [mid, t_name], [bn.output[0]], name=f"{base}__add")
        replaced[id(bn)] = [mul, add]
        folded[mul.name] = folded[add.name] = (bn.name,)
    if refused:
        raise UnsupportedOperatorError(refused, path=source)
    if not folded:
        return model, folded
    nodes = [m for n in g.node if id(n) not in dropped for m in replaced.get(id(n), [n])]
    used = {t for n in nodes for t in n.input}
    keep = [i for i in g.initializer if i.name in used]
    keep += [numpy_helper.from_array(v, k) for k, v in new_inits.items()]
    graph = helper.make_graph(nodes, g.name, list(g.input), list(g.output), keep, value_info=list(g.value_info))
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    return out, folded


def check_float_constant(name: str, arr: np.ndarray[Any, Any], source: str) -> None:
    """Float constants must be finite float32 values (the C arrays are written as exact hex literals)."""
    if arr.dtype.kind == "f" and arr.dtype != np.float32:
        raise ModelError(f"{source}: initializer {name} is {arr.dtype}; the float path takes float32", path=source)
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        raise ModelError(f"{source}: initializer {name} holds non-finite float32 values", path=source)
