"""The residency solve: semantics of the simulation, the greedy, and CP-SAT against brute force."""

from __future__ import annotations

import itertools
import random

from deeploy_tiler.solver import SolverOptions
from deeploy_tiler.solver.residency import (
    Candidate,
    ResidencyProblem,
    greedy_residency,
    l2_live,
    simulate,
    solve_residency,
)


def _problem(budget: int, window: int = 2) -> ResidencyProblem:
    # 4 nodes of 100 cycles; two 2000 B weights read by nodes 2 and 4, each copied in 300 cycles
    cands = (
        Candidate("w2", 2000, 2, 2, 300, (0, 6)),
        Candidate("w4", 2000, 4, 4, 300, (0, 6)),
    )
    return ResidencyProblem(
        compute=(100, 100, 100, 100), base=(0, 500, 500, 500, 500, 0), candidates=cands, budget=budget, window=window
    )


def test_all_resident_when_it_fits() -> None:
    r = solve_residency(_problem(4500))
    assert r is not None and r.status == "ALL_RESIDENT" and r.issue == (None, None) and r.makespan == 400


def test_simulation_semantics() -> None:
    p = _problem(3000)
    # w2 issued at its reader: node 2 waits the whole copy; w4 issued at node 3: 100 cycles hidden
    makespan, exposed = simulate(p, (2, 3))
    # node1 0-100; w2 copy 100-400; node2 400-500; w4 issued at node 3 start (500) -> 800; node3 500-600
    assert exposed == (300, 200) and makespan == 400 + 300 + 200
    assert l2_live(p, (2, 3)) == [0, 500, 2500, 2500, 2500, 0]  # w2 freed after node 2 as w4 arrives


def test_never_over_budget_and_no_worse_than_greedy() -> None:
    p = _problem(2600)  # only one weight staged at a time
    r = solve_residency(p)
    assert r is not None and max(l2_live(p, r.issue)) <= 2600
    g = greedy_residency(p)
    assert g is not None and r.makespan <= simulate(p, g)[0]


def test_infeasible_returns_none() -> None:
    assert solve_residency(_problem(2400)) is None  # 500 live + 2000 staged > 2400


def _brute(p: ResidencyProblem) -> int | None:
    choices = [[None, *p.issue_range(c)] for c in p.candidates]
    best = None
    for issue in itertools.product(*choices):
        if max(l2_live(p, issue)) > p.budget:
            continue
        order = [issue[k] for k in p.order() if issue[k] is not None]
        if order != sorted(order):  # issue steps follow the L3 DMA order (WLOG, see the module docstring)
            continue
        ms = simulate(p, issue)[0]
        best = ms if best is None else min(best, ms)
    return best


def test_cp_sat_matches_brute_force() -> None:
    rng = random.Random(3)
    for _ in range(12):
        n = rng.randint(3, 6)
        cands = []
        for k in range(rng.randint(2, 4)):
            first = rng.randint(1, n)
            cands.append(
                Candidate(f"c{k}", rng.choice([1024, 2048, 4096]), first, first, rng.randint(50, 400), (0, n + 2))
            )
        base = tuple(rng.randint(0, 1000) for _ in range(n + 2))
        p = ResidencyProblem(
            compute=tuple(rng.randint(20, 200) for _ in range(n)),
            base=base,
            candidates=tuple(cands),
            budget=max(base) + rng.choice([3000, 5000, 8000]),
            window=rng.randint(0, 3),
        )
        want = _brute(p)
        got = solve_residency(p, SolverOptions(time_limit_s=10, deterministic_time_limit=10))
        assert (got is None) == (want is None)
        if got is not None:
            assert got.makespan == want, (p, got)
            assert got.best_bound <= got.makespan
