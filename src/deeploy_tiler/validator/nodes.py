"""Per-node checks: operator and output, aliased reshapes, buffers (identity, footprint, layout), the
engine and its rules; then the node's transfers, steps, coverage and schedule (in that order)."""

from __future__ import annotations

import math
from collections.abc import Mapping

from ..errors import HwSpecError
from ..hw.spec import ComputeEngine
from ..ir import DType, Node
from ..plan import L1Buffer, NodePlan
from .context import Context
from .engines import ENGINE_RULES
from .regions import align_up
from .schedule import Simulation
from .steps import check_coverage, check_steps
from .transfers import check_transfers
from .violations import ViolationKind


def check_node(ctx: Context, index: int, np_: NodePlan, node: Node) -> None:
    name = node.name
    if np_.op_type != node.op_type:
        ctx.add(ViolationKind.OP_TYPE, name, f"planned as {np_.op_type}, graph says {node.op_type}")
    if np_.output_tensor not in node.outputs:
        ctx.add(
            ViolationKind.OUTPUT_TENSOR,
            name,
            f"output_tensor {np_.output_tensor!r} is not an output of the node {list(node.outputs)}",
        )
        return
    if np_.alias_of is not None or (node.is_alias and not (np_.steps or np_.buffers)):
        _check_alias(ctx, np_, node)
        return
    buffers = _check_buffers(ctx, np_, node)
    engine = _check_engine(ctx, np_, node, buffers)
    _check_operand_buffers(ctx, np_, node, buffers, engine)
    transfers = check_transfers(ctx, index, np_, buffers)
    check_steps(ctx, np_, node, buffers)
    check_coverage(ctx, np_)
    Simulation(ctx, np_, buffers, transfers).run()


def _check_alias(ctx: Context, np_: NodePlan, node: Node) -> None:
    name = node.name
    if not node.is_alias:
        ctx.add(ViolationKind.ALIAS, name, f"{node.op_type} computes data; it cannot alias {np_.alias_of!r}")
        return
    data_in = node.inputs[0] if node.inputs else None
    if np_.alias_of != data_in:
        ctx.add(ViolationKind.ALIAS, name, f"alias_of is {np_.alias_of!r}, the reshaped input is {data_in!r}")
    if np_.buffers or np_.transfers or np_.steps or np_.events:
        ctx.add(
            ViolationKind.ALIAS,
            name,
            "an aliased reshape moves no data, yet the plan gives it "
            f"{len(np_.buffers)} buffers, {len(np_.transfers)} transfers, {len(np_.steps)} steps",
        )
    if np_.l1_bytes or np_.dma_bytes:
        ctx.add(ViolationKind.ALIAS, name, f"aliased reshape claims l1_bytes={np_.l1_bytes}, dma_bytes={np_.dma_bytes}")


def _check_buffers(ctx: Context, np_: NodePlan, node: Node) -> dict[str, L1Buffer]:
    name = node.name
    inputs = {t for t in node.inputs if t}
    buffers: dict[str, L1Buffer] = {}
    for b in np_.buffers:
        if b.name in buffers:
            ctx.add(ViolationKind.DUPLICATE_BUFFER, name, f"buffer name {b.name!r} used twice")
            continue
        buffers[b.name] = b
        _check_buffer_footprint(ctx, name, b)
    _check_buffer_layout(ctx, np_, list(buffers.values()))
    # buffers of tensors that are no operand are reported and then treated as unknown
    return {k: b for k, b in buffers.items() if _check_buffer_tensor(ctx, name, b, inputs, np_.output_tensor)}


def _check_buffer_tensor(ctx: Context, node: str, b: L1Buffer, inputs: set[str], output: str) -> bool:
    """Role, dtype and rank of the tensor a buffer holds; False when it holds no operand of the node."""
    if b.tensor is None:
        if b.role not in ("scratch", "descriptors"):
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} ({b.role}) names no tensor")
        return True
    if b.tensor == output:
        if b.role != "output":
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} holds the output {b.tensor} as {b.role}")
    elif b.tensor in inputs:
        if b.role not in ("input", "weight"):
            ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} holds operand {b.tensor} as {b.role}")
    else:
        ctx.add(ViolationKind.BUFFER_TENSOR, node, f"buffer {b.name} holds {b.tensor!r}, no operand of the node")
        return False
    t = ctx.graph.tensors[b.tensor]
    if b.dtype != t.dtype.value:
        ctx.add(ViolationKind.DTYPE, node, f"buffer {b.name} declares {b.dtype}, tensor {t.name} is {t.dtype.value}")
    if len(b.tile_shape) != len(t.shape):
        ctx.add(
            ViolationKind.TILE_SHAPE,
            node,
            f"buffer {b.name} tile_shape {b.tile_shape} has not the rank of {t.name} {t.shape}",
        )
    return True


def _itemsize(dtype: str) -> int | None:
    try:
        return DType(dtype).itemsize
    except ValueError:
        return None


