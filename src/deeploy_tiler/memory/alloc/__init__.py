"""Static buffer allocation (the dynamic storage allocation problem) for fixed-lifetime buffers.

    from deeploy_tiler.memory.alloc import Buffer, allocate
    r = allocate([Buffer("a", 0, 2, 64), Buffer("b", 1, 3, 32)], capacity=96)
    assert r.solved and r.offsets["a"] + 64 <= r.offsets["b"] or r.offsets["b"] + 32 <= r.offsets["a"]

Modules: `problem` (types), `instance` (input checks, GCD scaling), `timeline` (time sections),
`bounds`, `greedy`, `search` (exact canonical DFS), `cpsat`, `validate` (independent checker),
`csvio` (MiniMalloc CSV), `api` (`allocate`), `report` (`summary_text`), `plot` (`memory_map_figure`).
"""

from .api import AUTO_SEARCH_NODES, allocate
from .bounds import LiveBound, live_profile, lower_bound, max_live
from .csvio import CsvProblem, capacity_from_name, read_csv, write_csv
from .plot import memory_map_figure
from .problem import STRATEGIES, AllocationResult, AllocStats, Buffer, conflicts
from .report import summary_text
from .validate import Violation, ViolationKind, check_allocation

__all__ = [
    "AUTO_SEARCH_NODES",
    "STRATEGIES",
    "AllocStats",
    "AllocationResult",
    "Buffer",
    "CsvProblem",
    "LiveBound",
    "Violation",
    "ViolationKind",
    "allocate",
    "capacity_from_name",
    "check_allocation",
    "conflicts",
    "live_profile",
    "lower_bound",
    "max_live",
    "memory_map_figure",
    "read_csv",
    "summary_text",
    "write_csv",
]
