"""Operator geometry on hand-made cases: halos, strides, padding at the borders only, depthwise, maps."""

from __future__ import annotations

import pytest

from deeploy_tiler.ir import DType
from deeploy_tiler.ops import Follow, Full, node_geometry
from deeploy_tiler.ops.geometry import contiguous_runs, dim_tiles, tile_candidates
from tests.solver.graphs import conv, gemm, matmul, single_node


def test_span_halo_and_padding_only_at_borders() -> None:
    m = Follow(out_dim=2, stride=1, window=3, pad_begin=1)  # 3x3, pad 1: output 8 from input 8
    assert m.span(0, 4, 8) == (0, 5)  # first tile: top padding clipped, one halo row below
    assert m.span(4, 4, 8) == (3, 5)  # last tile: one halo row above, bottom padding clipped
    assert m.span(2, 2, 8) == (1, 4)  # interior: halo on both sides
    assert m.span(0, 8, 8) == (0, 8)


def test_span_stride_dilation_and_empty() -> None:
    s2 = Follow(out_dim=2, stride=2, window=3, pad_begin=1)  # 3x3 stride 2 pad 1: 16 -> 8
    assert s2.span(0, 1, 16) == (0, 2)
    assert s2.span(3, 2, 16) == (5, 5)
    assert s2.span(7, 1, 16) == (13, 3)
    dil = Follow(out_dim=2, stride=1, window=5, pad_begin=0)  # 3 taps, dilation 2
    assert dil.span(1, 2, 10) == (1, 6)
    pad3 = Follow(out_dim=2, stride=2, window=3, pad_begin=3)  # ICCT's stem: output row 0 reads only padding
    assert pad3.span(0, 1, 32)[1] == 0
    assert Follow(0, stride=2, window=1).has_gaps and not s2.has_gaps


def test_tile_candidates_and_tiles() -> None:
    assert tile_candidates(7) == (7, 4, 3, 2, 1)
    assert tile_candidates(64)[:6] == (64, 32, 22, 16, 13, 11)
    assert dim_tiles(7, 3) == ((0, 3), (3, 3), (6, 1))
    with pytest.raises(ValueError):
        dim_tiles(7, 8)


def test_contiguous_runs() -> None:
    shape = (4, 3, 8)
    assert contiguous_runs(((0, 2), (0, 3), (0, 8)), shape) == 1  # whole rows of the outer dim
    assert contiguous_runs(((0, 2), (0, 2), (0, 8)), shape) == 2
    assert contiguous_runs(((0, 2), (0, 3), (0, 4)), shape) == 6
    assert contiguous_runs(((0, 3), (1, 1), (0, 8)), shape) == 3
    assert contiguous_runs(((0, 2), (0, 3), (0, 4)), shape, max_dims=2) == 2  # 2-D transfers of 3 rows
    assert contiguous_runs((), ()) == 1


def test_conv_geometry() -> None:
    geo = node_geometry(*_only(conv(8, 16, 10, 10, 3, 2, 1)))
    assert geo.out_shape == (1, 16, 5, 5)
    assert geo.loop_order == (1, 0, 2, 3)  # output channels outermost
    x, w = geo.operands
    assert x.dims[0] == Follow(0) and isinstance(x.dims[1], Full)
    assert x.dims[2] == Follow(2, stride=2, window=3, pad_begin=1)
    assert w.dims[0] == Follow(1) and all(isinstance(m, Full) for m in w.dims[1:])
    assert "input-channel reduction" in w.dims[1].reason  # type: ignore[union-attr]
    assert x.region(((0, 1), (0, 4), (1, 2), (0, 5))) == ((0, 1), (0, 8), (1, 5), (0, 10))


def test_depthwise_channel_tile_follows_output_channels() -> None:
    geo = node_geometry(*_only(conv(8, 8, 6, 6, 3, 1, 1, depthwise=True)))
    x, w = geo.operands
    assert x.dims[1] == Follow(1)
    assert x.region(((0, 1), (4, 4), (0, 6), (0, 6))) == ((0, 1), (4, 4), (0, 6), (0, 6))
    assert w.region(((0, 1), (4, 4), (0, 6), (0, 6))) == ((4, 4), (0, 1), (0, 3), (0, 3))


