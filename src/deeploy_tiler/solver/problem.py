"""The solver's input for one node (name-free, hashable) and the provable early exit.

Early exit. Let U be the untiled choice (every dimension whole, every buffer single-buffered). When U
fits the budget, the cost model has no gaps (every access map has stride <= window), the call
overhead is positive, every choice computes at least C_U + (N - 1) * overhead (always so for the
cluster's work + N * overhead; checked by enumeration for an NPU task model, whose ceil-shaped subtile
counts are not monotone), and either double buffering is off or D_U < E_min + overhead (all in scaled
cycles, D_U = total DMA of U, E_min = the smallest possible prologue + epilogue), then U is optimal.

Proof. (1) Any choice moves at least U's DMA: without gaps the union of the tiles' regions of an
operand is U's region, so its bytes are covered at least once; a tile's contiguous runs lie inside U's
runs, so the runs (and likewise the strided transfers, products of outer extents) summed over tiles
are at least U's; every buffer has at least one transfer. Hence D_total(choice) >= D_U.
(2) N = 1 choices all cost P + C + E = total(U) (steady DMA is 0) and U uses the least L1 of them.
(3) With single buffering total = C + D_total >= C_U + (N - 1) * overhead + D_U > total(U) for N >= 2.
(4) With double buffering, for N >= 2, total >= edges + C >= E_min + C_U + overhead, and
total(U) = D_U + C_U < that exactly when D_U < E_min + overhead. The inequalities are
strict, so U is also the unique optimum under the L1 tie-break: the solver would return U too.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..cost.model import Choice, NodeCostModel


@dataclass(frozen=True)
class TilingProblem:
    """What the solver sees: name-free, hashable (the cache key together with the options)."""

    model: NodeCostModel
    budget: int
    double_buffer: bool


def early_exit(problem: TilingProblem) -> Choice | None:
    """The untiled choice when it is provably optimal (module docstring), else None."""
    model = problem.model
    p = model.params
    untiled = model.untiled()
    cost = model.evaluate(untiled)
    if cost.l1_bytes > problem.budget or not model.no_gaps or p.call_overhead <= 0 or not model.compute_dominated:
        return None
    if problem.double_buffer and model.space.free_dims:
        dma_u = cost.dma_scaled
        if not dma_u < model.edge_min_scaled() + p.scale * p.call_overhead:
            return None
    return untiled
