"""End to end: plan (the real planner) -> emit -> build -> run -> compare with outputs.npz, bit-exactly,
on the host (gcc -Wall -Wextra -Werror) and on RV32 under QEMU, at several L1 budgets with and without
double buffering; the built ELF's arenas must fit the plan's budgets.

Budgets per model: "fits" (the whole usable L1: every node in one tile where it can be), "tiles" (a
budget forcing several tiles per node), "min" (the smallest feasible budget, from InfeasibleBudget).
The default run covers every model with a representative subset (ICCT only where it fits: its tiled plans
have up to 10^5 tiles); DEEPLOY_TILER_FULL=1 runs every model x budget x buffering x target.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from deeploy_tiler.emitter import build, emit_project, run
from deeploy_tiler.errors import InfeasibleBudget
from deeploy_tiler.hw import HwSpec, load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.plan import Plan

from ..conftest import load_model, load_npz_outputs
from .conftest import FULL, need_rv32

HW = "siracusa"
TILES_BUDGET = {"CNN_Linear1": 16000, "CCT/Int/ICCT": 32000}

# (model, budget kind, double buffering, targets) run by default
DEFAULT = [
    ("miniMobileNet", "fits", True, ("host", "rv32")),
    ("miniMobileNet", "tiles", True, ("host", "rv32")),
    ("miniMobileNet", "tiles", False, ("host", "rv32")),
    ("miniMobileNet", "min", True, ("host", "rv32")),
    ("miniMobileNetv2", "fits", False, ("host", "rv32")),
    ("miniMobileNetv2", "tiles", True, ("host", "rv32")),
    ("miniMobileNetv2", "min", False, ("host",)),
    ("MLPerf/KeywordSpotting", "tiles", True, ("host", "rv32")),
    ("MLPerf/KeywordSpotting", "min", True, ("host", "rv32")),
    ("CNN_Linear1", "tiles", True, ("host", "rv32")),
    ("CNN_Linear1", "min", False, ("host",)),
    ("CCT/Int/ICCT", "fits", True, ("host", "rv32")),
    ("CCT/Int/ICCT", "tiles", False, ("host",)),
    ("microLlama/INT8/microLlama1", "fits", True, ("host", "rv32")),
    ("microLlama/INT8/microLlama1", "min", True, ("host",)),
    ("microLlama/INT8/microLlama8", "tiles", False, ("host", "rv32")),
    ("microLlama/INT8/microLlama8", "min", True, ("rv32",)),
    ("microLlama/INT8/microLlama64", "tiles", True, ("host", "rv32")),
]
MODELS = [
    "miniMobileNet",
    "miniMobileNetv2",
    "CNN_Linear1",
    "MLPerf/KeywordSpotting",
    "CCT/Int/ICCT",
    "microLlama/INT8/microLlama1",
    "microLlama/INT8/microLlama8",
    "microLlama/INT8/microLlama64",
]
ALL = [(m, b, db, ("host", "rv32")) for m in MODELS for b in ("fits", "tiles", "min") for db in (True, False)]
CASES = ALL if FULL else DEFAULT


@functools.cache
def _hw() -> HwSpec:
    return load_hw(HW)


@functools.cache
def _model(folder: str) -> tuple[Graph, dict, list]:  # type: ignore[type-arg]
    graph, inputs = load_model(Path(folder))
    return graph, inputs, load_npz_outputs(Path(folder))


@functools.cache
def _plan(folder: str, model: str, kind: str, double_buffer: bool) -> Plan:
    from deeploy_tiler.planner.graph import plan_graph

    graph = _model(folder)[0]
    hw = _hw()
    if kind == "fits":
        l1 = hw.memory(hw.memories[0].name).usable_bytes
    elif kind == "tiles":
        l1 = TILES_BUDGET.get(model, 4000)
    else:
        try:
            plan_graph(graph, hw, l1=64, double_buffer=double_buffer)
            l1 = 64
        except InfeasibleBudget as e:
            l1 = e.required_bytes
    return plan_graph(graph, hw, l1=l1, double_buffer=double_buffer)


def _id(case: tuple[str, str, bool, tuple[str, ...]]) -> str:
    m, kind, db, _ = case
    return f"{m.split('/')[-1]}-{kind}-{'db' if db else 'sb'}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_model_bit_exact(
    case: tuple[str, str, bool, tuple[str, ...]], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    model, kind, db, targets = case
    folder = str(model_dirs[model])
    graph, inputs, expected = _model(folder)
    plan = _plan(folder, model, kind, db)
    project = emit_project(plan, graph, _hw(), tmp_path / "proj", inputs=inputs, expected=expected)
    for target in targets:
        if target == "rv32":
            need_rv32()
        built = build(project, target)  # type: ignore[arg-type]
        # memory honesty: what the ELF reserves per level never exceeds the plan's budget
        assert built.within_budgets, [m for m in built.memory if not m.within_budget]
        l1 = built.level("L1")
        assert l1.arena_bytes == project.l1_planned <= plan.budgets["L1"]
        result = run(project, built)
        bad = [o for o in result.outputs if o.mismatches]
        assert result.passed, f"{target}: {bad[:3]}\n{result.stdout[-2000:]}"
        assert len(result.outputs) == len(graph.output_names)
        assert len(result.node_instructions) == len(graph.nodes)
        if target == "rv32":
            assert result.total_instructions > 0
            assert sum(n for _, n in result.node_instructions) == result.total_instructions
