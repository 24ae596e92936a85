"""Step checks: bookkeeping, operand regions against `needed_regions`, region bounds, coverage of the output."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from deeploy_tiler.frontend import load_onnx
from deeploy_tiler.ir import DType
from deeploy_tiler.validator import validate

from .builders import (
    HW,
    K,
    alias_node,
    assert_clean,
    build_node,
    constant,
    edit,
    graph_input,
    kinds,
    make_plan,
    one_node_graph,
    single_plan,
    with_node,
)
from .cases import CASES, conv3x3_rows, conv_plan, two_node


def test_node_bookkeeping_defects() -> None:
    graph, plan = two_node()
    n = plan.nodes[0]
    assert kinds(with_node(plan, num_tiles=3), graph) == {K.NUM_TILES}
    assert kinds(with_node(plan, loop_order=(0, 0)), graph) == {K.LOOP_ORDER}
    assert kinds(with_node(plan, tile_shape=(1, 4)), graph) == {K.TILE_SHAPE}
    assert kinds(with_node(plan, dma_bytes=n.dma_bytes + 1), graph) == {K.DMA_BYTES}


@pytest.mark.parametrize("case", sorted(set(CASES) - {"conv1x1_channels"}))
def test_a_tile_missing_one_row_of_its_input_is_caught(case: str) -> None:
    """Shrink the first data operand's region of one tile (consistently in step and transfer)."""
    graph, tiles = CASES[case]()
    data = graph.nodes[0].inputs[0]
    i = next(j for j, tile in enumerate(tiles) if data in tile)
    region = tiles[i][data]
    dim = max(range(len(region)), key=lambda d: region[d][1])
    s, n = region[dim]
    tiles[i] = {**tiles[i], data: tuple((s + 1, n - 1) if d == dim else r for d, r in enumerate(region))}
    assert kinds(single_plan(graph, tiles), graph) == {K.INPUT_REGION}


def test_mini_mobilenet_depthwise_tiled_in_rows_and_channels(model_dirs: dict[str, Path]) -> None:
    graph = load_onnx(model_dirs["miniMobileNet"] / "network.onnx")
    node = graph.node("Conv_2")  # depthwise 3x3, 32 channels, 4x4, pad 1
    x, w, mul, add = node.inputs
    tiles = []
    for c in (0, 16):
        for o0, rows in ((0, (0, 3)), (2, (1, 3))):
            ch = (c, 16)
            tiles.append(
                {
                    x: ((0, 1), ch, rows, (0, 4)),
                    w: (ch, (0, 1), (0, 3), (0, 3)),
                    mul: (ch, (0, 1), (0, 1)),
                    add: (ch, (0, 1), (0, 1)),
                    node.outputs[0]: ((0, 1), ch, (o0, 2), (0, 4)),
                }
            )
    nodes = [
        alias_node(graph, n)
        if n.is_alias
        else build_node(
            graph, n, [{t: tuple((0, d) for d in graph.tensors[t].shape) for t in (*n.inputs, *n.outputs) if t}]
        )
        for n in graph.nodes
    ]
    nodes[1] = build_node(graph, node, tiles, double=True)
    plan = make_plan(graph, nodes)
    assert_clean(plan, graph)
    # as if it were a dense conv: the step would need all 32 input channels
    wrong = [{**t, x: ((0, 1), (0, 32), t[x][2], (0, 4))} for t in tiles]
    nodes[1] = build_node(graph, node, wrong, double=True)
    assert kinds(make_plan(graph, nodes), graph) == set()  # holding more than needed is fine
    narrow = [{**t, x: ((0, 1), (t[x][1][0], 8), t[x][2], (0, 4))} for t in tiles]
    nodes[1] = build_node(graph, node, narrow)
    assert kinds(make_plan(graph, nodes), graph) == {K.INPUT_REGION}