def _check_buffer_footprint(ctx: Context, node: str, b: L1Buffer) -> None:
    mem = ctx.levels.get(b.level)
    if mem is None:
        ctx.add(ViolationKind.UNKNOWN_LEVEL, node, f"buffer {b.name} in unknown level {b.level!r}")
        return
    item = _itemsize(b.dtype)
    if item is None:
        ctx.add(ViolationKind.DTYPE, node, f"buffer {b.name}: unknown dtype {b.dtype!r}")
        return
    raw = math.prod(b.tile_shape) * item
    need = align_up(raw, mem.alignment_bytes)
    if b.slot_bytes < need:
        ctx.add(
            ViolationKind.FOOTPRINT,
            node,
            f"buffer {b.name}: slot_bytes {b.slot_bytes} < {need} B (tile {b.tile_shape} x {item} B = {raw} B, "
            f"aligned to {mem.alignment_bytes})",
        )
    for slot in range(b.copies):
        addr = b.offset + slot * b.slot_bytes
        if addr % mem.alignment_bytes:
            ctx.add(
                ViolationKind.ALIGNMENT,
                node,
                f"buffer {b.name} slot {slot} at {addr} is not {mem.alignment_bytes}-byte aligned",
            )
    budget = ctx.budget(b.level)
    if b.offset + b.bytes > budget:
        ctx.add(
            ViolationKind.BUDGET,
            node,
            f"buffer {b.name} spans [{b.offset}, {b.offset + b.bytes}) beyond the {b.level} budget {budget} B",
        )


def _check_buffer_layout(ctx: Context, np_: NodePlan, buffers: list[L1Buffer]) -> None:
    node = np_.name
    ordered = sorted(buffers, key=lambda b: (b.level, b.offset))
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.level != a.level or b.offset >= a.offset + a.bytes:
                break
            if b.bytes and a.bytes:
                ctx.add(
                    ViolationKind.BUFFER_OVERLAP,
                    node,
                    f"buffers {a.name} [{a.offset}, {a.offset + a.bytes}) and {b.name} "
                    f"[{b.offset}, {b.offset + b.bytes}) overlap in {a.level}",
                )
    used = sum(b.bytes for b in buffers if b.level == ctx.l1)
    if np_.l1_bytes != used:
        ctx.add(ViolationKind.L1_BYTES, node, f"l1_bytes is {np_.l1_bytes}, its {ctx.l1} buffers occupy {used} B")
    if ctx.l1 in ctx.levels and max(used, np_.l1_bytes) > ctx.budget(ctx.l1):
        ctx.add(
            ViolationKind.BUDGET,
            node,
            f"uses {max(used, np_.l1_bytes)} B of {ctx.l1}, the budget is {ctx.budget(ctx.l1)} B",
        )


def _check_operand_buffers(
    ctx: Context, np_: NodePlan, node: Node, buffers: Mapping[str, L1Buffer], engine: ComputeEngine | None
) -> None:
    held = {b.tensor for b in buffers.values()}
    if not any(b.tensor == np_.output_tensor and b.role == "output" for b in buffers.values()):
        ctx.add(ViolationKind.MISSING_BUFFER, node.name, f"no output buffer for {np_.output_tensor}")
    for t in dict.fromkeys(node.inputs):
        if not t or t in held or ctx.graph.tensors[t].numel == 0:
            continue
        direct = engine is not None and any(p.level in engine.reads_levels for p in ctx.placed(t))
        if not direct:
            ctx.add(
                ViolationKind.MISSING_BUFFER,
                node.name,
                f"operand {t} has no buffer and is not placed where engine {np_.engine} reads directly",
            )


def _check_engine(ctx: Context, np_: NodePlan, node: Node, buffers: Mapping[str, L1Buffer]) -> ComputeEngine | None:
    try:
        engine = ctx.hw.engine(np_.engine)
    except HwSpecError:
        if np_.engine != "cluster":
            ctx.add(
                ViolationKind.UNKNOWN_ENGINE,
                node.name,
                f"engine {np_.engine!r} is not in spec {ctx.hw.name} ({[e.name for e in ctx.hw.engines]})",
            )
            return None
        engine = ctx.hw.cluster_engine  # "cluster" names the spec's general-purpose engine, whatever its name
    if not engine.supports(node.op_type):
        ctx.add(ViolationKind.ENGINE_OP, node.name, f"engine {engine.name} does not run {node.op_type}")
    for b in buffers.values():
        allowed = engine.writes_levels if b.role == "output" else engine.reads_levels
        if b.level not in allowed:
            ctx.add(
                ViolationKind.BUFFER_LEVEL,
                node.name,
                f"buffer {b.name} ({b.role}) is in {b.level}; engine {engine.name} uses {list(allowed)}",
            )
    for rule in ENGINE_RULES.get(engine.kind, ()):
        for kind, message in rule(np_, node, ctx.graph, engine):
            ctx.add(kind, node.name, message)
    return engine
