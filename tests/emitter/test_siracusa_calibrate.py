"""emitter/calibrate.py: the non-negative least-squares fit recovers known figures, and never a negative one."""

from __future__ import annotations

import numpy as np

from deeploy_tiler.emitter.calibrate import NodeSample, fit, nnls
from deeploy_tiler.hw import load_hw


def test_nnls_recovers_nonnegative_weights_and_clips_negative_ones() -> None:
    rng = np.random.default_rng(0)
    a = rng.uniform(0, 10, size=(40, 3))
    x = np.array([2.0, 0.0, 0.5])
    got = nnls(a, a @ x)
    assert np.allclose(got, x, atol=1e-8)
    # a target needing a negative weight: the fit stays >= 0 and meets the optimality (KKT) conditions
    b = a @ np.array([1.0, -0.5, 1.0])
    got = nnls(a, b)
    grad = a.T @ (b - a @ got)
    assert (got >= 0).all() and got[1] == 0 and got[0] > 0
    assert (grad[got == 0] <= 1e-6).all() and np.allclose(grad[got > 0], 0, atol=1e-6)


def test_fit_recovers_rates_and_overheads() -> None:
    hw = load_hw("siracusa")
    rng = np.random.default_rng(1)
    data, modeled = [], []
    for i in range(30):
        macs, other, tiles = rng.integers(1000, 200000), rng.integers(0, 50000), rng.integers(1, 20)
        dma, transfers = rng.integers(0, 40000), rng.integers(0, 40)
        cycles = 900 + macs / 8.0 + other / 2.0 + tiles * 150 + dma / 6.0 + transfers * 20
        data.append(NodeSample("m", f"n{i}", round(cycles), (1.0, macs, other, tiles, dma, transfers)))
        modeled.append(round(cycles * 0.5))
    cal = fit(data, modeled, hw, "synthetic")
    assert cal.effective_macs_per_cycle is not None and abs(cal.effective_macs_per_cycle - 8.0) < 0.05
    assert cal.elementwise_ops_per_cycle is not None and abs(cal.elementwise_ops_per_cycle - 2.0) < 0.05
    assert abs(cal.call_overhead_cycles - 150) < 5 and abs(cal.dma_setup_cycles - 20) < 3
    assert abs(cal.node_overhead_cycles - 900) < 30
    assert cal.dma_bandwidth_bytes_per_cycle is not None and abs(cal.dma_bandwidth_bytes_per_cycle - 6.0) < 0.1
    assert cal.relative_error_after < 0.01 < cal.relative_error_before
    ov = cal.overrides(hw)
    assert ov["engines.cluster.call_overhead_cycles"] == 150
    assert "dmas.cluster_dma.bandwidth_bytes_per_cycle" in ov
