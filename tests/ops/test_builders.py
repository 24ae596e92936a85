"""ops.builders: access maps of Conv / Gemm / MatMul; every tile's operand region is the tight hull of the
operand indices the operator's definition reads for that tile (brute force over the output elements)."""

from __future__ import annotations

import itertools
import random

from deeploy_tiler.ir import DType
from deeploy_tiler.ops.builders import node_geometry
from deeploy_tiler.ops.geometry import Follow, Full
from tests.solver.graphs import conv, matmul, single_node


def _hull(points: list[tuple[int, ...]], rank: int) -> tuple[tuple[int, int], ...]:
    return tuple(
        (min(p[d] for p in points), max(p[d] for p in points) - min(p[d] for p in points) + 1) for d in range(rank)
    )


def test_conv_input_region_is_the_hull_of_the_window_reads() -> None:
    rng = random.Random(5)
    for _ in range(30):
        c_in, c_out = rng.choice([2, 4]), rng.choice([4, 6])
        h, w, k = rng.randint(4, 9), rng.randint(4, 9), rng.choice([1, 3])
        stride, pad = rng.choice([1, 2]), (k // 2) * rng.choice([0, 1])
        graph = conv(c_in, c_out, h, w, k, stride, pad)
        geom = node_geometry(graph.nodes[0], graph)
        x_op, w_op = geom.operands[0], geom.operands[1]
        _, co, oh, ow = geom.out_shape
        for _ in range(5):
            r0, c0 = rng.randrange(oh), rng.randrange(ow)
            rs, cs = rng.randint(1, oh - r0), rng.randint(1, ow - c0)
            ch0 = rng.randrange(co)
            chs = rng.randint(1, co - ch0)
            tile = ((0, 1), (ch0, chs), (r0, rs), (c0, cs))
            reads = [
                (0, ci, y * stride - pad + ky, x * stride - pad + kx)
                for y in range(r0, r0 + rs)
                for x in range(c0, c0 + cs)
                for ci in range(c_in)
                for ky in range(k)
                for kx in range(k)
                if 0 <= y * stride - pad + ky < h and 0 <= x * stride - pad + kx < w
            ]
            assert x_op.region(tile) == _hull(reads, 4), (graph.name, tile)
            assert w_op.region(tile) == ((ch0, chs), (0, c_in), (0, k), (0, k))


def test_gemm_maps_follow_the_transposes() -> None:
    for trans_a, trans_b in itertools.product((0, 1), repeat=2):
        a = (8, 5) if trans_a else (5, 8)
        b = (3, 8) if trans_b else (8, 3)
        graph = single_node(
            "Gemm",
            [(a, DType.INT8, False), (b, DType.INT8, True)],
            {"transA": trans_a, "transB": trans_b},
            DType.INT32,
        )
        geom = node_geometry(graph.nodes[0], graph)
        assert geom.out_shape == (5, 3)
        tile = ((1, 2), (0, 2))
        a_reg, b_reg = (op.region(tile) for op in geom.operands)
        assert a_reg == (((0, 8), (1, 2)) if trans_a else ((1, 2), (0, 8)))
        assert b_reg == (((0, 2), (0, 8)) if trans_b else ((0, 8), (0, 2)))
        assert all(geom.untileable[d] is None for d in (0, 1))


def test_matmul_batch_and_broadcast_weights() -> None:
    graph = matmul(3, 4, 6, 5, b_batch=False)  # A 3x4x6, B 6x5 shared by every batch
    geom = node_geometry(graph.nodes[0], graph)
    assert geom.out_shape == (3, 4, 5)
    a_op, b_op = geom.operands
    assert isinstance(a_op.dims[2], Full) and isinstance(b_op.dims[0], Full)
    assert a_op.dims[0] == Follow(0) and a_op.dims[1] == Follow(1) and b_op.dims[1] == Follow(2)
    tile = ((1, 2), (0, 3), (2, 3))
    assert a_op.region(tile) == ((1, 2), (0, 3), (0, 6))
    assert b_op.region(tile) == ((0, 6), (2, 3))
    # Loop order: batch outermost, then N, then M innermost.
    assert geom.loop_order == (0, 2, 1)


def test_elementwise_add_broadcasts_a_row() -> None:
    graph = single_node("Add", [((4, 6), DType.INT8, False), ((1, 6), DType.INT8, True)], {})
    geom = node_geometry(graph.nodes[0], graph)
    x, bias = geom.operands
    tile = ((2, 2), (1, 3))
    assert x.region(tile) == ((2, 2), (1, 3))
    assert bias.region(tile) == ((0, 1), (1, 3))
