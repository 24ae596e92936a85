"""Run a model with onnxruntime on the same integer inputs the planned graph sees.

The importer strips QuantizeLinear at the graph inputs and DequantizeLinear at the outputs; `integer_edged`
does the same to the ONNX model (the quantized tensors become its inputs and outputs, names as the importer
gives them), so onnxruntime's results compare element by element with the reference and the emitted C.
onnxruntime is an optional dependency (the `dev` extra): importing it happens on first use.
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import helper

from ..errors import ModelError

# x86 CPU flags with an int8 dot product that accumulates u8 x s8 products in 32 bits.
_VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def ort_int8_matmul_is_exact(cpuinfo: str | None = None) -> bool:
    """Whether onnxruntime's CPU provider computes int8 Conv / MatMul / Gemm exactly on this machine.

    On x86-64 without VNNI, MLAS multiplies u8 x s8 with `vpmaddubsw`, which adds pairs of products into
    int16 with saturation (onnxruntime's quantization guide: "the saturation issue", fixed by `reduce_range`);
    s8 activations are shifted to u8 first, so they saturate too. Then onnxruntime is no exact oracle for
    weights using the full 8-bit range, and its results differ from the integer arithmetic of the reference
    and of the C kernels. Other architectures (ARM's sdot, x86 with VNNI) accumulate exactly.
    `cpuinfo` is the text of /proc/cpuinfo (read when None)."""
    if cpuinfo is None:
        if platform.machine().lower() not in ("x86_64", "amd64", "i686", "x86"):
            return True
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False  # an x86 machine whose flags cannot be read: assume the saturating kernel
    flags = {f for line in cpuinfo.splitlines() if line.startswith("flags") for f in line.partition(":")[2].split()}
    return bool(flags & _VNNI_FLAGS)


def integer_edged(model: onnx.ModelProto) -> onnx.ModelProto:
    """`model` with its edge QuantizeLinear / DequantizeLinear removed (integer inputs and outputs)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    g = m.graph
    ins = {i.name: i for i in g.input}
    outs = {o.name: o for o in g.output}
    inits = {i.name: i for i in g.initializer}
    rename: dict[str, str] = {}
    keep = []
    new_inputs = []
    new_outputs = {o.name: o for o in g.output}
    for n in g.node:
        if n.op_type == "QuantizeLinear" and n.input[0] in ins:
            zp = inits.get(n.input[2]) if len(n.input) > 2 else None
            elem = zp.data_type if zp is not None else onnx.TensorProto.UINT8
            dims = [d.dim_value for d in ins[n.input[0]].type.tensor_type.shape.dim]
            new_inputs.append(helper.make_tensor_value_info(n.input[0], elem, dims))
            rename[n.output[0]] = n.input[0]
            continue
        if n.op_type == "DequantizeLinear" and n.output[0] in outs:
            del new_outputs[n.output[0]]
            zp = inits.get(n.input[2]) if len(n.input) > 2 else None
            elem = zp.data_type if zp is not None else onnx.TensorProto.UINT8
            new_outputs[n.input[0]] = helper.make_tensor_value_info(n.input[0], elem, None)
            if any(n.output[0] in u.input for u in g.node):  # interior readers keep the float value
                keep.append(n)
            continue
        keep.append(n)
    for n in keep:
        for i, t in enumerate(n.input):
            if t in rename:
                n.input[i] = rename[t]
    untouched = [i for i in g.input if i.name not in {v.name for v in new_inputs} and i.name not in inits]
    order = [o.name for o in g.output]
    del g.node[:]
    g.node.extend(keep)
    del g.input[:]
    g.input.extend([*new_inputs, *untouched])
    out_list = []
    for name in order:  # graph-output order, each DQ output replaced by its integer input
        if name in new_outputs:
            out_list.append(new_outputs[name])
    out_list += [v for k, v in new_outputs.items() if k not in order]
    del g.output[:]
    g.output.extend(out_list)
    del g.value_info[:]
    return m


# quantized operator -> index of its output zero point (whose type is the output's)
_OUT_ZP = {
    "QuantizeLinear": 2,
    "QLinearConv": 7,
    "QLinearMatMul": 7,
    "QGemm": 8,
    "QLinearAdd": 7,
    "QLinearMul": 7,
    "QLinearAveragePool": 4,
    "QLinearGlobalAveragePool": 4,
    "QLinearConcat": 1,
    "QLinearSigmoid": 4,
    "QLinearLeakyRelu": 4,
}


def quantized_tensors(model: onnx.ModelProto) -> dict[str, int]:
    """Every 8-bit tensor a quantized operator (or QuantizeLinear) writes -> its ONNX element type."""
    inits = {i.name: i for i in model.graph.initializer}
    out = {}
    for n in model.graph.node:
        k = _OUT_ZP.get(n.op_type)
        if k is not None and len(n.input) > k and n.input[k] in inits:
            out[n.output[0]] = inits[n.input[k]].data_type
        elif (  # QCDQ's clamp on the codes
            n.op_type == "Clip"
            and len(n.input) > 1
            and n.input[1] in inits
            and inits[n.input[1]].data_type in (onnx.TensorProto.INT8, onnx.TensorProto.UINT8)
        ):
            out[n.output[0]] = inits[n.input[1]].data_type
    return out


def ort_run(
    model: onnx.ModelProto, inputs: Mapping[str, Any], *, extra_outputs: Mapping[str, int] | None = None
) -> dict[str, np.ndarray[Any, Any]]:
    """onnxruntime (CPU provider, default session options) on the integer-edged model; `extra_outputs`
    (name -> ONNX element type) adds interior tensors to its outputs."""
    try:
        import onnxruntime as ort  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - depends on the environment
        raise ModelError("onnxruntime is not installed (pip install onnxruntime, or the dev extra)") from None
    edged = integer_edged(model)
    have = {o.name for o in edged.graph.output} | {i.name for i in edged.graph.input}
    for name, elem in (extra_outputs or {}).items():
        if name not in have:
            edged.graph.output.append(helper.make_tensor_value_info(name, elem, None))
    sess = ort.InferenceSession(edged.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {}
    for i in sess.get_inputs():
        if i.name not in inputs:
            raise ModelError(f"onnxruntime run: no value for graph input {i.name!r}")
        np_type = {"tensor(int8)": np.int8, "tensor(uint8)": np.uint8, "tensor(int32)": np.int32}.get(i.type)
        feeds[i.name] = np.asarray(inputs[i.name]).astype(np_type or np.float32)
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, feeds), strict=True))


