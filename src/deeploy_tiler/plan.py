"""`Plan`: the typed, JSON-serializable result of planning, and the contract between the solver,
the validator and the C emitter.

Coordinates: a *region* is a box in a tensor's own index space, one `[start, size]` per dimension.
L1 buffers hold one region densely packed in row-major order of the region's extents. A buffer with
`copies == 2` is double-buffered: its slots sit at `offset + slot * slot_bytes`.

Schedule semantics (what the emitter transcribes, what the validator checks): `events` run in order;
`dma_start` issues a transfer asynchronously, `dma_wait` blocks until that transfer completed,
`compute` runs one tile synchronously, reading and writing the slots named in its step. One input
transfer fills one whole slot; every compute step names a slot for each buffer it touches. Output
tiles partition the output: each element is computed exactly once (reductions are never split into
partial sums).

Whole-network memory (`Plan.memory`) uses half-open lifetimes on a step axis where t = 0 is before the
run (graph inputs are written then), node i runs at t = i + 1, and t = N + 1 is after the run (graph
outputs are read then).
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import PlanError, validation_summary

SCHEMA_VERSION = "1.0"

Region = tuple[tuple[int, int], ...]  # per tensor dimension: (start, size)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class L1Buffer(_Frozen):
    """One buffer of a node in L1 (or the engine's local memory)."""

    name: str = Field(description="buffer id, unique within the node")
    tensor: str | None = Field(description="graph tensor held, None for scratch")
    role: Literal["input", "weight", "output", "scratch", "descriptors"]
    level: str = Field(default="L1", description="memory level name of the HwSpec")
    offset: int = Field(ge=0, description="bytes from the start of the level's planning arena")
    slot_bytes: int = Field(ge=0, description="bytes of one copy, alignment padding included")
    copies: int = Field(ge=1, le=2, description="1 = single-buffered, 2 = double-buffered (ping-pong)")
    tile_shape: tuple[int, ...] = Field(description="largest region held, per tensor dimension (elements)")
    dtype: str = Field(description="element type, e.g. int8")

    @property
    def bytes(self) -> int:
        return self.slot_bytes * self.copies


class Transfer(_Frozen):
    """One DMA copy between a tensor's home level and an L1 buffer slot."""

    id: int = Field(ge=0)
    direction: Literal["in", "out"] = Field(description="in: home -> L1, out: L1 -> home")
    tensor: str
    home_level: str = Field(description="level the whole tensor lives in (L2, L3, WMEM)")
    buffer: str
    slot: int = Field(ge=0)
    region: Region
    bytes: int = Field(ge=0)
    rows: int = Field(ge=1, description="contiguous runs the strided copy is made of")


class ComputeStep(_Frozen):
    """One kernel call on one output tile."""

    tile: int = Field(ge=0)
    output_region: Region
    regions: dict[str, Region] = Field(description="buffer -> region of its tensor the slot holds")
    slots: dict[str, int] = Field(description="buffer -> slot read or written by this step")


class Event(_Frozen):
    kind: Literal["dma_start", "dma_wait", "compute"]
    ref: int = Field(ge=0, description="transfer id, or compute step index")


class CycleBreakdown(_Frozen):
    """Modeled cycles of one node (cost.py); `total` is what the solver minimized."""

    compute: int = Field(ge=0, description="kernel cycles summed over tiles, call overheads included")
    dma: int = Field(ge=0, description="DMA cycles summed over transfers, setup and per-row costs included")
    exposed_dma: int = Field(ge=0, description="DMA cycles not hidden behind compute")
    total: int = Field(ge=0)


class SolveStats(_Frozen):
    status: str = Field(description="OPTIMAL, FEASIBLE, UNTILED (no solve needed), CACHED, ...")
    objective: int | None = None
    best_bound: int | None = None
    num_variables: int = 0
    num_constraints: int = 0
    branches: int = 0


class EngineAlternative(_Frozen):
    engine: str
    cycles: int | None = Field(description="best modeled cycles on that engine, None when illegal")
    reason: str = ""


class NodePlan(_Frozen):
    name: str
    op_type: str
    engine: str
    output_tensor: str
    tile_shape: tuple[int, ...] = Field(description="output tile extents per output dimension")
    num_tiles: int = Field(ge=1)
    loop_order: tuple[int, ...] = Field(description="output dimensions, outermost loop first")
    buffers: tuple[L1Buffer, ...]
    l1_bytes: int = Field(ge=0, description="every byte of L1 the node uses, buffers + scratch + descriptors")
    transfers: tuple[Transfer, ...]
    steps: tuple[ComputeStep, ...]
    events: tuple[Event, ...]
    dma_bytes: int = Field(ge=0)
    cycles: CycleBreakdown
    lower_bound_cycles: int = Field(ge=0)
    solve: SolveStats
    alias_of: str | None = Field(default=None, description="for data-free reshapes: the input tensor shared")
    alternatives: tuple[EngineAlternative, ...] = ()

    @property
    def gap(self) -> float:
        return self.cycles.total / self.lower_bound_cycles - 1.0 if self.lower_bound_cycles else 0.0


class PlacedBuffer(_Frozen):
    """A whole tensor at a static offset of a memory level, live over steps [start, end) (module docstring)."""

    tensor: str
    level: str
    offset: int = Field(ge=0)
    size: int = Field(ge=0)
    start: int
    end: int
    alias_of: str | None = None


class LevelUsage(_Frozen):
    level: str
    capacity: int
    peak: int
    lower_bound: int
    strategy: str


class Plan(_Frozen):
    schema_version: str = SCHEMA_VERSION
    model: str
    hw: str
    budgets: dict[str, int] = Field(description="level -> bytes the plan may use")
    options: dict[str, Any] = Field(default_factory=dict)
    nodes: tuple[NodePlan, ...]
    memory: tuple[PlacedBuffer, ...] = ()
    levels: tuple[LevelUsage, ...] = ()
    total_cycles: int = Field(ge=0)
    lower_bound_cycles: int = Field(ge=0)

    @property
    def gap(self) -> float:
        return self.total_cycles / self.lower_bound_cycles - 1.0 if self.lower_bound_cycles else 0.0

    @property
    def num_tiles(self) -> int:
        return sum(n.num_tiles for n in self.nodes if n.alias_of is None)

    def node(self, name: str) -> NodePlan:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(name)

    def to_json(self, *, indent: int | None = 1) -> str:
        """Deterministic JSON: same plan, same bytes."""
        return json.dumps(self.model_dump(mode="json"), indent=indent, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Plan:
        """A plan from its JSON text; a malformed document is a PlanError naming the fields."""
        if not isinstance(text, str | bytes):
            raise PlanError(f"a plan's JSON must be str or bytes, got {type(text).__name__}")
        try:
            return cls.model_validate_json(text)
        except ValidationError as e:
            raise PlanError(f"invalid plan JSON: {validation_summary(e)}") from None

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return cls.model_json_schema()
