"""The notebooks in notebooks/: stored without outputs, and they run top to bottom (nbclient, python3 kernel).

They read the shared models like the tests do (`DEEPLOY_TILER_TESTDATA`, else ../shared/data/deeploy-tests);
without nbclient / ipykernel, or without the data, they are skipped locally and fail under CI.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pytest

from .conftest import REPO_ROOT

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def _need(ok: bool, what: str) -> None:
    if not ok:
        if os.environ.get("CI"):
            pytest.fail(what)
        pytest.skip(what)


def test_the_three_notebooks_are_there() -> None:
    assert [p.name for p in NOTEBOOKS] == ["double_buffering.ipynb", "l1_budget_microllama.ipynb", "memory_map.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    doc = json.loads(path.read_text())
    for cell in doc["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{path.name}: strip the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path: Path, testdata_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _need(
        all(importlib.util.find_spec(m) for m in ("nbclient", "nbformat", "ipykernel")),
        "notebook tests need nbclient, nbformat and ipykernel (the dev extra)",
    )
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("DEEPLOY_TILER_TESTDATA", str(testdata_dir))  # the kernel inherits the environment
    src = str(REPO_ROOT / "src")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [src, os.environ.get("PYTHONPATH")])))
    book = nbformat.read(path, as_version=4)
    where = {"metadata": {"path": str(path.parent)}}
    # The per-cell timeout bounds a hung kernel; speed is measured in benchmarks/, not asserted here.
    NotebookClient(book, timeout=300, kernel_name="python3", resources=where).execute()
    errors = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    images = [o for c in book.cells if c.cell_type == "code" for o in c.outputs if "image/png" in o.get("data", {})]
    assert images, f"{path.name} shows no figure"
