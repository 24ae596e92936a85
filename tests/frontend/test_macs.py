"""frontend.macs: MAC counts worked out by hand for each accumulating operator; 0 for everything else."""

from __future__ import annotations

from deeploy_tiler.frontend.macs import node_macs


def test_conv_counts_output_elements_times_weight_fan_in() -> None:
    # 1x16x8x8 output of a 3x3 conv over 4 input channels: 1024 outputs x (4 * 3 * 3) = 36864.
    assert node_macs("Conv", {}, [(1, 4, 10, 10), (16, 4, 3, 3)], [(1, 16, 8, 8)]) == 36864
    # Depthwise: the weight's channel axis is 1, so each output sums 3 * 3 products.
    assert node_macs("Conv", {"group": 8}, [(1, 8, 6, 6), (8, 1, 3, 3)], [(1, 8, 4, 4)]) == 8 * 16 * 9


def test_gemm_reads_k_from_the_right_axis_of_a() -> None:
    assert node_macs("Gemm", {}, [(5, 7), (7, 3)], [(5, 3)]) == 5 * 3 * 7
    assert node_macs("Gemm", {"transA": 1}, [(7, 5), (7, 3)], [(5, 3)]) == 5 * 3 * 7
    assert node_macs("Gemm", {"transA": 0}, [(2, 9), (9, 4)], [(2, 4)]) == 2 * 4 * 9


def test_matmul_uses_the_last_axis_of_a() -> None:
    assert node_macs("MatMul", {}, [(2, 3, 6), (2, 6, 5)], [(2, 3, 5)]) == 2 * 3 * 5 * 6


def test_non_mac_operators_count_zero() -> None:
    for op in ("Add", "Relu", "MaxPool", "Transpose", "RequantShift", "iSoftmax"):
        assert node_macs(op, {}, [(4, 4), (4, 4)], [(4, 4)]) == 0