def test_coverage_gap_and_overlap() -> None:
    graph, tiles = conv3x3_rows()
    gap = [tiles[0]]
    assert kinds(single_plan(graph, gap), graph) == {K.COVERAGE}
    # tiles overlapping by one output row (the second tile shifted up; its input region follows)
    shifted = {**tiles[1], "y": ((0, 1), (0, 8), (3, 4), (0, 8)), "x": ((0, 1), (0, 4), (2, 6), (0, 8))}
    found = validate(single_plan(graph, [tiles[0], shifted]), graph, HW)
    assert {v.kind for v in found} == {K.COVERAGE}
    assert any("several steps" in v.message for v in found) and any("no step" in v.message for v in found)


def _spans(cuts: Sequence[int], n: int) -> list[tuple[int, int]]:
    return [(a, b - a) for a, b in zip([0, *cuts], [*cuts, n], strict=True)]


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_random_partitions_validate_and_a_dropped_tile_fails(data: st.DataObject) -> None:
    h = data.draw(st.integers(1, 9), label="h")
    w = data.draw(st.integers(1, 9), label="w")
    row_cuts = sorted(data.draw(st.sets(st.integers(1, h - 1), max_size=3), label="rows")) if h > 1 else []
    col_cuts = sorted(data.draw(st.sets(st.integers(1, w - 1), max_size=3), label="cols")) if w > 1 else []
    graph = one_node_graph("Add", [graph_input((h, w)), constant((w,), "b")], (h, w), DType.INT32)
    tiles = [{"x": (r, c), "b": (c,), "y": (r, c)} for r in _spans(row_cuts, h) for c in _spans(col_cuts, w)]
    tiles = data.draw(st.permutations(tiles), label="order")
    double = data.draw(st.booleans(), label="double")
    assert_clean(single_plan(graph, tiles, double=double), graph)
    if len(tiles) > 1:
        drop = data.draw(st.integers(0, len(tiles) - 1), label="drop")
        assert kinds(single_plan(graph, [t for i, t in enumerate(tiles) if i != drop], double=double), graph) == {
            K.COVERAGE
        }


def test_region_outside_the_tensor() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    regions = {**n.steps[1].regions, "buf_x": ((0, 1), (0, 4), (4, 5), (0, 8))}  # rows 4..9 of 8
    assert K.REGION_BOUNDS in kinds(with_node(plan, steps=edit(n.steps, 1, regions=regions)), graph)
    bad = edit(n.transfers, 1, region=((0, 1), (0, 4), (4, 5), (0, 8)))
    assert K.REGION_BOUNDS in kinds(with_node(plan, transfers=bad), graph)
    out = edit(n.steps, 1, output_region=((0, 1), (0, 8), (5, 4), (0, 8)))
    assert K.REGION_BOUNDS in kinds(with_node(plan, steps=out), graph)


def test_output_buffer_region_must_hold_the_output_tile() -> None:
    graph, plan = conv_plan(double=False)
    n = plan.nodes[0]
    regions = {**n.steps[0].regions, "buf_y": ((0, 1), (0, 8), (0, 2), (0, 8))}
    assert K.OUTPUT_REGION in kinds(with_node(plan, steps=edit(n.steps, 0, regions=regions)), graph)


def test_unknown_buffer_and_missing_slot_in_a_step() -> None:
    graph, plan = conv_plan()
    n = plan.nodes[0]
    regions = {**n.steps[0].regions, "nope": ((0, 1),)}
    assert K.UNKNOWN_BUFFER in kinds(with_node(plan, steps=edit(n.steps, 0, regions=regions)), graph)
    slots = {k: v for k, v in n.steps[0].slots.items() if k != "buf_x"}
    assert K.SLOT in kinds(with_node(plan, steps=edit(n.steps, 0, slots=slots)), graph)
    assert K.SLOT in kinds(with_node(plan, steps=edit(n.steps, 0, slots={**n.steps[0].slots, "buf_w": 1})), graph)
