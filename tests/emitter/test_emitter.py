"""Emitter behaviour beyond bit-exactness: view helpers, the Plan.memory layout path (allocator
offsets, constants in L3), the NPU task path, strict DMA semantics that expose schedule hazards,
contract checks, and deterministic output."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from deeploy_tiler.emitter import build, emit_project, run, untiled_plan, verify
from deeploy_tiler.emitter.views import collapse, split_leading
from deeploy_tiler.errors import EmitError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.plan import Event, Plan

from ..conftest import load_model, load_npz_outputs
from .conftest import need_rv32


def test_collapse_merges_contiguous_dims() -> None:
    ext, st = collapse([2, 3, 4], [[12, 4, 1], [12, 4, 1]])
    assert ext == [24] and st == [[1], [1]]
    ext, st = collapse([2, 1, 3, 4], [[24, 99, 4, 1], [12, 0, 4, 1]])
    assert ext == [2, 12] and st == [[24, 1], [12, 1]]
    ext, st = collapse([1, 1], [[5, 1]])
    assert ext == [1]


def test_split_leading_offsets() -> None:
    ke, ks, offs = split_leading([2, 3, 4], [[100, 10, 1]], 2)
    assert ke == [3, 4] and ks == [[10, 1]] and offs == [[0], [100]]
    ke, ks, offs = split_leading([4], [[1]], 3)
    assert ke == [1, 1, 4] and offs == [[0]]


@functools.cache
def _model(folder: str) -> tuple[Graph, dict[str, Any], list[Any]]:
    graph, inputs = load_model(Path(folder))
    return graph, inputs, load_npz_outputs(Path(folder))


def _plan(graph: Graph, hw_name: str, l1: int, db: bool = True) -> Plan:
    from deeploy_tiler.planner.graph import plan_graph

    return plan_graph(graph, load_hw(hw_name), l1=l1, double_buffer=db)


def _run(plan: Plan, graph: Graph, hw_name: str, inputs: Any, expected: Any, out: Path, target: str = "host") -> Any:
    project = emit_project(plan, graph, load_hw(hw_name), out, inputs=inputs, expected=expected)
    built = build(project, target)  # type: ignore[arg-type]
    return project, built, run(project, built)


@pytest.mark.parametrize(
    "model,l2,targets",
    [("miniMobileNetv2", 1_024_000, ("host", "rv32")), ("microLlama/INT8/microLlama8", 400_000, ("host",))],
)
def test_plan_memory_layout(
    model: str, l2: int, targets: tuple[str, ...], model_dirs: dict[str, Path], tmp_path: Path
) -> None:
    """With the allocator's Plan.memory (constants may move to L3), the ELF holds exactly its peak."""
    from deeploy_tiler.memory.network import plan_memory

    graph, inputs, expected = _model(str(model_dirs[model]))
    hw = load_hw("siracusa")
    plan = _plan(graph, "siracusa", 8000)
    mp = plan_memory(graph, hw, l2_budget=l2, constants_to_l3=True)
    plan = plan.model_copy(update={"memory": mp.placed, "levels": mp.levels, "budgets": {**plan.budgets, "L2": l2}})
    project = emit_project(plan, graph, hw, tmp_path / "p", inputs=inputs, expected=expected)
    assert project.layout_source == "plan"
    peak = {lv.level: lv.peak for lv in mp.levels}
    for target in targets:
        if target == "rv32":
            need_rv32()
        built = build(project, target)  # type: ignore[arg-type]
        result = run(project, built)
        assert result.passed, result.stdout[-2000:]
        for level, p in peak.items():
            assert built.level(level).total <= p  # constants cut out of the arena: no double counting
        assert built.within_budgets


