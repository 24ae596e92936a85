"""One sweep point: what a run is (decode steps), and a failing point recorded, not fatal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import points
from deeploy_tiler.explore import sweep as sw


def test_a_failing_point_is_recorded_and_the_sweep_goes_on(
    graph: dt.Graph, hw: dt.HwSpec, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = dt.api.plan

    def flaky(g: dt.Graph, spec: dt.HwSpec, **kw: Any) -> dt.Plan:
        if kw.get("l1") == 2048:
            raise RuntimeError("solver exploded")
        return real(g, spec, **kw)

    monkeypatch.setattr(dt.api, "plan", flaky)
    r = sw.sweep(graph, hw, l1_grid=[1024, 2048, 4096], executor="serial", search=False)
    assert [p.status for p in r.points] == ["ok", "error", "ok"]
    assert r.points[1].message == "RuntimeError: solver exploded"


def test_decode_steps_get_tokens_per_second(testdata_dir: Path, graph: dt.Graph) -> None:
    lm = dt.load_model(testdata_dir / "Models" / "microLlama" / "INT8" / "microLlama1" / "network.onnx")
    assert points.decode_tokens_per_step(lm) == 1
    assert points.decode_tokens_per_step(graph) is None  # the bundled layer runs 8 tokens at once: not a decode step


def test_l3_traffic_of_a_point_is_the_plans(graph: dt.Graph, hw: dt.HwSpec) -> None:
    """A small L2 streams weights from L3: the point records the plan's L3 bytes, per token for a decode step,
    and the cycles nodes wait for the copies; an L2 that holds everything moves nothing from L3."""
    ctx = points._Context(graph, hw, 2, {})
    small = points._run_point(ctx, points._PointTask(0, 4096, 3760, True, ()))
    p = dt.plan(graph, hw, l1=4096, l2=3760)
    assert small.status == "ok" and p.staging
    assert small.l3_bytes == p.l3_bytes > 0
    assert small.l3_bytes_per_token == p.l3_bytes / 2
    assert small.l3_wait_cycles == sum(s.exposed_cycles for s in p.staging)
    big = points._run_point(points._Context(graph, hw, None, {}), points._PointTask(1, 4096, 65536, True, ()))
    assert big.l3_bytes == 0 and big.l3_wait_cycles == 0 and big.l3_bytes_per_token is None
    assert small.total_cycles is not None and big.total_cycles is not None
    assert small.total_cycles >= big.total_cycles  # streaming never models faster than resident here
