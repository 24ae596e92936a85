"""Independent checker of a `Plan`: everything is recomputed from the graph, the hardware spec and the plan.

It never imports the solver, the operator geometry (`ops/`), the cost model or the planner: the operand
regions a tile needs are derived here from the operator semantics, footprints from tile shapes and
dtypes, and hazards from a simulation of each node's event list. `validate` returns every violation found
(empty: valid); `assert_valid` raises `PlanValidationError` listing them.

Conventions read from the contract (plan.py, memory_plan.py):
- a buffer slot holds one region of its tensor densely packed; a transfer fills (in) or drains (out) a
  whole slot; a compute reads its input slots and writes its output slot;
- whole-network placements (`plan.memory`) use the half-open time axis of memory_plan.py: t = 0 before
  the run, node i runs at t = i + 1, t = N + 1 after it.

Modules, each importing only those before it: violations (kinds, report), regions (box algebra),
semantics (`needed_regions`), context, engines (`ENGINE_RULES`), then the checks: plan_checks, transfers,
steps, schedule, memory, nodes; run (`validate`, `assert_valid`).
"""

from .engines import ENGINE_RULES
from .run import assert_valid, validate
from .semantics import needed_regions
from .violations import PlanValidationError, Violation, ViolationKind

__all__ = [
    "ENGINE_RULES",
    "PlanValidationError",
    "Violation",
    "ViolationKind",
    "assert_valid",
    "needed_regions",
    "validate",
]
