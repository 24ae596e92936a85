"""Heterogeneous plans (cluster + N-EUREKA functional model) run bit-exactly on host and RV32."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deeploy_tiler as dt
from deeploy_tiler.emitter import toolchain_available

MODELS = ["miniMobileNet", "miniMobileNetv2", "MLPerf/KeywordSpotting", "microLlama/INT8/microLlama8"]


@pytest.mark.parametrize("name", MODELS)
def test_heterogeneous_plan_is_bit_exact(name: str, model_dirs: dict[str, Path], tmp_path: Path) -> None:
    folder = model_dirs[name]
    graph = dt.load_model(folder / "network.onnx")
    hw = dt.load_hw("siracusa_neureka")
    plan = dt.plan(graph, hw)
    assert dt.validate(plan, graph, hw) == []
    npu_nodes = [n.name for n in plan.nodes if n.engine == "neureka"]
    assert npu_nodes, "the solver should map some layers of this model to the NPU"
    assert any(p.level == "WMEM" for p in plan.memory)
    targets = ("host", "rv32") if toolchain_available("rv32") else ("host",)
    inputs = dt.load_inputs(graph, folder / "inputs.npz")
    expected = dt.load_outputs(graph, folder / "outputs.npz")
    outcome = dt.verify(plan, graph, hw, tmp_path, inputs=inputs, expected=expected, targets=targets)
    for built, run in outcome.results:
        assert run.passed, (built.target, [(o.name, o.mismatches, o.first_index) for o in run.outputs])
        assert all(o.mismatches == 0 for o in run.outputs)
        assert built.within_budgets
    assert outcome.passed
    # the emitted network really issues NPU tasks for the NPU-mapped nodes
    assert "dt_npu_run_task" in (tmp_path / "network.c").read_text()
    assert np.all([np.array_equal(v, dt.reference_run(graph, inputs)[k]) for k, v in expected.items()])
