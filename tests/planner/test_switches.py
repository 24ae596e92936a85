"""The solver's switches turned off, alone and in combinations, on small shared models: every plan is valid,
none beats the lower bound, and the switches that only speed the search up leave exact answers unchanged.

`preferred_multiples=False` widens the tile space, so its plans may beat the default's bound (which holds
over the default space); their reference is the bound over the widest space (the run with only that
switch off). Every other switch keeps the space: a node solved to optimality keeps the default's cycles.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.plan import Plan

OFF: dict[str, Any] = {
    "early_exit": False,
    "cache": False,
    "preferred_multiples": False,
    "tie_break_l1": False,
    "hint": False,
    "grid_limit": 0,  # the factored model everywhere instead of one boolean per joint choice
    "presolve": True,  # off by default: flipped on
}
COMBINATIONS: list[tuple[str, ...]] = [
    *((k,) for k in OFF),
    ("early_exit", "hint"),
    ("early_exit", "grid_limit"),
    ("cache", "grid_limit"),
    ("tie_break_l1", "hint"),
    ("hint", "grid_limit", "preferred_multiples"),
    tuple(OFF),
]
MODELS = [("CNN_Linear1", 8_000), ("miniMobileNet", 16_000), ("MLPerf/KeywordSpotting", 16_000)]
EXACT = {"OPTIMAL", "UNTILED", "CACHED", "ALIAS"}

_plans: dict[tuple[str, tuple[str, ...]], Plan] = {}


def _plan(model_dirs: dict[str, Path], name: str, l1: int, switches: tuple[str, ...]) -> tuple[dt.Graph, Plan]:
    graph = dt.load_model(model_dirs[name] / "network.onnx")
    key = (name, switches)
    if key not in _plans:
        _plans[key] = dt.plan(graph, "siracusa", l1=l1, **{k: OFF[k] for k in switches})
    return graph, _plans[key]


@pytest.mark.parametrize(("name", "l1"), MODELS)
@pytest.mark.parametrize("switches", COMBINATIONS, ids="+".join)
def test_switches_off(model_dirs: dict[str, Path], name: str, l1: int, switches: tuple[str, ...]) -> None:
    graph, plan = _plan(model_dirs, name, l1, switches)
    assert dt.validate(plan, graph, "siracusa") == []
    for k in switches:
        assert plan.options[k] == OFF[k]  # the switch reached the plan
    _, default = _plan(model_dirs, name, l1, ())
    _, widest = _plan(model_dirs, name, l1, ("preferred_multiples",))
    reference = widest if "preferred_multiples" in switches else default
    bound = {n.name: n.lower_bound_cycles for n in reference.nodes}
    for n in plan.nodes:
        assert n.cycles.total >= bound[n.name], f"{n.name} beats the lower bound"
    assert plan.total_cycles >= reference.lower_bound_cycles
    same_space = default if "preferred_multiples" not in switches else widest
    for n, d in zip(plan.nodes, same_space.nodes, strict=True):
        if n.solve.status in EXACT and d.solve.status in EXACT:
            assert n.cycles.total == d.cycles.total, f"{n.name}: exact answers differ"
