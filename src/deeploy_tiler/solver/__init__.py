"""Pure CP-SAT formulations: the tiling of one node (`build` / `extract` / `solve`) and the engine choice over
a whole graph. Nothing here builds geometry or reads a spec: the planner hands in finished problems."""

from .engine_choice import ChoiceProblem, EngineChoice, EngineOption
from .options import EngineOptions, SolverOptions
from .problem import TilingProblem, early_exit
from .tiling import Handles, TilingResult, build, extract, solve

__all__ = [
    "ChoiceProblem",
    "EngineChoice",
    "EngineOption",
    "EngineOptions",
    "Handles",
    "SolverOptions",
    "TilingProblem",
    "TilingResult",
    "build",
    "early_exit",
    "extract",
    "solve",
]