def edge_quantizers(model: onnx.ModelProto) -> dict[str, tuple[float, int, np.dtype[Any]]]:
    """Graph input -> (scale, zero point, integer type) of the QuantizeLinear that reads it."""
    inits = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    ins = {i.name for i in model.graph.input}
    out = {}
    for n in model.graph.node:
        if n.op_type == "QuantizeLinear" and n.input[0] in ins and n.input[1] in inits:
            zp = inits.get(n.input[2]) if len(n.input) > 2 else None
            zp = zp if zp is not None else np.zeros((), np.uint8)
            out[n.input[0]] = (float(inits[n.input[1]].ravel()[0]), int(zp.ravel()[0]), np.dtype(zp.dtype))
    return out


def quantize_inputs(model: onnx.ModelProto, arrays: Mapping[str, Any]) -> dict[str, np.ndarray[Any, Any]]:
    """Float sample inputs of a quantized model through its edge QuantizeLinear (float32 x / scale, round half
    to even, + zero point, saturate); integer arrays and inputs without one pass unchanged."""
    quant = edge_quantizers(model)
    out = {}
    for name, a in arrays.items():
        arr = np.asarray(a)
        if name in quant and arr.dtype.kind == "f":
            scale, zp, dt = quant[name]
            info = np.iinfo(dt)
            q = np.rint(np.asarray(arr, np.float32) / np.float32(scale)).astype(np.int64) + zp
            arr = np.clip(q, info.min, info.max)
        out[name] = arr
    return out
