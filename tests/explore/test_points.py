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
