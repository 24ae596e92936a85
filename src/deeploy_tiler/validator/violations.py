"""What the validator reports: the kinds of broken rules, one `Violation`, the error that lists them, and
the `Report` that collects them (capped per node and kind so a flood stays readable)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ..errors import PlanError

MAX_PER_KIND = 20  # messages kept per (node, kind); the rest are summarized in one line


class ViolationKind(StrEnum):
    # plan header and levels
    PLAN_HEADER = "PLAN_HEADER"  # schema version, model or hw name differ from the given graph / spec
    UNKNOWN_LEVEL = "UNKNOWN_LEVEL"  # a memory level the hw spec does not have
    LEVEL_CAPACITY = "LEVEL_CAPACITY"  # budget + reserved bytes (stacks) exceed the level's physical size
    BUDGET = "BUDGET"  # a buffer, a node or a level peak beyond the planned budget
    # node list
    UNKNOWN_NODE = "UNKNOWN_NODE"
    MISSING_NODE = "MISSING_NODE"
    DUPLICATE_NODE = "DUPLICATE_NODE"
    NODE_ORDER = "NODE_ORDER"
    OP_TYPE = "OP_TYPE"
    OUTPUT_TENSOR = "OUTPUT_TENSOR"
    ALIAS = "ALIAS"  # alias_of inconsistent with the operator, or an aliased node that moves data
    NUM_TILES = "NUM_TILES"
    LOOP_ORDER = "LOOP_ORDER"
    TILE_SHAPE = "TILE_SHAPE"  # a region larger than the tile shape it is held in, or a rank mismatch
    DMA_BYTES = "DMA_BYTES"  # node.dma_bytes != sum of its transfers
    # buffers
    DUPLICATE_BUFFER = "DUPLICATE_BUFFER"
    BUFFER_TENSOR = "BUFFER_TENSOR"  # buffer holds a tensor that is no operand, or a role that does not fit
    MISSING_BUFFER = "MISSING_BUFFER"  # an operand or the output has no buffer the engine could use
    BUFFER_LEVEL = "BUFFER_LEVEL"  # buffer in a level the engine does not read / write
    DTYPE = "DTYPE"
    FOOTPRINT = "FOOTPRINT"  # slot_bytes smaller than the aligned bytes of the tile shape
    ALIGNMENT = "ALIGNMENT"
    BUFFER_OVERLAP = "BUFFER_OVERLAP"
    L1_BYTES = "L1_BYTES"  # node.l1_bytes != bytes its L1 buffers occupy
    # tiles and regions
    COVERAGE = "COVERAGE"
    OUTPUT_REGION = "OUTPUT_REGION"
    INPUT_REGION = "INPUT_REGION"
    REGION_BOUNDS = "REGION_BOUNDS"
    UNSUPPORTED_OP = "UNSUPPORTED_OP"  # the validator cannot derive the operand regions of this operator
    # transfers
    UNKNOWN_BUFFER = "UNKNOWN_BUFFER"
    SLOT = "SLOT"
    TRANSFER_TENSOR = "TRANSFER_TENSOR"  # transfer tensor / direction inconsistent with its buffer
    TRANSFER_BYTES = "TRANSFER_BYTES"
    TRANSFER_ROWS = "TRANSFER_ROWS"
    DMA_ROUTE = "DMA_ROUTE"  # no DMA engine copies between the two levels
    HOME_LEVEL = "HOME_LEVEL"  # transfer home level differs from where the tensor is placed
    # schedule
    SCHEDULE = "SCHEDULE"  # malformed events: unknown refs, double start, wait without start, step not run
    TRANSFER_NOT_STARTED = "TRANSFER_NOT_STARTED"
    UNWAITED_TRANSFER = "UNWAITED_TRANSFER"
    REGION_MISMATCH = "REGION_MISMATCH"  # step region differs from what the slot holds
    HAZARD_LOAD_BEFORE_COMPUTE = "HAZARD_LOAD_BEFORE_COMPUTE"  # compute before the wait of its load
    HAZARD_OVERWRITE_WHILE_READ = "HAZARD_OVERWRITE_WHILE_READ"  # load overwrites data still to be read
    HAZARD_DMA_RACE = "HAZARD_DMA_RACE"  # two DMAs (or a DMA and a compute write) on one slot at once
    HAZARD_STORE_BEFORE_COMPUTE = "HAZARD_STORE_BEFORE_COMPUTE"
    HAZARD_OUTPUT_OVERWRITE = "HAZARD_OUTPUT_OVERWRITE"  # compute writes a slot whose store is in flight
    OUTPUT_NOT_STORED = "OUTPUT_NOT_STORED"
    # whole-network memory
    MEMORY_MISSING = "MEMORY_MISSING"
    MEMORY_OVERLAP = "MEMORY_OVERLAP"
    MEMORY_SIZE = "MEMORY_SIZE"
    MEMORY_LIFETIME = "MEMORY_LIFETIME"
    MEMORY_ALIAS = "MEMORY_ALIAS"
    LEVEL_USAGE = "LEVEL_USAGE"
    UNKNOWN_TENSOR = "UNKNOWN_TENSOR"
    # engines
    UNKNOWN_ENGINE = "UNKNOWN_ENGINE"
    ENGINE_OP = "ENGINE_OP"
    NPU_RULE = "NPU_RULE"


@dataclass(frozen=True)
class Violation:
    """One broken rule: its kind, the node (None for plan-wide rules) and a message naming the culprits."""

    kind: ViolationKind
    node: str | None
    message: str

    def __str__(self) -> str:
        where = f"node {self.node}: " if self.node is not None else ""
        return f"{self.kind.value}: {where}{self.message}"


class PlanValidationError(PlanError):
    """A plan broke the rules; `violations` lists every one."""

    def __init__(self, violations: Sequence[Violation], *, shown: int = 40) -> None:
        self.violations = tuple(violations)
        lines = [f"  {v}" for v in self.violations[:shown]]
        if len(self.violations) > shown:
            lines.append(f"  ... and {len(self.violations) - shown} more")
        super().__init__(f"invalid plan: {len(self.violations)} violation(s)\n" + "\n".join(lines))


@dataclass
class Report:
    violations: list[Violation] = field(default_factory=list)
    counts: Counter[tuple[str | None, ViolationKind]] = field(default_factory=Counter)

    def add(self, kind: ViolationKind, node: str | None, message: str) -> None:
        key = (node, kind)
        self.counts[key] += 1
        if self.counts[key] <= MAX_PER_KIND:
            self.violations.append(Violation(kind, node, message))

    def finish(self) -> list[Violation]:
        for (node, kind), n in self.counts.items():
            if n > MAX_PER_KIND:
                self.violations.append(Violation(kind, node, f"... and {n - MAX_PER_KIND} more like the above"))
        return self.violations
