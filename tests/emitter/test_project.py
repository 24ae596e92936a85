"""emitter/project.py: emitting the bundled default is deterministic to the byte, and the project is
self-contained (runtime and kernel library copied, templates not)."""

from __future__ import annotations

from pathlib import Path

from deeploy_tiler import api
from deeploy_tiler.emitter import emit_project
from deeploy_tiler.hw import load_hw


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_default_model_project_is_identical_across_runs(tmp_path: Path) -> None:
    graph = api.load_model()
    inputs = api.default_inputs()
    expected = api.reference_run(graph, inputs)
    hw = load_hw("siracusa")
    trees = []
    for run in ("a", "b"):
        plan = api.plan(graph, hw)  # planned anew each time: the whole chain must be deterministic
        project = emit_project(plan, graph, hw, tmp_path / run, inputs=inputs, expected=expected)
        assert {str(p.relative_to(project.out_dir)) for p in project.files} == set(_tree(project.out_dir))
        trees.append(_tree(project.out_dir))
    assert trees[0].keys() == trees[1].keys()
    for name, data in trees[0].items():
        assert data == trees[1][name], f"{name} differs between two emissions"
    names = set(trees[0])
    assert {"main.c", "network.c", "network.h", "kernels.c", "kernels.h", "Makefile"} <= names
    assert "dt/runtime/dt_runtime.c" in names and "dt/kernels/dt_kernels.h" in names
    assert not any("templates" in n or n.endswith(".j2") for n in names)
