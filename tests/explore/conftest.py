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
