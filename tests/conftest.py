"""Shared test fixtures: where the third-party test models live and how to feed them.

The Deeploy test models (`../shared/data/deeploy-tests` beside the repository, or the folder named by
`DEEPLOY_TILER_TESTDATA`) are read in place and never modified. When the folder is missing, tests that
need it are skipped locally and FAIL when the environment variable `CI` is set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from deeploy_tiler.frontend import load_onnx
from deeploy_tiler.ir import DType, Graph

REPO_ROOT = Path(__file__).resolve().parent.parent

# The eight shared models, as folders below `<testdata>/Models/`.
SHARED_MODELS = (
    "miniMobileNet",
    "miniMobileNetv2",
    "CNN_Linear1",
    "MLPerf/KeywordSpotting",
    "CCT/Int/ICCT",
    "microLlama/INT8/microLlama1",
    "microLlama/INT8/microLlama8",
    "microLlama/INT8/microLlama64",
)


def testdata_path() -> Path:
    """The deeploy-tests folder: `$DEEPLOY_TILER_TESTDATA`, else `../shared/data/deeploy-tests`."""
    env = os.environ.get("DEEPLOY_TILER_TESTDATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "deeploy-tests"


def _missing(what: str) -> None:
    msg = f"{what} (set DEEPLOY_TILER_TESTDATA to the deeploy-tests folder)"
    if os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)


@pytest.fixture(scope="session")
def testdata_dir() -> Path:
    root = testdata_path()
    if not (root / "Models").is_dir():
        _missing(f"test data folder {root} is missing")
    return root


@pytest.fixture(scope="session")
def model_dirs(testdata_dir: Path) -> dict[str, Path]:
    """Shared model name (e.g. "microLlama/INT8/microLlama8") -> its folder; all eight must exist."""
    dirs = {name: testdata_dir / "Models" / name for name in SHARED_MODELS}
    absent = [n for n, d in dirs.items() if not (d / "network.onnx").is_file()]
    if absent:
        pytest.fail(f"{testdata_dir}: shared models missing: {absent}")
    return dirs


def load_npz_inputs(graph: Graph, folder: Path) -> dict[str, np.ndarray[Any, Any]]:
    """`inputs.npz` of `folder`, its arrays (in file order) mapped onto the graph inputs (graph order)."""
    with np.load(folder / "inputs.npz") as npz:
        arrays = [npz[k] for k in npz.files]
    assert len(arrays) == len(graph.input_names), (
        f"{folder}: {len(arrays)} arrays in inputs.npz for {len(graph.input_names)} graph inputs"
    )
    return dict(zip(graph.input_names, arrays, strict=True))


def load_npz_outputs(folder: Path) -> list[np.ndarray[Any, Any]]:
    """`outputs.npz` of `folder`, in file order (= graph output order)."""
    with np.load(folder / "outputs.npz") as npz:
        return [npz[k] for k in npz.files]


def input_dtypes_from_data(graph: Graph, inputs: Mapping[str, np.ndarray[Any, Any]]) -> dict[str, DType]:
    """The narrowest dtype (signed first) holding each input's values: the models declare FLOAT, and
    some feed unsigned 0..255 data, which the frontend cannot know from the file alone."""
    return {
        name: DType.smallest_holding(int(a.min()), int(a.max())) if a.size else DType.INT8
        for name, a in inputs.items()
        if name in graph.input_names
    }


def load_model(folder: Path, *, fuse: bool = True) -> tuple[Graph, dict[str, np.ndarray[Any, Any]]]:
    """Load `folder/network.onnx` with input dtypes that hold its `inputs.npz`, and those inputs."""
    probe = load_onnx(folder / "network.onnx", fuse=False)
    inputs = load_npz_inputs(probe, folder)
    graph = load_onnx(folder / "network.onnx", input_dtypes=input_dtypes_from_data(probe, inputs), fuse=fuse)
    return graph, inputs
