"""Typed, frozen data of the static allocation problem: `Buffer`, `AllocStats`, `AllocationResult`.

A buffer lives in the half-open time interval ``[start, end)``: two buffers *conflict* (must not share
an address) iff ``a.start < b.end and b.start < a.end``. A buffer ending at ``t`` and one starting at
``t`` may share memory. Offsets are byte addresses inside ``[0, capacity)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["STRATEGIES", "AllocStats", "AllocationResult", "Buffer", "conflicts"]

#: Strategy names accepted by `allocate`.
STRATEGIES: tuple[str, ...] = ("auto", "greedy", "search", "cpsat")


@dataclass(frozen=True, slots=True)
class Buffer:
    """One buffer: a name, a half-open lifetime ``[start, end)``, a size in bytes.

    ``alignment`` (a power of two) constrains the offset to a multiple of it; ``fixed_offset`` pins the
    buffer to one address (e.g. an I/O buffer the runtime places itself).
    """

    id: str
    start: int
    end: int
    size: int
    alignment: int = 1
    fixed_offset: int | None = None

    @property
    def lifetime(self) -> int:
        return self.end - self.start

    @property
    def area(self) -> int:
        return self.lifetime * self.size


def conflicts(a: Buffer, b: Buffer) -> bool:
    """True iff the two lifetimes intersect (half-open intervals)."""
    return a.start < b.end and b.start < a.end


@dataclass(frozen=True, slots=True)
class AllocStats:
    """How a result was obtained.

    ``status`` is one of ``"feasible"`` (a fit was found), ``"infeasible"`` (a strategy proved that no
    fit exists), ``"timeout"`` (the time limit ended the search without either), ``"overflow"`` (only a
    heuristic ran and its packing does not fit), ``"empty"`` (no buffers).
    """

    seconds: float
    status: str
    nodes: int = 0
    backtracks: int = 0
    attempts: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True, slots=True)
class AllocationResult:
    """Offsets for every buffer (by id), the resulting peak address, a lower bound on any peak.

    ``solved`` is True iff every buffer is placed and ``peak <= capacity``. When no strategy found a fit,
    ``offsets`` still holds the best packing found (typically the greedy one, over capacity).
    """

    offsets: dict[str, int]
    peak: int
    lower_bound: int
    capacity: int
    solved: bool
    strategy: str
    stats: AllocStats = field(default_factory=lambda: AllocStats(seconds=0.0, status="empty"))

    def __post_init__(self) -> None:
        object.__setattr__(self, "offsets", dict(self.offsets))  # own copy; picklable

    @property
    def optimal(self) -> bool:
        """The peak equals the max-live-bytes lower bound, so no allocation can have a lower peak."""
        return self.peak == self.lower_bound
