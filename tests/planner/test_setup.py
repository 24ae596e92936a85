"""planner.setup: candidate tile sizes, the directly computed L1 minimum (against an independent sum of
aligned buffers), dropping the preferred multiples, and the binding-constraint sentence."""

from __future__ import annotations

from deeploy_tiler.cost.model import DESCRIPTOR_BYTES, CostParams
from deeploy_tiler.hw import load_hw
from deeploy_tiler.planner.setup import ModelMemo, binding_constraint, prepare, tile_space
from deeploy_tiler.units import align_up
from tests.solver.graphs import conv, gemm

HW = load_hw("siracusa")
ENGINE = HW.engine("cluster")
PARAMS = CostParams.from_hw(HW)


def test_conv_candidates_keep_the_simd_multiple_and_whole_dimensions() -> None:
    setup = prepare(conv(4, 8, 8, 8, 3, 1, 1).nodes[0], conv(4, 8, 8, 8, 3, 1, 1), ENGINE, PARAMS, 10**6, True)
    # batch 1 is whole; output channels keep multiples of 4; rows and columns take every ceil(8 / k) size.
    assert setup.problem.model.space.candidates == ((1,), (8, 4), (8, 4, 3, 2, 1), (8, 4, 3, 2, 1))
    free = tile_space(setup.geometry, setup.policy, preferred=False)
    assert free.candidates[1] == (8, 4, 3, 2, 1)


def test_min_l1_of_a_small_conv_is_the_sum_of_its_aligned_buffers() -> None:
    graph = conv(4, 8, 8, 8, 3, 1, 1)  # int8 in / weights / out, 3x3, pad 1
    setup = prepare(graph.nodes[0], graph, ENGINE, PARAMS, 10**6, True)
    a = PARAMS.alignment
    # Smallest legal tile 1x4x1x1: an input window of 4 channels x 3 x 3, 4 output channels' weights,
    # 4 outputs; im2col scratch of 8 cores x (4 x 3 x 3) B; one descriptor per buffer.
    expected = (
        align_up(4 * 3 * 3, a)
        + align_up(4 * 4 * 3 * 3, a)
        + align_up(4, a)
        + align_up(8 * 4 * 3 * 3, a)
        + 3 * align_up(DESCRIPTOR_BYTES, a)
    )
    assert setup.min_l1 == expected == 568
    assert setup.min_l1_exact and setup.fits
    # The exact minimum is the least L1 of any choice (brute force over the tile choices).
    model = setup.problem.model
    assert all(model.evaluate(c).l1_bytes >= setup.min_l1 for c in _all_single(model))


def _all_single(model: object) -> list[object]:
    import itertools

    from deeploy_tiler.cost.model import Choice, NodeCostModel

    assert isinstance(model, NodeCostModel)
    single = (False,) * len(model.buffers)
    return [Choice(tiles=t, double=single) for t in itertools.product(*(range(len(c)) for c in model.space.candidates))]


def test_untiled_gemm_l1_by_hand() -> None:
    graph = gemm(16, 64, 32)  # int8 16x64 and 32x64, int32 16x32 output
    model = prepare(graph.nodes[0], graph, ENGINE, PARAMS, 10**6, False).problem.model
    assert model.evaluate(model.untiled()).l1_bytes == 16 * 64 + 32 * 64 + 16 * 32 * 4 + 3 * DESCRIPTOR_BYTES


def test_preferred_multiple_dropped_only_when_it_blocks_the_budget() -> None:
    graph = conv(4, 6, 8, 8, 3, 1, 1)  # 6 output channels: multiples of 4 leave only the whole 6
    kept = prepare(graph.nodes[0], graph, ENGINE, PARAMS, 10**6, True)
    assert not kept.preferred_dropped and kept.problem.model.space.candidates[1] == (6,)
    tight = prepare(graph.nodes[0], graph, ENGINE, PARAMS, kept.min_l1 - 1, True)
    assert tight.preferred_dropped
    assert tight.min_l1 < kept.min_l1
    assert tight.problem.model.space.candidates[1] == (6, 3, 2, 1)
    assert tight.problem.budget == kept.min_l1 - 1


def test_memo_shares_models_of_equal_signatures() -> None:
    memo: ModelMemo = {}
    a, b = conv(4, 8, 8, 8, 3, 1, 1), conv(4, 8, 8, 8, 3, 1, 1)
    sa = prepare(a.nodes[0], a, ENGINE, PARAMS, 10**6, True, memo=memo)
    sb = prepare(b.nodes[0], b, ENGINE, PARAMS, 10**6, True, memo=memo)
    assert sa.problem.model is sb.problem.model and len(memo) == 1


def test_binding_constraint_names_the_largest_parts() -> None:
    graph = conv(4, 8, 8, 8, 3, 1, 1)
    setup = prepare(graph.nodes[0], graph, ENGINE, PARAMS, 100, True)
    # A 100 B budget drops the multiple of 4: smallest tile 1x1x1x1, 36 B input window + 36 B weights
    # + 4 B output (1 B aligned) + 288 B scratch + 96 B descriptors = 460 B.
    assert setup.preferred_dropped and setup.min_l1 == 36 + 36 + 4 + 288 + 96 and not setup.fits
    assert binding_constraint(setup) == (
        "Conv at its smallest legal tile 1x1x1x1 needs 460 B: im2col scratch of 8 cores x 36 B = 288 B, "
        "DMA descriptors 96 B, input in0 36 B (untileable input-channel reduction of Conv needs all 4 input channels)"
    )
