"""Kernel policy as data (preferred tile multiples, per-core scratch, op counts), the cluster engine's
policy, and the seam for accelerators: a policy may carry a `task` (a `TaskModel`) whose cycles over a
tiling the cost model takes from the registry in cost.tasks, instead of the cluster's MAC / op rates.
An accelerator is added locally: its task model and policy builder in ops/<engine>.py (registered in
ops.engines), its compute Poly in cost/<engine>.py (registered in cost.tasks).

Operation counts per output element for operators without MACs (elementwise ops run at the engine's
`elementwise_ops_per_cycle`). They are assumptions, not measurements; each counts the integer
operations of the Deeploy / I-BERT-style kernel per element:

| operator | ops / output element | why |
|---|---|---|
| Add, Sub, Mul, Relu, Clip, copies (Transpose, Concat, Pad, Slice, Gather) | 1 | one op (or copy) |
| RequantShift (also fused into any node) | 3 | multiply, add, shift + clip |
| MaxPool / AveragePool | kh * kw (+1) | one compare / add per window element (+ the division) |
| GlobalAveragePool, IntegerMean, ReduceMean | reduced elements + 1 | one add per input element |
| iHardswish | 4 | add, clip, multiply, shift |
| iGELU | 6 | sign, clip, polynomial (2 mul, 2 add) |
| iRMSNorm | 5 | square-accumulate, per-row sqrt / divide amortized, multiply, shift |
| iLayerNorm, LayerNormalization | 7 | mean, variance, normalize, affine |
| iSoftmax, ITAMax, Softmax | 8 | max, subtract, exp polynomial, sum, divide |
| TrueIntegerDiv | 10 | an integer division (multi-cycle on RV32IM) |

Per-core scratch: a non-1x1 convolution needs an im2col buffer per core of
`C_in / group * kh * kw` elements of the input type (PULP-NN style); other kernels need none.
Preferred multiples: the output-channel tile of Conv / Gemm / MatMul is kept a multiple of 4 (the
4-way int8 SIMD dot product) unless the whole dimension is taken; this is a soft rule the planner drops
when the budget cannot be met otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import Protocol

from ..errors import PlanError
from ..hw.spec import ComputeEngine
from ..ir import Graph, Node
from .geometry import Geometry

SIMD_CHANNEL_MULTIPLE = 4
REQUANT_OPS_PER_ELEMENT = 3

OPS_PER_ELEMENT: dict[str, int] = {
    "Add": 1,
    "Sub": 1,
    "Mul": 1,
    "Relu": 1,
    "Clip": 1,
    "Transpose": 1,
    "Concat": 1,
    "Pad": 1,
    "Slice": 1,
    "Gather": 1,
    "RequantShift": REQUANT_OPS_PER_ELEMENT,
    "RequantFloat": REQUANT_OPS_PER_ELEMENT,
    "QAdd": 4,
    "iHardswish": 4,
    "iGELU": 6,
    "iRMSNorm": 5,
    "iLayerNorm": 7,
    "LayerNormalization": 7,
    "iSoftmax": 8,
    "ITAMax": 8,
    "Softmax": 8,
    "TrueIntegerDiv": 10,
}
MAC_OPS = frozenset({"Conv", "Gemm", "MatMul"})


class TaskModel(Protocol):
    """How an accelerator runs one node, as data. Implementations are frozen dataclasses (hashable: part
    of the policy, hence of the cost-model cache key); cost.tasks maps each implementation's type to the
    function that sums its cycles over a tiling as a Poly."""

    @property
    def packed_weight_bytes(self) -> int | None:
        """Bytes of the node's weight operand in the engine's own layout (None: stored as the plain tensor).
        Computed once, when the task is built; the engine choice and the memory plan read this number."""
        ...


@dataclass(frozen=True)
class WeightSource:
    """Where an accelerator reads a node's weights from: its local level (DMA'd from the home level like any
    operand) or in place from a weight memory; `bytes_per_cycle` is the port it reads them through."""

    level: str
    in_place: bool
    bytes_per_cycle: Fraction  # exact (hw.target), so cycles per weight word are an exact ceiling


@dataclass(frozen=True)
class KernelPolicy:
    """What the kernel of one node needs besides its operand tiles, and how much work it does."""

    preferred_multiples: tuple[tuple[int, int], ...]  # (output dim, multiple); soft
    scratch_bytes: int  # per node, all cores together, before alignment
    scratch_reason: str
    macs: int
    mac_dtype: str | None  # dtype whose MAC rate applies (None: no MACs)
    elementwise_ops: int  # non-MAC operations of the whole node
    required_multiples: tuple[tuple[int, int], ...] = ()  # (output dim, multiple); hard (e.g. NPU passes)
    task: TaskModel | None = None  # an accelerator's task model (e.g. ops.npu.NpuTask); None: MAC / op rates


def _elementwise_ops(node: Node, graph: Graph, geom: Geometry) -> int:
    out = prod(geom.out_shape)
    op = node.op_type
    if op in MAC_OPS:
        ops = 0
    elif op in ("MaxPool", "AveragePool"):
        window = prod(int(k) for k in node.attr("kernel_shape"))
        ops = out * (window + (op == "AveragePool"))
    elif op in ("GlobalAveragePool", "IntegerMean", "ReduceMean"):
        ops = prod(graph.tensor(node.inputs[0]).shape) + out
    elif op in OPS_PER_ELEMENT:
        ops = out * OPS_PER_ELEMENT[op]
    else:
        raise PlanError(f"node {node.name}: no operation count for operator {op}")
    if node.requant is not None:
        ops += out * REQUANT_OPS_PER_ELEMENT
    return ops


def cluster_policy(node: Node, graph: Graph, geom: Geometry, engine: ComputeEngine) -> KernelPolicy:
    """Policy of the portable C kernels on a cluster engine; PlanError when the engine cannot run it."""
    if not engine.supports(node.op_type):
        raise PlanError(f"node {node.name}: engine {engine.name} does not run {node.op_type}")
    preferred: tuple[tuple[int, int], ...] = ()
    scratch, reason = 0, ""
    mac_dtype: str | None = None
    if node.op_type in MAC_OPS:
        a, b = (graph.tensor(node.inputs[i]).dtype for i in (0, 1))
        mac_dtype = max(a, b, key=lambda d: d.itemsize).value
        ch = 1 if node.op_type == "Conv" else geom.rank - 1
        if geom.tileable(ch):
            preferred = ((ch, SIMD_CHANNEL_MULTIPLE),)
    if node.op_type == "Conv" and not graph.tensor(node.outputs[0]).dtype.is_float:
        # (the float32 kernel reads the input in place: no im2col buffer)
        x = graph.tensor(node.inputs[0])
        w = graph.tensor(node.inputs[1])
        kernel = prod(w.shape[2:])
        if kernel > 1:
            per_core = w.shape[1] * kernel * x.dtype.itemsize
            scratch = engine.cores * per_core
            reason = f"im2col scratch of {engine.cores} cores x {per_core} B"
    return KernelPolicy(
        preferred_multiples=preferred,
        scratch_bytes=scratch,
        scratch_reason=reason,
        macs=node.macs,
        mac_dtype=mac_dtype,
        elementwise_ops=_elementwise_ops(node, graph, geom),
    )