def test_gemm_and_matmul_maps() -> None:
    geo = node_geometry(*_only(gemm(4, 32, 10, trans_b=True)))
    a, b = geo.operands
    assert a.dims == (Follow(0), a.dims[1]) and isinstance(a.dims[1], Full)
    assert b.dims[0] == Follow(1) and isinstance(b.dims[1], Full)
    assert geo.loop_order == (1, 0)
    mm = node_geometry(*_only(matmul(3, 4, 8, 5, b_batch=False)))
    a, b = mm.operands
    assert a.dims[:2] == (Follow(0), Follow(1)) and isinstance(a.dims[2], Full)
    assert isinstance(b.dims[0], Full) and b.dims[1] == Follow(2)
    assert mm.loop_order == (0, 2, 1)


def test_broadcast_transpose_concat_gather_reduce_norm() -> None:
    g = single_node("Add", [((1, 4, 6), DType.INT8, False), ((6,), DType.INT8, True), ((4, 1), DType.INT8, True)], {})
    geo = node_geometry(*_only(g))
    assert geo.operands[1].dims == (Follow(2),)
    assert geo.operands[2].dims[0] == Follow(1) and isinstance(geo.operands[2].dims[1], Full)

    tr = node_geometry(*_only(single_node("Transpose", [((2, 3, 5), DType.INT8, False)], {"perm": (2, 0, 1)})))
    assert tr.out_shape == (5, 2, 3)
    assert tr.operands[0].dims == (Follow(1), Follow(2), Follow(0))

    cat = node_geometry(
        *_only(
            single_node("Concat", [((1, 4, 6, 2), DType.INT8, False), ((1, 4, 1, 2), DType.INT8, False)], {"axis": -2})
        )
    )
    assert cat.untileable[2] is not None and cat.untileable[1] is None
    assert isinstance(cat.operands[1].dims[2], Full)

    ga = node_geometry(
        *_only(single_node("Gather", [((1, 1, 8, 6), DType.INT8, False), ((), DType.INT8, True)], {"axis": 1}))
    )
    assert ga.out_shape == (1, 8, 6) and ga.untileable == (None, None, None)
    assert ga.operands[0].dims[2] == Follow(1) and isinstance(ga.operands[0].dims[1], Full)

    red = node_geometry(
        *_only(single_node("IntegerMean", [((1, 6, 8), DType.INT8, False)], {"axes": (1,), "keepdims": 0}))
    )
    assert red.out_shape == (1, 8)
    assert red.operands[0].dims[2] == Follow(1) and isinstance(red.operands[0].dims[1], Full)

    sm = node_geometry(*_only(single_node("iSoftmax", [((2, 3, 7), DType.INT8, False)], {})))
    assert sm.untileable[2] is not None and not sm.tileable(2) and sm.tileable(1)


def test_pad_and_slice_are_shifted_identities() -> None:
    pad = node_geometry(*_only(single_node("Pad", [((1, 4, 4), DType.INT8, False)], {"pads": (0, 1, 2, 0, 1, 0)})))
    assert pad.out_shape == (1, 6, 6)
    assert pad.operands[0].dims[2] == Follow(2, pad_begin=2)
    assert pad.operands[0].region(((0, 1), (0, 3), (0, 3))) == ((0, 1), (0, 2), (0, 1))
    sl = node_geometry(
        *_only(
            single_node(
                "Slice", [((10, 4), DType.INT8, False)], {"starts": (1,), "ends": (9,), "axes": (0,), "steps": (2,)}
            )
        )
    )
    assert sl.out_shape == (4, 4)
    assert sl.operands[0].region(((1, 2), (0, 4))) == ((3, 3), (0, 4))


def _only(g):  # type: ignore[no-untyped-def]
    return g.nodes[0], g
