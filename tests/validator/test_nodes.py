"""Per-node checks: buffer identity, footprints, alignment, layout, L1 bytes, operand buffers, the engine."""

from __future__ import annotations

from deeploy_tiler.hw import load_hw

from .builders import K, assert_clean, build_node, edit, kinds, make_plan, single_plan, with_node
from .cases import add_tiles, conv1x1_channels, conv_plan


def test_footprint_defects() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    bufs = n.buffers
    x = bufs[0]
    assert x.copies == 2 and x.slot_bytes == 4 * 5 * 8
    assert kinds(with_node(plan, buffers=edit(bufs, 0, slot_bytes=x.slot_bytes - 4)), graph) >= {K.FOOTPRINT}
    # odd tile: 3 bytes must round up to 4 (the L1 alignment)
    assert kinds(with_node(plan, buffers=edit(bufs, 0, dtype="int16")), graph) >= {K.DTYPE, K.FOOTPRINT}
    assert kinds(with_node(plan, buffers=edit(bufs, 0, dtype="float")), graph) >= {K.DTYPE}
    assert kinds(with_node(plan, buffers=edit(bufs, 0, tile_shape=(1, 4, 4, 8))), graph) >= {K.TILE_SHAPE}


def test_alignment_overlap_budget_and_l1_bytes() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    bufs = n.buffers
    last = bufs[-1]
    shifted = edit(bufs, len(bufs) - 1, offset=last.offset + 2)
    assert kinds(with_node(plan, buffers=shifted, l1_bytes=n.l1_bytes + 2), graph) == {K.ALIGNMENT, K.L1_BYTES}
    overlap = edit(bufs, 1, offset=bufs[0].offset + bufs[0].slot_bytes)  # w onto x's second slot
    assert K.BUFFER_OVERLAP in kinds(with_node(plan, buffers=overlap), graph)
    # a slot size that is not a multiple of the alignment misaligns slot 1
    odd = edit(bufs, 0, slot_bytes=bufs[0].slot_bytes + 2)
    assert K.ALIGNMENT in kinds(with_node(plan, buffers=odd), graph)
    assert kinds(with_node(plan, l1_bytes=n.l1_bytes - 1), graph) == {K.L1_BYTES}
    tight = plan.model_copy(update={"budgets": {**plan.budgets, "L1": n.l1_bytes - 4}})
    assert kinds(tight, graph) == {K.BUDGET}
    # the L1 budget plus the stacks must fit the 256 KiB
    big = plan.model_copy(update={"budgets": {**plan.budgets, "L1": 262_144 - 38_400 + 4}})
    assert kinds(big, graph) == {K.LEVEL_CAPACITY}
    assert kinds(plan.model_copy(update={"budgets": {**plan.budgets, "L9": 4}}), graph) == {K.UNKNOWN_LEVEL}
    assert K.UNKNOWN_LEVEL in kinds(with_node(plan, buffers=edit(bufs, 0, level="TCDM")), graph)


def test_buffer_identity_defects() -> None:
    graph, plan = conv_plan()
    bufs = plan.nodes[0].buffers
    assert K.BUFFER_TENSOR in kinds(with_node(plan, buffers=edit(bufs, 0, tensor="h")), graph)
    assert K.BUFFER_TENSOR in kinds(with_node(plan, buffers=edit(bufs, 0, role="output")), graph)
    dup = (*bufs, bufs[0].model_copy(update={"offset": 60_000}))
    assert K.DUPLICATE_BUFFER in kinds(with_node(plan, buffers=dup), graph)


def test_missing_operand_buffer() -> None:
    graph, tiles = conv1x1_channels()
    node = build_node(graph, graph.nodes[0], [{k: v for k, v in t.items() if k != "w"} for t in tiles], skip=("w",))
    assert kinds(make_plan(graph, [node]), graph) == {K.MISSING_BUFFER}


def test_rv32_engine_is_the_cluster() -> None:
    rv = load_hw("rv32_mcu")
    graph, tiles = add_tiles()
    plan = single_plan(graph, tiles, hw=rv, l1=rv.l1.budget_bytes)
    plan = plan.model_copy(update={"budgets": {"L1": rv.l1.budget_bytes}})
    assert_clean(plan, graph, rv)
