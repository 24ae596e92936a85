"""Typed errors of deeploy_tiler.

Every failure the library reports is a subclass of `DeeployTilerError`, carries a message that names
the offending file / node / tensor / field, and exposes the same facts as attributes for programs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class _HasErrors(Protocol):
    def errors(self) -> Any: ...


def validation_summary(error: _HasErrors, limit: int = 5) -> str:
    """A pydantic ValidationError on one line: `field.path: message; ...` (at most `limit` entries)."""
    items = list(error.errors())
    parts = [f"{'.'.join(str(x) for x in e['loc']) or '(document)'}: {e['msg']}" for e in items[:limit]]
    more = f"; and {len(items) - limit} more" if len(items) > limit else ""
    return "; ".join(parts) + more


class DeeployTilerError(Exception):
    """Base class of every error the library raises on purpose."""


class ModelError(DeeployTilerError):
    """A model file is missing, unreadable, malformed or inconsistent."""

    def __init__(self, message: str, *, path: str | None = None, node: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.node = node


class UnsupportedOperatorError(ModelError):
    """The model uses operators the frontend does not know; lists every one of them."""

    def __init__(self, unsupported: dict[str, list[str]], *, path: str | None = None) -> None:
        # unsupported: "domain::op_type" -> node names using it
        self.unsupported = dict(sorted(unsupported.items()))
        parts = [
            f"{op} (nodes: {', '.join(names[:5])}{', ...' if len(names) > 5 else ''})"
            for op, names in self.unsupported.items()
        ]
        where = f"{path}: " if path else ""
        super().__init__(f"{where}unsupported operators: " + "; ".join(parts), path=path)


class ShapeError(ModelError):
    """Shapes of a node's inputs are inconsistent with its operator."""


class LayerListError(ModelError):
    """A layer-list JSON document does not follow the published schema."""


class HwSpecError(DeeployTilerError):
    """A hardware spec is missing, unknown, or has an invalid field."""

    def __init__(self, message: str, *, path: str | None = None, field: str | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.field = field


class ReferenceError_(DeeployTilerError):
    """The reference interpreter was given inputs it cannot run (missing, wrong shape)."""


class InfeasibleBudget(DeeployTilerError):
    """A memory budget that no plan can meet. Names every node that cannot fit and what it needs."""

    def __init__(self, level: str, budget_bytes: int, needs: Sequence[tuple[str, int, str]]) -> None:
        # needs: (node name, minimum bytes of `level` it needs, binding constraint)
        self.level = level
        self.budget_bytes = budget_bytes
        self.needs = list(needs)
        self.nodes = [n for n, _, _ in self.needs]
        self.min_bytes = {n: b for n, b, _ in self.needs}
        self.required_bytes = max((b for _, b, _ in self.needs), default=0)
        shown = "; ".join(f"node {n} needs at least {b} B of {level} ({why})" for n, b, why in self.needs[:8])
        more = f"; and {len(self.needs) - 8} more" if len(self.needs) > 8 else ""
        super().__init__(
            f"{level} budget of {budget_bytes} B is infeasible: {shown}{more}. "
            f"Smallest {level} budget that fits every node: {self.required_bytes} B"
        )


class AllocationError(DeeployTilerError):
    """A static allocation problem is malformed (names the buffer) or cannot fit its capacity."""

    def __init__(
        self, message: str, *, buffer: str | None = None, time: int | None = None, excess_bytes: int | None = None
    ) -> None:
        super().__init__(message)
        self.buffer = buffer
        self.time = time
        self.excess_bytes = excess_bytes


class OptionError(DeeployTilerError, ValueError):
    """An argument of a public function, a solver / engine option or an option of the CLI is unknown, of the
    wrong type or out of range, or an output path cannot be written. Names the argument / option in `field`."""

    def __init__(self, message: str, *, field: str | None = None, path: str | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.path = path


class PlanError(DeeployTilerError):
    """A plan document is malformed or does not belong to the given graph / spec."""


class EmitError(DeeployTilerError):
    """C emission, building or running the emitted program failed."""
