"""Fixtures of the explore tests: the bundled layer, the Siracusa spec, a small sweep and two plans."""

from __future__ import annotations

from pathlib import Path

import pytest

import deeploy_tiler as dt
from deeploy_tiler.explore import sweep as sw


@pytest.fixture(scope="session")
def graph() -> dt.Graph:
    return dt.load_model()


@pytest.fixture(scope="session")
def hw() -> dt.HwSpec:
    return dt.load_hw("siracusa")


@pytest.fixture(scope="session")
def mobilenet(testdata_dir: Path) -> dt.Graph:
    return dt.load_model(testdata_dir / "Models" / "miniMobileNet" / "network.onnx")


@pytest.fixture(scope="session")
def result(graph: dt.Graph, hw: dt.HwSpec) -> sw.SweepResult:
    """Three L1 budgets (256 B is infeasible) with and without double buffering, searched."""
    return sw.sweep(graph, hw, l1_grid=[256, 1024, 4096], double_buffer=[True, False], executor="serial")


@pytest.fixture(scope="session")
def plans(graph: dt.Graph, hw: dt.HwSpec) -> tuple[dt.Plan, dt.Plan]:
    return dt.plan(graph, hw, l1=2048), dt.plan(graph, hw, l1=2048, double_buffer=False)


# --- the models of the report tests (issue 16): a 385-node decode step, its 8-token sibling, a CNN ----------


@pytest.fixture(scope="session")
def ml64(testdata_dir: Path) -> tuple[dt.Graph, dt.HwSpec, dt.Plan]:
    """microLlama64 on Siracusa at the spec's budgets (385 nodes, 623 tensors in L2)."""
    graph = dt.load_model(testdata_dir / "Models" / "microLlama" / "INT8" / "microLlama64" / "network.onnx")
    hw = dt.load_hw("siracusa")
    return graph, hw, dt.plan(graph, hw)


@pytest.fixture(scope="session")
def ml8_sweep(testdata_dir: Path) -> tuple[dt.Graph, dt.HwSpec, sw.SweepResult, dt.Plan]:
    """microLlama8 over three L1 budgets (no search: it is the slow part), and the plan at the fastest."""
    graph = dt.load_model(testdata_dir / "Models" / "microLlama" / "INT8" / "microLlama8" / "network.onnx")
    hw = dt.load_hw("siracusa")
    result = sw.sweep(graph, hw, l1_grid=[4096, 16384, 65536], executor="serial", search=False)
    return graph, hw, result, dt.plan(graph, hw, l1=65536)


@pytest.fixture(scope="session")
def mnv2(testdata_dir: Path) -> tuple[dt.Graph, dt.HwSpec, dt.Plan]:
    """miniMobileNetv2 on Siracusa with N-EUREKA: engine choices, and a WMEM level."""
    graph = dt.load_model(testdata_dir / "Models" / "miniMobileNetv2" / "network.onnx")
    hw = dt.load_hw("siracusa_neureka")
    return graph, hw, dt.plan(graph, hw)


# --- an L2 sweep that streams: the bundled layer from "all streamed" (its smallest L2) to "all resident" ----


@pytest.fixture(scope="session")
def l2_sweep(graph: dt.Graph, hw: dt.HwSpec) -> sw.SweepResult:
    """L1 4 KiB; L2 3,500 B (infeasible), 3,760 B (the smallest: every weight streams), 8 KiB, 64 KiB (all
    resident); searched."""
    return sw.sweep(graph, hw, l1_grid=[4096], l2_grid=[3500, 3760, 8192, 65536], executor="serial")
