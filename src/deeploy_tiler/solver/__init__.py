"""CP-SAT tiling of one node, its problem definition, and the DMA schedule of the chosen tiles."""

from .options import SolverOptions
from .problem import NodeSetup, TilingProblem, binding_constraint, early_exit, prepare
from .schedule import Schedule, build_schedule
from .tiling import Handles, TilingResult, build, extract, solve

__all__ = ["Handles", "NodeSetup", "Schedule", "SolverOptions", "TilingProblem", "TilingResult",
           "binding_constraint", "build", "build_schedule", "early_exit", "extract", "prepare", "solve"]