def test_npu_engine_path(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    """Conv nodes put on the NPU become NPU tasks (functional model) and stay bit-exact."""
    graph, inputs, expected = _model(str(model_dirs["miniMobileNetv2"]))
    plan = _plan(graph, "siracusa_neureka", 8000)
    nodes = tuple(n.model_copy(update={"engine": "neureka"}) if n.op_type == "Conv" else n for n in plan.nodes)
    plan = plan.model_copy(update={"nodes": nodes})
    project, _, result = _run(plan, graph, "siracusa_neureka", inputs, expected, tmp_path / "p")
    assert result.passed, result.stdout[-2000:]
    assert "dt_npu_run_task" in (project.out_dir / "network.c").read_text()


def _tiled_node(plan: Plan) -> int:
    return next(i for i, n in enumerate(plan.nodes) if n.num_tiles > 2 and n.op_type == "Conv")


def test_missing_wait_is_caught(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    """The functional DMA copies at wait time: dropping a wait loses the data (or leaves it pending)."""
    graph, inputs, expected = _model(str(model_dirs["miniMobileNet"]))
    plan = _plan(graph, "siracusa", 2000)
    i = _tiled_node(plan)
    node = plan.nodes[i]
    first_wait = next(k for k, e in enumerate(node.events) if e.kind == "dma_wait")
    events = node.events[:first_wait] + node.events[first_wait + 1 :]
    bad = plan.model_copy(
        update={"nodes": (*plan.nodes[:i], node.model_copy(update={"events": events}), *plan.nodes[i + 1 :])}
    )
    _, _, result = _run(bad, graph, "siracusa", inputs, expected, tmp_path / "p")
    assert not result.passed


def test_compute_before_wait_is_caught(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    graph, inputs, expected = _model(str(model_dirs["miniMobileNet"]))
    plan = _plan(graph, "siracusa", 2000)
    i = _tiled_node(plan)
    node = plan.nodes[i]
    ev = list(node.events)
    c = next(k for k, e in enumerate(ev) if e.kind == "compute")
    w = max(k for k in range(c) if ev[k].kind == "dma_wait")
    ev.insert(w, ev.pop(c))  # compute the first tile before its last input arrived
    bad = plan.model_copy(
        update={"nodes": (*plan.nodes[:i], node.model_copy(update={"events": tuple(ev)}), *plan.nodes[i + 1 :])}
    )
    _, _, result = _run(bad, graph, "siracusa", inputs, expected, tmp_path / "p")
    assert not result.passed


def test_contract_violations_raise(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    graph, _, _ = _model(str(model_dirs["miniMobileNet"]))
    plan = _plan(graph, "siracusa", 2000)
    i = _tiled_node(plan)
    node = plan.nodes[i]
    step = node.steps[0]
    inbuf = next(b.name for b in node.buffers if b.role == "input")
    region = step.regions[inbuf]
    shrunk = (*region[:-1], (region[-1][0], max(region[-1][1] - 1, 1))) if region[-1][1] > 1 else region
    if shrunk == region:
        pytest.skip("no shrinkable input region")
    steps = (step.model_copy(update={"regions": {**step.regions, inbuf: shrunk}}), *node.steps[1:])
    bad = plan.model_copy(
        update={"nodes": (*plan.nodes[:i], node.model_copy(update={"steps": steps}), *plan.nodes[i + 1 :])}
    )
    with pytest.raises(EmitError):
        emit_project(bad, graph, load_hw("siracusa"), tmp_path / "p")
    ev = (*node.events, Event(kind="compute", ref=len(node.steps)))
    bad = plan.model_copy(
        update={"nodes": (*plan.nodes[:i], node.model_copy(update={"events": ev}), *plan.nodes[i + 1 :])}
    )
    with pytest.raises(EmitError):
        emit_project(bad, graph, load_hw("siracusa"), tmp_path / "q")


def test_emission_is_deterministic_and_untiled_fallback(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    graph, inputs, expected = _model(str(model_dirs["miniMobileNet"]))
    hw = load_hw("siracusa")
    plan = untiled_plan(graph, hw)
    a = emit_project(plan, graph, hw, tmp_path / "a", inputs=inputs, expected=expected)
    b = emit_project(plan, graph, hw, tmp_path / "b", inputs=inputs, expected=expected)
    for name in ("network.c", "network.h", "kernels.c", "main.c", "Makefile"):
        assert (a.out_dir / name).read_bytes() == (b.out_dir / name).read_bytes()
    assert a.layout_source == "emitter" and a.notes
    v = verify(plan, graph, hw, tmp_path / "c", inputs=inputs, expected=expected, targets=("host",))
    assert v.passed and v.target("host")[1].outputs[0].mismatches == 0


@pytest.mark.parametrize("model", ["miniMobileNetv2", "microLlama/INT8/microLlama8"])
def test_heterogeneous_plan_with_npu(model: str, model_dirs: dict[str, Path], tmp_path: Path) -> None:
    """The planner's own engine choice on siracusa_neureka: NPU nodes run as NPU tasks, bit-exactly."""
    graph, inputs, expected = _model(str(model_dirs[model]))
    plan = _plan(graph, "siracusa_neureka", 32000)
    if not any(n.engine == "neureka" for n in plan.nodes):
        pytest.skip("the planner put no node on the NPU")
    project = emit_project(plan, graph, load_hw("siracusa_neureka"), tmp_path / "p", inputs=inputs, expected=expected)
    for target in ("host", "rv32"):
        if target == "rv32":
            need_rv32()
        built = build(project, target)  # type: ignore[arg-type]
        result = run(project, built)
        assert result.passed, result.stdout[-2000:]
        assert built.within_budgets
