"""Independent checker of a `Plan`: recomputes everything from the graph, the spec and the plan, and
imports no solver, operator-geometry or cost code."""

from .checks import ENGINE_RULES, PlanValidationError, Violation, ViolationKind, assert_valid, needed_regions, validate

__all__ = [
    "ENGINE_RULES",
    "PlanValidationError",
    "Violation",
    "ViolationKind",
    "assert_valid",
    "needed_regions",
    "validate",
]
