"""CP-SAT tiling of one node, its problem definition, the DMA schedule of the chosen tiles, and the
engine choice over a whole graph."""

from .engine_choice import ChoiceProblem, EngineChoice, EngineOption
from .options import EngineOptions, SolverOptions
from .problem import NodeSetup, TilingProblem, binding_constraint, early_exit, prepare
from .schedule import Schedule, build_schedule
from .tiling import Handles, TilingResult, build, extract, solve

__all__ = ["ChoiceProblem", "EngineChoice", "EngineOption", "EngineOptions", "Handles", "NodeSetup", "Schedule",
           "SolverOptions", "TilingProblem", "TilingResult", "binding_constraint", "build", "build_schedule",
           "early_exit", "extract", "prepare", "solve"]
