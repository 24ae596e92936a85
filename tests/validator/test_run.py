"""`validate` end to end: hand-built plans of every operator family and whole networks pass, plans survive JSON."""

from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler.frontend import load_onnx
from deeploy_tiler.plan import LevelUsage, Plan
from deeploy_tiler.validator import validate

from ..conftest import SHARED_MODELS, load_model
from .builders import HW, K, alias_node, assert_clean, build_node, kinds, make_plan, single_plan, with_node
from .cases import CASES, conv3x3_rows


@pytest.mark.parametrize("double", [False, True], ids=["single", "double"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_hand_built_plans_are_valid(case: str, double: bool) -> None:
    graph, tiles = CASES[case]()
    assert_clean(single_plan(graph, tiles, double=double), graph)


def test_round_trip_through_json_stays_valid() -> None:
    graph, tiles = conv3x3_rows()
    plan = single_plan(graph, tiles, double=True)
    assert_clean(Plan.from_json(plan.to_json()), graph)


def test_whole_mini_mobilenet_plan_is_valid(model_dirs: dict[str, Path]) -> None:
    graph = load_onnx(model_dirs["miniMobileNet"] / "network.onnx")
    nodes = []
    for node in graph.nodes:
        if node.is_alias:
            nodes.append(alias_node(graph, node))
            continue
        full = {t: tuple((0, d) for d in graph.tensors[t].shape) for t in (*node.inputs, *node.outputs) if t}
        nodes.append(build_node(graph, node, [full]))
    plan = make_plan(graph, nodes)
    plan = plan.model_copy(
        update={
            "levels": (
                LevelUsage(
                    level="L2",
                    capacity=1_024_000,
                    peak=max(p.offset + p.size for p in plan.memory),
                    lower_bound=0,
                    strategy="hand",
                ),
            )
        }
    )
    assert_clean(plan, graph)
    assert kinds(plan.model_copy(update={"memory": ()}), graph) == {K.MEMORY_MISSING}
    assert kinds(with_node(plan, 4, alias_of="input.8"), graph) == {K.ALIAS}


@pytest.mark.parametrize("model", SHARED_MODELS)
def test_every_shared_model_plan_validates(model: str, model_dirs: dict[str, Path]) -> None:
    try:
        from deeploy_tiler.planner.graph import plan_graph
    except ImportError as e:
        pytest.skip(f"planner not available yet: {e}")
    graph, _ = load_model(model_dirs[model])
    plan = plan_graph(graph, HW, l1=64_000)
    try:  # the planner does not place tensors (yet): attach the whole-network memory plan when available
        from deeploy_tiler.memory.network import plan_memory
    except ImportError:
        pass
    else:
        if not plan.memory:
            mem = plan_memory(graph, HW, l2_budget=plan.budgets.get("L2", 1_024_000))
            plan = plan.model_copy(update={"memory": mem.placed, "levels": mem.levels})
    found = validate(plan, graph, HW)
    assert found == [], f"{model}:\n" + "\n".join(map(str, found[:30]))
