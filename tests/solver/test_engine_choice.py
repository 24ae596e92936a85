"""The whole-graph engine choice against brute force: WMEM knapsack, handover chain, determinism."""

from __future__ import annotations

import random
from itertools import product

import pytest

from deeploy_tiler.solver import ChoiceProblem, EngineOption, SolverOptions
from deeploy_tiler.solver.engine_choice import build, solve

OPTS = SolverOptions()


def _cl(c: int) -> EngineOption:
    return EngineOption("cluster", "cluster", c)


def _l1(c: int) -> EngineOption:
    return EngineOption("npu_l1", "neureka", c)


def _wm(c: int, t: str, b: int) -> EngineOption:
    return EngineOption("npu_wmem", "neureka", c, wmem_tensor=t, wmem_bytes=b)


def brute(problem: ChoiceProblem) -> int:
    best = None
    for picks in product(*(range(len(o)) for o in problem.options)):
        chosen = [problem.options[i][k] for i, k in enumerate(picks)]
        wmem: dict[str, int] = {}
        for o in chosen:
            if o.wmem_tensor is not None:
                wmem[o.wmem_tensor] = max(wmem.get(o.wmem_tensor, 0), o.wmem_bytes)
        if sum(wmem.values()) > problem.wmem_capacity:
            continue
        prev, switches = False, 0
        for o in chosen:
            switches += o.on_npu != prev
            prev = o.on_npu
        cost = sum(o.cycles for o in chosen) + problem.handover * switches
        best = cost if best is None else min(best, cost)
    assert best is not None
    return best


def test_knapsack_keeps_the_biggest_gains_in_wmem() -> None:
    # three NPU nodes in a row, each 2 KiB of weights; room for two: the two largest WMEM gains win
    nodes = tuple((_cl(5000), _l1(1000), _wm(1000 - g, f"w{i}", 2048)) for i, g in enumerate((300, 500, 400)))
    problem = ChoiceProblem(options=nodes, wmem_capacity=4096, handover=100)
    choice = solve(problem, OPTS)
    kinds = [problem.options[i][k].kind for i, k in enumerate(choice.picks)]
    assert kinds == ["npu_l1", "npu_wmem", "npu_wmem"]
    assert choice.wmem_bytes == 4096 and choice.objective == brute(problem) == choice.cycles(problem)
    assert choice.switches == (True, False, False)


def test_a_shared_weight_counts_once() -> None:
    nodes = ((_cl(900), _wm(100, "w", 3000)), (_cl(900), _wm(100, "w", 3000)))
    choice = solve(ChoiceProblem(options=nodes, wmem_capacity=3000, handover=0), OPTS)
    assert choice.picks == (1, 1) and choice.wmem_bytes == 3000


def test_handover_keeps_a_small_gain_on_the_cluster() -> None:
    # cluster, (NPU saves 150 < 2 x 100 of switching there and back), cluster
    nodes = ((_cl(500),), (_cl(1000), _l1(850)), (_cl(500),))
    problem = ChoiceProblem(options=nodes, wmem_capacity=0, handover=100)
    assert solve(problem, OPTS).picks == (0, 0, 0)
    cheaper = ChoiceProblem(options=nodes, wmem_capacity=0, handover=50)
    assert solve(cheaper, OPTS).picks == (0, 1, 0)


@pytest.mark.parametrize("seed", range(30))
def test_optimal_on_random_problems(seed: int) -> None:
    rng = random.Random(seed)
    nodes = []
    for _ in range(rng.randint(1, 7)):
        opts = [_cl(rng.randint(100, 3000))]
        if rng.random() < 0.7:
            opts.append(_l1(rng.randint(100, 3000)))
            if rng.random() < 0.8:
                opts.append(_wm(rng.randint(50, 2000), f"w{rng.randint(0, 4)}", rng.choice((512, 1024, 2048))))
        if rng.random() < 0.2:
            opts = opts[1:] or opts
        nodes.append(tuple(opts))
    problem = ChoiceProblem(
        options=tuple(nodes), wmem_capacity=rng.choice((0, 1024, 3000)), handover=rng.choice((0, 100, 400))
    )
    choice = solve(problem, OPTS)
    assert choice.objective == choice.cycles(problem) == brute(problem)


def test_deterministic_and_buildable() -> None:
    rng = random.Random(7)
    nodes = tuple(
        (_cl(rng.randint(100, 900)), _l1(rng.randint(100, 900)), _wm(rng.randint(50, 800), f"w{i}", 1024))
        for i in range(40)
    )
    problem = ChoiceProblem(options=nodes, wmem_capacity=10 * 1024, handover=100)
    assert solve(problem, OPTS) == solve(problem, OPTS)
    model, handles = build(problem, OPTS)
    assert len(handles.x) == 40 and len(handles.placed) == 40 and model.proto.objective is not None


def test_problem_checks() -> None:
    with pytest.raises(ValueError, match="no legal option"):
        ChoiceProblem(options=((),), wmem_capacity=0, handover=0)
    with pytest.raises(ValueError, match=">= 0"):
        ChoiceProblem(options=((_cl(1),),), wmem_capacity=-1, handover=0)
