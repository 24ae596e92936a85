"""Pure CP-SAT formulations: the tiling of one node (`build` / `extract` / `solve`) and the engine choice over
a whole graph. Nothing here builds geometry or reads a spec: the planner hands in finished problems.

The options (`SolverOptions`, `EngineOptions`) load eagerly; everything that needs OR-Tools loads on first
use, so `import deeploy_tiler` (which exports the options) does not import CP-SAT."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .options import EngineOptions, SolverOptions

if TYPE_CHECKING:
    from .engine_choice import ChoiceProblem, EngineChoice, EngineOption
    from .problem import TilingProblem, early_exit
    from .tiling import Handles, TilingResult, build, extract, solve

_LAZY = {
    "ChoiceProblem": ".engine_choice",
    "EngineChoice": ".engine_choice",
    "EngineOption": ".engine_choice",
    "TilingProblem": ".problem",
    "early_exit": ".problem",
    "Handles": ".tiling",
    "TilingResult": ".tiling",
    "build": ".tiling",
    "extract": ".tiling",
    "solve": ".tiling",
}

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


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
