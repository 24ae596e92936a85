"""Engine-specific legality, a table of rules per engine kind (`ENGINE_RULES`, the extension point).

NPU rules: operator, kernel, stride, dilation, padding, batch 1, constant 8-bit weights, 8-bit
activations, 8-bit (requantized) or int32 outputs, per-channel scale / bias; every tile holds all input
channels and the full weights of its output channels; output-channel tiles start on a pass boundary. Also
the packed size of NPU weights, which the whole-network memory check holds weight-memory placements to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable

from ..hw.spec import ComputeEngine
from ..ir import DType, Graph, Node
from ..plan import NodePlan
from .regions import ceil_div
from .semantics import ints
from .violations import ViolationKind

Finding = tuple[ViolationKind, str]  # one broken rule of a node: (kind, message)
EngineRule = Callable[[NodePlan, Node, Graph, ComputeEngine], Iterable[Finding]]


def _npu_conv_rule(np_: NodePlan, node: Node, graph: Graph, engine: ComputeEngine) -> Iterable[Finding]:
    rules = engine.npu
    if rules is None or node.op_type != "Conv":
        return
    ws = graph.tensors[node.inputs[1]].shape
    xs = graph.tensors[node.inputs[0]].shape
    if len(xs) != 4:
        yield ViolationKind.NPU_RULE, f"{engine.name} runs 2-D convolutions, not {len(xs) - 2}-D ones"
        return
    if xs[0] != 1:
        yield ViolationKind.NPU_RULE, f"batch {xs[0]}: {engine.name} has no batch counter (one image per task)"
    group = int(node.attr("group", 1))
    kernel = tuple(ws[2:])
    depthwise = group > 1 and group == xs[1] and ws[1] == 1
    if group > 1 and not depthwise:
        yield ViolationKind.NPU_RULE, f"{engine.name} runs dense or depthwise convolutions, not group={group}"
    sizes = rules.depthwise_kernel_sizes if depthwise else rules.kernel_sizes
    if any(k not in sizes for k in kernel) or len(set(kernel)) > 1:
        yield ViolationKind.NPU_RULE, f"{engine.name} has no {'depthwise ' if depthwise else ''}kernel {kernel}"
    strides = ints(node.attr("strides"), len(kernel), 1)
    if max(strides, default=1) > rules.max_stride:
        yield ViolationKind.NPU_RULE, f"stride {strides} exceeds {engine.name}'s max_stride {rules.max_stride}"
    if any(d != 1 for d in ints(node.attr("dilations"), len(kernel), 1)):
        yield ViolationKind.NPU_RULE, f"{engine.name} runs no dilated convolution"
    pads = ints(node.attr("pads"), 2 * len(kernel), 0)
    if kernel and max(pads, default=0) > max(kernel) // 2:
        yield ViolationKind.NPU_RULE, f"padding {pads} exceeds what {engine.name} pads for kernel {kernel}"


def _npu_operand_rule(np_: NodePlan, node: Node, graph: Graph, engine: ComputeEngine) -> Iterable[Finding]:
    rules = engine.npu
    if rules is None or len(node.inputs) < 2:
        return
    if node.op_type in ("Gemm", "MatMul") and not rules.gemm_as_conv1x1:
        yield ViolationKind.NPU_RULE, f"{engine.name} does not map {node.op_type} onto 1x1 convolutions"
    w = graph.tensors[node.inputs[1]]
    if rules.requires_constant_weights and not w.is_constant:
        yield ViolationKind.NPU_RULE, f"{engine.name} needs constant weights, {w.name} is computed at run time"
    if w.dtype.itemsize * 8 > rules.weight_bits:
        yield (
            ViolationKind.NPU_RULE,
            f"{engine.name} takes {rules.weight_bits}-bit weights, {w.name} is {w.dtype.value}",
        )
    x = graph.tensors[node.inputs[0]]
    if x.dtype.itemsize * 8 > rules.activation_bits:
        yield (
            ViolationKind.NPU_RULE,
            f"{engine.name} takes {rules.activation_bits}-bit activations, {x.name} is {x.dtype.value}",
        )
    y = graph.tensors[node.outputs[0]]
    if y.dtype.itemsize * 8 > rules.activation_bits and (node.requant is not None or y.dtype is not DType.INT32):
        yield ViolationKind.NPU_RULE, f"{engine.name} writes 8-bit or int32 outputs, {y.name} is {y.dtype.value}"
    if node.op_type == "Gemm" and (
        int(node.attr("transA", 0)) or float(node.attr("alpha", 1.0)) != 1.0 or float(node.attr("beta", 1.0)) != 1.0
    ):
        yield ViolationKind.NPU_RULE, f"{engine.name} runs Gemm with transA 0, alpha = beta = 1 only"
    if node.op_type == "MatMul" and (len(x.shape) < 2 or len(w.shape) < 2 or math.prod(w.shape[:-2]) != 1):
        yield ViolationKind.NPU_RULE, f"{engine.name} needs rows x K times one K x N matrix, got {x.shape} x {w.shape}"
    channels = _npu_channels(node, graph)
    for t in node.inputs[2:]:
        c = graph.tensors.get(t)
        if c is not None and c.numel not in (1, channels):
            yield ViolationKind.NPU_RULE, f"{engine.name} scales per channel or per tensor; {t} has {c.numel} values"


def _npu_channels(node: Node, graph: Graph) -> int:
    w = graph.tensors[node.inputs[1]].shape
    if node.op_type == "Conv":
        return w[0]
    return graph.tensors[node.outputs[0]].shape[-1]


def _npu_dims(node: Node, graph: Graph) -> tuple[int | None, tuple[int, ...], int, bool]:
    """(input dim holding all input channels or None, weight dims reduced over, output channel dim,
    depthwise?) of an NPU node."""
    xs = graph.tensors[node.inputs[0]].shape
    ws = graph.tensors[node.inputs[1]].shape
    if node.op_type == "Conv":
        depthwise = int(node.attr("group", 1)) > 1
        return (None if depthwise else 1), tuple(range(1, len(ws))), 1, depthwise
    if node.op_type == "Gemm":
        return 1, ((1,) if int(node.attr("transB", 0)) else (0,)), 1, False
    return len(xs) - 1, (len(ws) - 2,), len(graph.tensors[node.outputs[0]].shape) - 1, False


def _npu_tile_rule(np_: NodePlan, node: Node, graph: Graph, engine: ComputeEngine) -> Iterable[Finding]:
    """Full input channels and full weights of its output channels in every tile; output-channel tiles
    start on a pass boundary (tasks compute whole passes of output_channels_per_pass; depthwise: blocks of
    input_channels_per_pass_3x3)."""
    rules = engine.npu
    if rules is None or node.op_type not in ("Conv", "Gemm", "MatMul") or len(node.inputs) < 2:
        return
    x_dim, w_dims, ch_dim, depthwise = _npu_dims(node, graph)
    xs, ws = graph.tensors[node.inputs[0]].shape, graph.tensors[node.inputs[1]].shape
    names = {b.name: b.tensor for b in np_.buffers}
    width = rules.input_channels_per_pass_3x3 if depthwise else rules.output_channels_per_pass
    for step in np_.steps:
        for bname, region in step.regions.items():
            t = names.get(bname)
            if t == node.inputs[0] and x_dim is not None and x_dim < len(region) and region[x_dim] != (0, xs[x_dim]):
                yield (
                    ViolationKind.NPU_RULE,
                    f"step {step.tile}: input {t} rows {region[x_dim]} of {xs[x_dim]} "
                    f"channels; {engine.name} needs all input channels in every tile",
                )
            if t == node.inputs[1] and any(d < len(region) and region[d] != (0, ws[d]) for d in w_dims):
                yield (
                    ViolationKind.NPU_RULE,
                    f"step {step.tile}: weight tile {region} splits the reduction; "
                    f"{engine.name} needs the full weights of its output channels",
                )
        if ch_dim < len(step.output_region) and step.output_region[ch_dim][0] % width:
            yield (
                ViolationKind.NPU_RULE,
                f"step {step.tile}: output channels start at "
                f"{step.output_region[ch_dim][0]}, not on a {width}-channel pass of {engine.name}",
            )


# Rules per engine kind; each yields (kind, message) for one node.
ENGINE_RULES: dict[str, tuple[EngineRule, ...]] = {
    "cluster": (),
    "npu": (_npu_conv_rule, _npu_operand_rule, _npu_tile_rule),
}

# 256-bit words of N-EUREKA's packed weights [P: pulp-nnx NEUREKA_WEIGHT_BANDWIDTH; Deeploy _weightEncode].
_NPU_WORD_BYTES = 32


def npu_packed_bytes(node: Node, graph: Graph, engine: ComputeEngine) -> int:
    """Bytes of a node's weights in the NPU's packed layout: 1x1 c_out * ceil(c_in / 32), 3x3
    c_out * ceil(c_in / 28) * bits, depthwise ceil(C / 28) * bits words of 32 B."""
    rules = engine.npu
    assert rules is not None
    ws = graph.tensors[node.inputs[1]].shape
    if node.op_type == "Conv":
        c_out, c_in, k = ws[0], ws[1], ws[2] if len(ws) > 2 else 1
        if int(node.attr("group", 1)) > 1:
            return ceil_div(c_out, rules.input_channels_per_pass_3x3) * rules.weight_bits * _NPU_WORD_BYTES
        if k == 1:
            return c_out * ceil_div(c_in, rules.input_channels_per_pass_1x1) * _NPU_WORD_BYTES
        return c_out * ceil_div(c_in, rules.input_channels_per_pass_3x3) * rules.weight_bits * _NPU_WORD_BYTES
    if node.op_type == "Gemm" and int(node.attr("transB", 0)):
        c_out, c_in = ws[0], ws[1]
    else:
        c_in, c_out = ws[-2], ws[-1]
    return c_out * ceil_div(c_in, rules.input_channels_per_pass_1x1) * _NPU_WORD_BYTES
