"""Whole-graph planning of the shared models: coverage, hazards, exact cycles, the validator,
determinism, infeasibility answers and golden plans.

Golden plans live in tests/golden/<hw>/<model>.json; regenerate with DEEPLOY_TILER_UPDATE_GOLDEN=1.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from _pytest.monkeypatch import MonkeyPatch

from deeploy_tiler.api import load_model
from deeploy_tiler.errors import InfeasibleBudget, PlanError
from deeploy_tiler.hw import load_hw
from deeploy_tiler.ir import Graph
from deeploy_tiler.plan import Plan
from deeploy_tiler.planner import nodes as planner_nodes
from deeploy_tiler.planner.graph import l1_requirements, plan_graph, plan_graph_timed, plan_node
from deeploy_tiler.validator import validate
from tests.solver.checks import check_plan

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
GOLDEN_MODELS = ("miniMobileNet", "miniMobileNetv2", "MLPerf/KeywordSpotting")
SPECS = ("siracusa", "siracusa_neureka", "rv32_mcu")
SIRACUSA = load_hw("siracusa")
_graphs: dict[str, Graph] = {}


def _graph(model_dirs: dict[str, Path], name: str) -> Graph:
    if name not in _graphs:
        _graphs[name] = load_model(model_dirs[name] / "network.onnx")
    return _graphs[name]


@pytest.mark.parametrize(
    "name",
    [
        "miniMobileNet",
        "miniMobileNetv2",
        "CNN_Linear1",
        "MLPerf/KeywordSpotting",
        "CCT/Int/ICCT",
        "microLlama/INT8/microLlama8",
        "microLlama/INT8/microLlama64",
    ],
)
@pytest.mark.parametrize("l1", [64000, 8000])
def test_shared_models_plan_checked_and_valid(model_dirs: dict[str, Path], name: str, l1: int) -> None:
    graph = _graph(model_dirs, name)
    plan = plan_graph(graph, SIRACUSA, l1=l1)
    check_plan(plan, graph, SIRACUSA)  # coverage painted, events simulated, cycles recomputed
    assert validate(plan, graph, SIRACUSA) == []
    assert [n.name for n in plan.nodes] == [n.name for n in graph.nodes]
    assert plan.budgets == {"L1": l1, "L2": 1_024_000}
    if l1 == 64000:
        assert plan.total_cycles <= 1.15 * plan.lower_bound_cycles


def test_single_buffering_and_the_mcu(model_dirs: dict[str, Path]) -> None:
    graph = _graph(model_dirs, "MLPerf/KeywordSpotting")
    single = plan_graph(graph, SIRACUSA, l1=16000, double_buffer=False)
    check_plan(single, graph, SIRACUSA)
    assert all(b.copies == 1 for n in single.nodes for b in n.buffers)
    assert single.total_cycles >= plan_graph(graph, SIRACUSA, l1=16000).total_cycles
    mcu = load_hw("rv32_mcu")
    plan = plan_graph(graph, mcu)
    check_plan(plan, graph, mcu)
    assert validate(plan, graph, mcu) == [] and plan.budgets["L1"] == 30720


def test_deterministic_json(model_dirs: dict[str, Path]) -> None:
    graph = _graph(model_dirs, "microLlama/INT8/microLlama8")
    a, b = (plan_graph(graph, SIRACUSA, l1=8000).to_json() for _ in range(2))
    assert a == b
    assert Plan.from_json(a).to_json() == a


def test_timings_and_alias_nodes(model_dirs: dict[str, Path]) -> None:
    graph = _graph(model_dirs, "microLlama/INT8/microLlama64")
    plan, timings = plan_graph_timed(graph, SIRACUSA)
    assert 0 <= timings.check_s <= timings.total_s  # speed itself is measured in benchmarks/, not asserted
    assert timings.count("cached") > 200 and len(timings.nodes) == len(graph.nodes)
    aliases = [n for n in plan.nodes if n.alias_of is not None]
    assert aliases and all(n.cycles.total == 0 and not n.transfers and n.num_tiles == 1 for n in aliases)
    assert "seconds" not in plan.to_json()


def test_infeasible_budget_answered_before_any_search(model_dirs: dict[str, Path], monkeypatch: MonkeyPatch) -> None:
    """The minimum-L1 pass answers an impossible budget before any node is solved (no wall-clock limit:
    the solver is replaced by one that fails if called)."""

    def no_search(*args: object, **kwargs: object) -> None:
        raise AssertionError("a node was solved before the infeasibility answer")

    cnn = _graph(model_dirs, "CNN_Linear1")
    with monkeypatch.context() as m:
        m.setattr(planner_nodes, "solve", no_search)
        with pytest.raises(InfeasibleBudget) as err:
            plan_graph(cnn, SIRACUSA, l1=4000)
    assert err.value.nodes == ["features__ql_replaced__integerize_pact_conv2d_pass_3"]
    assert err.value.required_bytes == 5932 and "im2col" in str(err.value)

    llama = _graph(model_dirs, "microLlama/INT8/microLlama64")
    need = max(l1_requirements(llama, SIRACUSA).values())
    with monkeypatch.context() as m:
        m.setattr(planner_nodes, "solve", no_search)
        with pytest.raises(InfeasibleBudget) as err:
            plan_graph(llama, SIRACUSA, l1=need - 1)
    assert len(err.value.nodes) == 8 and all("MatMul" in n for n in err.value.nodes)
    assert "K reduction" in str(err.value)
    plan = plan_graph(llama, SIRACUSA, l1=4000)  # microLlama64 itself fits 4,000 B under this model
    assert max(n.l1_bytes for n in plan.nodes) <= 4000


def test_plan_node_and_budget_checks(model_dirs: dict[str, Path]) -> None:
    graph = _graph(model_dirs, "miniMobileNet")
    whole = plan_graph(graph, SIRACUSA)
    for node in graph.nodes:
        assert plan_node(node.name, graph, SIRACUSA) == whole.node(node.name)
    with pytest.raises(PlanError, match="budget"):
        plan_graph(graph, load_hw("rv32_mcu"), l1=64000)


@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("name", GOLDEN_MODELS)
def test_golden_plans(model_dirs: dict[str, Path], spec: str, name: str) -> None:
    hw = load_hw(spec)
    text = plan_graph(_graph(model_dirs, name), hw).to_json()
    path = GOLDEN / spec / f"{name.split('/')[-1]}.json"
    if os.environ.get("DEEPLOY_TILER_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.is_file(), f"{path} missing: run with DEEPLOY_TILER_UPDATE_GOLDEN=1"
    assert path.read_text() == text, f"plan differs from {path} (DEEPLOY_TILER_UPDATE_GOLDEN=1 to accept)"
