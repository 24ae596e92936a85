"""Solver options as plain data."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class SolverOptions:
    """Knobs of the per-node tiling solve. Defaults are deterministic: one worker, a fixed seed, and a
    deterministic-time limit that binds before the wall-clock limit on any sane machine."""

    time_limit_s: float = 10.0  # wall-clock limit per CP-SAT solve (a safety net)
    deterministic_time_limit: float = 5.0  # CP-SAT deterministic time units per solve (reproducible)
    workers: int = 1
    seed: int = 0
    early_exit: bool = True  # skip CP-SAT when untiled is provably optimal (see solver.problem)
    cache: bool = True  # reuse the result of an identical subproblem (same shapes, dtypes, budget, ...)
    preferred_multiples: bool = True  # keep the kernel's preferred tile multiples when the budget allows
    tie_break_l1: bool = True  # among equally fast plans prefer the one using the least L1
    hint: bool = True  # warm start from the exhaustive vectorized evaluation of the same model
    grid_limit: int = 20_000  # joint tile choices up to this many: one boolean each (exact linear model)
    presolve: bool = False  # CP-SAT presolve; off: on these small models it costs more than it saves
    probing_level: int = 0
    log_search: bool = False

    def __post_init__(self) -> None:
        if self.time_limit_s <= 0 or self.deterministic_time_limit <= 0:
            raise ValueError("solver time limits must be positive")
        if self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EngineOptions:
    """Knobs of the engine choice on a spec with an NPU (plain data, recorded in `Plan.options`).

    `weight_memory`: let NPU nodes read their weights in place from the NPU's weight memory (False: every
    weight is DMA'd from L2 into L1, as without WMEM). `handover_cycles`: cycles charged when consecutive
    nodes run on different engines; None derives it from the spec ([A:npu_handover]: one cluster call
    overhead, the cores synchronising on the other engine's completion before the next kernel)."""

    weight_memory: bool = True
    handover_cycles: int | None = None

    def __post_init__(self) -> None:
        if self.handover_cycles is not None and self.handover_cycles < 0:
            raise ValueError(f"handover_cycles must be >= 0, got {self.handover_cycles}")


def cp_solver(options: SolverOptions) -> Any:
    """A CP-SAT solver carrying the options every model shares: workers, seed, limits, logging."""
    from ortools.sat.python import cp_model

    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.num_workers = options.workers
    prm.random_seed = options.seed
    prm.max_time_in_seconds = options.time_limit_s
    prm.max_deterministic_time = options.deterministic_time_limit
    prm.log_search_progress = options.log_search
    return solver
