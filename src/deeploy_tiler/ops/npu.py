"""N-EUREKA (a convolution NPU) as data: which nodes it runs, how a node maps onto its tasks, its task
cycle model (summed over a tiling as a `Poly` in cost.npu, so the CP-SAT model and the cost model share
it), and the size of its packed weights.

Legality (`npu_support`): Conv 1x1 / 3x3 dense or 3x3 depthwise (the spec's `kernel_sizes` /
`depthwise_kernel_sizes`), 2-D, batch 1 (no batch counter), stride <= `max_stride`, dilation 1, padding
at most kernel // 2 (none for 1x1); Gemm / MatMul with a constant 2-D weight as 1x1 convolutions
(`gemm_as_conv1x1`); constant weights; 8-bit activations and weights; output 8-bit through the fused
requantization (scale / bias / shift, the node's fused RequantShift) or the raw int32 accumulators.

Mapping of a tile onto one NPU task (Deeploy's N-EUREKA tiler: full input channels and weights per tile):
* output channels in passes of `output_channels_per_pass` (32; depthwise: blocks of the 3x3 input-channel
  throughput, 28, since channels are both input and output);
* input channels in blocks of `input_channels_per_pass_1x1` (32) / `_3x3` (28);
* the spatial tile in subtiles of the `pe_array_h x pe_array_w` PE array: Conv ceil(h/6) * ceil(w/6); the
  rows of a Gemm / MatMul are pixels of a 1x1 convolution reshaped to the factorization a * b = rows with
  the fewest subtiles (Deeploy's NeurekaReshapePointwiseConvolutionPass).

Task cycles (the FSM of the GVSoC N-EUREKA model, pulp/neureka/src/neureka_fsm.cpp [P], constants below):
per task `setup + fill`, then per (pass p with k_p channels, spatial subtile):
  blocks * iter(k_p) + normquant + streamout
* iter: with activation prefetch [A:npu_prefetch] the next block's activation load (6 prepare cycles +
  one cycle per pixel of the input buffer: 6x6 + 6 for 1x1, 8x8 for 3x3) overlaps the matrix-vector
  phase, which consumes one 256-bit weight word per cycle: k_p words (1x1: a word holds 32 input
  channels x 8 bits of one output channel), k_p * weight_bits words (3x3: one bit plane of 28 x 9
  weights per word); depthwise: c_p * weight_bits words. iter = max(load, prepare + words * word_cycles)
  (+ 8 exit cycles in 3x3 mode). `word_cycles` = ceil(32 B / bandwidth of the weight source) (1 for the
  256-bit WMEM port and the NPU's 256-bit L1 port).
* normquant (fused scale / bias / shift, when the node requantizes or has a bias): NPU_NORMQUANT_CYCLES.
* streamout: one cycle per pixel and 32-byte word of k_p outputs (+3 exit cycles in 1x1 mode).
`fill` = one activation load per task that nothing hides. Summed over the tiles of a tiling, every term
is a product of per-dimension sums, hence a Poly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from math import ceil, prod
from typing import Literal

from ..errors import PlanError
from ..hw.spec import ComputeEngine
from ..ir import DType, Graph, Node
from ..units import ceil_div
from .geometry import Geometry
from .policy import KernelPolicy, WeightSource

__all__ = [
    "NpuTask",
    "NpuUnsupported",
    "WeightSource",
    "best_row_subtiles",
    "in_place_weight_source",
    "local_weight_source",
    "npu_policy",
    "npu_support",
    "npu_task_cycles",
    "npu_weight_bytes",
]

NpuMode = Literal["1x1", "3x3", "dw3x3"]

# 256-bit weight word [P: pulp-nnx neureka_task_defs.h NEUREKA_WEIGHT_BANDWIDTH]; the matrix-vector phase
# consumes one per cycle [P: gvsoc neureka_matrixvec.cpp].
WEIGHT_WORD_BYTES = 32
# FSM latencies of the GVSoC N-EUREKA model [P: gvsoc-pulp pulp/neureka/src/neureka_fsm.cpp].
NPU_LOAD_PREPARE_CYCLES = 6  # LOAD_PREPARE: FIFOs + control
NPU_LOAD_EXIT_1X1_CYCLES = 6  # ACTIVATION_LOAD exit in 1x1 mode (the load is padded to the 6x6 buffer)
NPU_MV_PREPARE_1X1_CYCLES = 10  # MATRIXVEC_PREPARE, 1x1
NPU_MV_PREPARE_3X3_CYCLES = 6  # MATRIXVEC_PREPARE, 3x3
NPU_MV_EXIT_3X3_CYCLES = 8  # MATRIXVEC exit + index update, 3x3
NPU_DW_PREPARE_CYCLES = 34  # depthwise weight-offset cycles per block
NPU_STREAMOUT_EXIT_1X1_CYCLES = 3  # OUTPUT_STREAMOUT exit, 1x1
# NORM_MULTIPLY (one 32 B scale word + 8) + exit 9 + NORM_BIAS_SHIFT (four 32 B words of int32 bias + 8)
# [D: gvsoc neureka_fsm.cpp / neureka_normquant.cpp]: 1 + 8 + 9 + 4 + 8.
NPU_NORMQUANT_CYCLES = 30
# The 3x3 input buffer is (pe_h + 2) x (pe_w + 2) pixels [P: gvsoc params.hpp NeurekaInFeatBufferSize].
_HALO = 2


class NpuUnsupported(PlanError):
    """The NPU cannot run a node; the message is the reason shown in `NodePlan.alternatives`."""


@dataclass(frozen=True)
class NpuTask:
    """How one node maps onto N-EUREKA tasks (hashable: part of the kernel policy and the model cache key)."""

    mode: NpuMode
    in_channels: int  # input channels, all in every tile
    channel_dim: int  # output dimension of the output channels
    spatial: tuple[int, ...]  # output dims on the PE array: (H, W) of a Conv, (M,) of a Gemm / MatMul
    row_batch: int  # Gemm / MatMul: rows of the untiled batch dimensions (1 for Conv)
    out_bytes: int  # 1: requantized 8-bit output; 4: int32 accumulators
    normquant: bool  # fused scale / bias / shift
    word_cycles: int  # cycles per 256-bit weight word from the weight source
    weights_in_place: bool
    pe_h: int
    pe_w: int
    co_pass: int  # output channels per pass (depthwise: channels per block)
    ci_pass: int  # input channels per block
    weight_bits: int
    setup: int  # cycles to program and launch one task
    packed_weight_bytes: int  # the weights in the NPU's packed layout (npu_weight_bytes), computed once

    @property
    def blocks(self) -> int:
        """Input-channel blocks per pass (depthwise: 1, each block of channels is its own pass)."""
        return 1 if self.mode == "dw3x3" else ceil_div(self.in_channels, self.ci_pass)

    @property
    def load_cycles(self) -> int:
        """One activation load: prepare + one cycle per pixel of the input buffer (+ exit in 1x1 mode)."""
        if self.mode == "1x1":
            return NPU_LOAD_PREPARE_CYCLES + self.pe_h * self.pe_w + NPU_LOAD_EXIT_1X1_CYCLES
        return NPU_LOAD_PREPARE_CYCLES + (self.pe_h + _HALO) * (self.pe_w + _HALO)

    def iteration(self, k: int) -> int:
        """Cycles of one input-channel block of a pass of `k` output channels on one subtile."""
        if self.mode == "1x1":
            return max(self.load_cycles, NPU_MV_PREPARE_1X1_CYCLES + k * self.word_cycles)
        if self.mode == "3x3":
            mv = NPU_MV_PREPARE_3X3_CYCLES + k * self.weight_bits * self.word_cycles
            return max(self.load_cycles, mv) + NPU_MV_EXIT_3X3_CYCLES
        return max(self.load_cycles, NPU_DW_PREPARE_CYCLES + k * self.weight_bits * self.word_cycles)

    def per_pass(self, k: int) -> int:
        """Cycles of a pass of `k` output channels on one subtile, streamout excluded."""
        nq = NPU_NORMQUANT_CYCLES if self.normquant else 0
        exit_ = NPU_STREAMOUT_EXIT_1X1_CYCLES if self.mode == "1x1" else 0
        return self.blocks * self.iteration(k) + nq + exit_

    def out_words(self, k: int) -> int:
        """32-byte words of `k` outputs of one pixel (streamout cycles per pixel and pass)."""
        return ceil_div(k * self.out_bytes, WEIGHT_WORD_BYTES)

    def passes(self, k: int) -> list[int]:
        """Channel counts of the passes over a tile of `k` output channels."""
        full, rem = divmod(k, self.co_pass)
        return [self.co_pass] * full + ([rem] if rem else [])

    def subtiles(self, extents: Sequence[int]) -> int:
        """Spatial subtiles of one tile with these extents on `spatial`."""
        if len(extents) == 2:
            return ceil_div(extents[0], self.pe_h) * ceil_div(extents[1], self.pe_w)
        return best_row_subtiles(self.row_batch, extents[0], self.pe_h, self.pe_w)


def best_row_subtiles(batch: int, rows: int, pe_h: int, pe_w: int) -> int:
    """Subtiles of `batch x rows` pixels of a 1x1 convolution: with one batch row, the rows are reshaped
    to the factorization a * b = rows with the fewest ceil(a / pe_h) * ceil(b / pe_w) subtiles (Deeploy's
    NeurekaReshapePointwiseConvolutionPass); otherwise the (batch, rows) grid as it is."""
    if batch > 1:
        return ceil_div(batch, pe_h) * ceil_div(rows, pe_w)
    best = ceil_div(rows, pe_w)
    a = 1
    while a * a <= rows:
        if rows % a == 0:
            b = rows // a
            best = min(best, ceil_div(a, pe_h) * ceil_div(b, pe_w), ceil_div(b, pe_h) * ceil_div(a, pe_w))
        a += 1
    return best


def npu_task_cycles(task: NpuTask, channels: int, extents: Sequence[int]) -> int:
    """Cycles of one task computing a tile of `channels` output channels with spatial `extents`
    (written out directly: the reference the Poly is tested against)."""
    sub = task.subtiles(extents)
    pixels = prod(extents) * task.row_batch
    cycles = task.setup + task.load_cycles
    for k in task.passes(channels):
        cycles += sub * task.per_pass(k) + pixels * task.out_words(k)
    return cycles


# --- legality ------------------------------------------------------------------------------------------------


def _ints(value: object, n: int, default: int) -> tuple[int, ...]:
    if value is None:
        return (default,) * n
    return tuple(int(v) for v in value)  # type: ignore[attr-defined]


def _conv_mode(node: Node, graph: Graph, engine: ComputeEngine) -> NpuMode:
    rules = engine.npu
    assert rules is not None
    x = graph.tensor(node.inputs[0])
    w = graph.tensor(node.inputs[1])
    if len(x.shape) != 4:
        raise NpuUnsupported(f"{engine.name} runs 2-D convolutions, this one is {len(x.shape) - 2}-D")
    if x.shape[0] != 1:
        raise NpuUnsupported(f"batch {x.shape[0]}: {engine.name} has no batch counter (one image per task)")
    group = int(node.attr("group", 1))
    c_in, c_out = x.shape[1], w.shape[0]
    depthwise = group > 1 and group == c_in == c_out and w.shape[1] == 1
    if group > 1 and not depthwise:
        raise NpuUnsupported(f"grouped convolution (group {group}): {engine.name} runs dense or depthwise ones")
    kh, kw = int(w.shape[2]), int(w.shape[3])
    sizes = rules.depthwise_kernel_sizes if depthwise else rules.kernel_sizes
    kind = "depthwise " if depthwise else ""
    if kh != kw or kh not in sizes:
        allowed = ", ".join(f"{k}x{k}" for k in sizes) or "none"
        raise NpuUnsupported(f"{kind}kernel {kh}x{kw} not supported by {engine.name} ({kind}kernels: {allowed})")
    strides = _ints(node.attr("strides"), 2, 1)
    if max(strides) > rules.max_stride:
        raise NpuUnsupported(
            f"stride {max(strides)} not supported by the {engine.name} driver (max_stride {rules.max_stride})"
        )
    if any(d != 1 for d in _ints(node.attr("dilations"), 2, 1)):
        raise NpuUnsupported(f"dilated convolution not supported by {engine.name}")
    if max(_ints(node.attr("pads"), 4, 0)) > kh // 2:
        raise NpuUnsupported(f"padding beyond {kh // 2} not supported by {engine.name} for a {kh}x{kw} kernel")
    if depthwise:
        return "dw3x3"
    return "1x1" if kh == 1 else "3x3"


def _gemm_check(node: Node, graph: Graph, engine: ComputeEngine) -> None:
    if node.op_type == "Gemm":
        if int(node.attr("transA", 0)):
            raise NpuUnsupported(f"Gemm with transA: {engine.name} reads the rows as pixels (transA 0 only)")
        if float(node.attr("alpha", 1.0)) != 1.0 or float(node.attr("beta", 1.0)) != 1.0:
            raise NpuUnsupported(f"Gemm with alpha / beta != 1 not supported by {engine.name}")
        return
    a = graph.tensor(node.inputs[0]).shape
    b = graph.tensor(node.inputs[1]).shape
    if len(a) < 2 or len(b) < 2 or prod(b[:-2]) != 1:
        raise NpuUnsupported(f"MatMul {a} x {b}: {engine.name} needs rows x K times one constant K x N matrix")


def _n_main(node: Node) -> int:
    return len(node.inputs) - (2 if node.requant is not None else 0)


def npu_support(node: Node, graph: Graph, engine: ComputeEngine) -> NpuMode:
    """The NPU mode of a node, or NpuUnsupported with the reason."""
    rules = engine.npu
    if rules is None:
        raise NpuUnsupported(f"{engine.name} is not an NPU")
    if not engine.supports(node.op_type) or node.op_type not in ("Conv", "Gemm", "MatMul"):
        raise NpuUnsupported(f"{engine.name} does not run {node.op_type}")
    if node.op_type in ("Gemm", "MatMul") and not rules.gemm_as_conv1x1:
        raise NpuUnsupported(f"{engine.name} does not map {node.op_type} onto 1x1 convolutions")
    if len(node.inputs) < 2:
        raise NpuUnsupported(f"{node.op_type} without a weight operand")
    x, w = graph.tensor(node.inputs[0]), graph.tensor(node.inputs[1])
    if any(graph.tensor(t).dtype.is_float for t in (*node.inputs[:2], *node.outputs)):
        raise NpuUnsupported(
            f"float32 operands; {engine.name} computes on integers only (float nodes stay on the cluster)"
        )
    if rules.requires_constant_weights and not w.is_constant:
        raise NpuUnsupported(f"weights {w.name} computed at run time; {engine.name} needs constant weights")
    if x.dtype.itemsize * 8 > rules.activation_bits:
        raise NpuUnsupported(f"{x.dtype.value} activations; {engine.name} takes {rules.activation_bits}-bit ones")
    if w.dtype.itemsize * 8 > rules.weight_bits:
        raise NpuUnsupported(f"{w.dtype.value} weights; the {engine.name} driver takes {rules.weight_bits}-bit ones")
    out = graph.tensor(node.outputs[0])
    if node.requant is not None:
        if out.dtype.itemsize * 8 > rules.activation_bits:
            raise NpuUnsupported(f"{out.dtype.value} requantized output; {engine.name} writes 8-bit ones")
        if "RequantShift" not in rules.fused_ops:
            raise NpuUnsupported(f"{engine.name} cannot apply the fused RequantShift")
        if node.requant.mode != "shift":
            raise NpuUnsupported(f"{engine.name} requantizes with shifts, not onnxruntime's float32 scale")
    elif out.dtype not in (DType.INT32,) and out.dtype.itemsize * 8 > rules.activation_bits:
        raise NpuUnsupported(f"{out.dtype.value} output; {engine.name} writes 8-bit or int32 outputs")
    if node.op_type == "Conv":
        mode = _conv_mode(node, graph, engine)
        channels = graph.tensor(node.inputs[1]).shape[0]
    else:
        _gemm_check(node, graph, engine)
        mode = "1x1"
        channels = out.shape[-1]
    for t in node.inputs[2:]:  # bias and requantization constants: per output channel or per tensor
        c = graph.tensor(t)
        if c.numel not in (1, channels):
            raise NpuUnsupported(f"{c.name} has {c.numel} values; {engine.name} scales per channel or per tensor")
    return mode


# --- task mapping and policy -----------------------------------------------------------------------------------


def npu_weight_bytes(node: Node, graph: Graph, engine: ComputeEngine) -> int:
    """Bytes of a node's weights in the NPU's packed layout (Deeploy's _weightEncode): 1x1
    c_out * ceil(c_in / 32) words, 3x3 c_out * ceil(c_in / 28) * bits words, depthwise ceil(C / 28) * bits
    words of 32 B. Raises NpuUnsupported when the NPU cannot run the node. The planner reads the size from
    the node's task (`NpuTask.packed_weight_bytes`), built once by `npu_policy`."""
    return _packed_weight_bytes(node, graph, engine, npu_support(node, graph, engine))


def _packed_weight_bytes(node: Node, graph: Graph, engine: ComputeEngine, mode: NpuMode) -> int:
    rules = engine.npu
    assert rules is not None
    w = graph.tensor(node.inputs[1]).shape
    if node.op_type == "Gemm":
        c_out, c_in = (w[0], w[1]) if int(node.attr("transB", 0)) else (w[1], w[0])
    elif node.op_type == "MatMul":
        c_in, c_out = w[-2], w[-1]
    else:
        c_out, c_in = w[0], w[1]
    if mode == "1x1":
        words = c_out * ceil_div(c_in, rules.input_channels_per_pass_1x1)
    elif mode == "3x3":
        words = c_out * ceil_div(c_in, rules.input_channels_per_pass_3x3) * rules.weight_bits
    else:
        words = ceil_div(c_out, rules.input_channels_per_pass_3x3) * rules.weight_bits
    return words * WEIGHT_WORD_BYTES


def local_weight_source(level: str, port: Fraction | None = None) -> WeightSource:
    """Weights DMA'd into the NPU's local level `level`, read through its port (`port` bytes per cycle,
    at most one 256-bit word per cycle; None: one word per cycle)."""
    word = Fraction(WEIGHT_WORD_BYTES)
    return WeightSource(level, in_place=False, bytes_per_cycle=min(port or word, word))


def in_place_weight_source(level: str, port: Fraction | None) -> WeightSource:
    """Weights read in place from the weight memory `level` through its port (None: one word per cycle)."""
    return WeightSource(level, in_place=True, bytes_per_cycle=port or Fraction(WEIGHT_WORD_BYTES))


def _task(
    node: Node, graph: Graph, geom: Geometry, engine: ComputeEngine, mode: NpuMode, source: WeightSource
) -> tuple[NpuTask, tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    rules = engine.npu
    assert rules is not None
    out = graph.tensor(node.outputs[0])
    x = graph.tensor(node.inputs[0]).shape
    bias = _n_main(node) > 2
    spatial: tuple[int, ...]
    if node.op_type == "Conv":
        ch, spatial, batch = 1, (2, 3), 1
        c_in = x[1]
    else:
        ch = geom.rank - 1
        spatial, batch = (geom.rank - 2,), prod(geom.out_shape[: geom.rank - 2])
        c_in = x[-1]
    word_cycles = max(1, ceil(WEIGHT_WORD_BYTES / source.bytes_per_cycle))
    co_pass = rules.input_channels_per_pass_3x3 if mode == "dw3x3" else rules.output_channels_per_pass
    ci_pass = rules.input_channels_per_pass_1x1 if mode == "1x1" else rules.input_channels_per_pass_3x3
    task = NpuTask(
        mode=mode,
        in_channels=c_in,
        channel_dim=ch,
        spatial=spatial,
        row_batch=batch,
        out_bytes=out.dtype.itemsize,
        normquant=node.requant is not None or bias,
        word_cycles=word_cycles,
        weights_in_place=source.in_place,
        pe_h=rules.pe_array_h,
        pe_w=rules.pe_array_w,
        co_pass=co_pass,
        ci_pass=ci_pass,
        weight_bits=rules.weight_bits,
        setup=rules.task_setup_cycles,
        packed_weight_bytes=_packed_weight_bytes(node, graph, engine, mode),
    )
    required = ((ch, co_pass),) if geom.tileable(ch) else ()
    if len(spatial) == 2:
        preferred = tuple(
            (d, m) for d, m in zip(spatial, (rules.pe_array_h, rules.pe_array_w), strict=True) if geom.tileable(d)
        )
    else:
        preferred = ((spatial[0], rules.pe_array_h * rules.pe_array_w),) if geom.tileable(spatial[0]) else ()
    return task, required, preferred


def npu_policy(
    node: Node, graph: Graph, geom: Geometry, engine: ComputeEngine, source: WeightSource
) -> tuple[Geometry, KernelPolicy]:
    """The NPU's view of a node: its geometry (Gemm / MatMul batch dimensions whole; the weight operand
    dropped when it is read in place from the weight memory) and kernel policy (task model, output
    channels in whole passes as a hard rule, spatial multiples of the PE array as a soft one)."""
    mode = npu_support(node, graph, engine)
    if node.op_type in ("Gemm", "MatMul"):
        reason = f"{engine.name} maps the rows of one task onto its PE array: batch dimensions whole"
        untileable = tuple(reason if d < geom.rank - 2 else u for d, u in enumerate(geom.untileable))
        geom = dataclasses.replace(geom, untileable=untileable)
    if source.in_place:
        geom = dataclasses.replace(geom, operands=tuple(op for op in geom.operands if op.index != 1))
    task, required, preferred = _task(node, graph, geom, engine, mode, source)
    policy = KernelPolicy(
        preferred_multiples=preferred,
        scratch_bytes=0,
        scratch_reason="",
        macs=node.macs,
        mac_dtype="int8",
        elementwise_ops=0,
        required_multiples=required,
        task=task,
    )
    return geom, policy
