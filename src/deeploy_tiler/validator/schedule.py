"""Schedule simulation: one node's events run in order, tracking what each buffer slot holds and which
DMAs are in flight, to find hazards (compute before its load, overwrite while read, races, unstored tiles)."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..plan import L1Buffer, NodePlan, Region, Transfer
from .context import Context
from .regions import fmt, volume
from .violations import ViolationKind


@dataclass
class _Slot:
    content: Region | None = None  # what the last completed load put there (inputs)
    last_load: int | None = None
    loading: int | None = None  # load in flight into the slot
    storing: set[int] = field(default_factory=set)  # stores in flight from the slot
    history: list[Region] = field(default_factory=list)  # every region loaded so far
    held: Region | None = None  # output tile region the slot holds (outputs)
    written: int = 0  # elements of `held` written by computes so far
    unstored: bool = False


class Simulation:
    """Runs one node's events in order, tracking what every buffer slot holds and which DMAs are in flight."""

    def __init__(
        self, ctx: Context, np_: NodePlan, buffers: Mapping[str, L1Buffer], transfers: Mapping[int, Transfer]
    ) -> None:
        self.ctx, self.np, self.buffers, self.transfers = ctx, np_, buffers, transfers
        self.slots: dict[tuple[str, int], _Slot] = {}
        self.started: set[int] = set()
        self.waited: set[int] = set()
        self.ran: Counter[int] = Counter()
        self.future_loads: dict[tuple[str, int], list[tuple[int, Region]]] = {}
        self.future_writes: dict[tuple[str, int], list[tuple[int, Region]]] = {}
        self._index_future()

    def add(self, kind: ViolationKind, message: str) -> None:
        self.ctx.add(kind, self.np.name, message)

    def _index_future(self) -> None:
        for pos, ev in enumerate(self.np.events):
            if ev.kind == "dma_start" and ev.ref in self.transfers:
                t = self.transfers[ev.ref]
                if t.direction == "in":
                    self.future_loads.setdefault((t.buffer, t.slot), []).append((pos, t.region))
            elif ev.kind == "compute" and ev.ref < len(self.np.steps):
                step = self.np.steps[ev.ref]
                for bname, region in step.regions.items():
                    b = self.buffers.get(bname)
                    if b is not None and b.role == "output" and bname in step.slots:
                        self.future_writes.setdefault((bname, step.slots[bname]), []).append((pos, region))

    @staticmethod
    def _later(
        index: Mapping[tuple[str, int], list[tuple[int, Region]]], key: tuple[str, int], pos: int, region: Region
    ) -> bool:
        entries = index.get(key, [])
        start = bisect.bisect_right([p for p, _ in entries], pos)
        return any(r == region for _, r in entries[start:])

    def slot(self, buffer: str, slot: int) -> _Slot:
        return self.slots.setdefault((buffer, slot), _Slot())

    def run(self) -> None:
        for pos, ev in enumerate(self.np.events):
            if ev.kind == "compute":
                self._compute(pos, ev.ref)
                continue
            t = self.transfers.get(ev.ref)
            if t is None:
                self.add(ViolationKind.SCHEDULE, f"event {pos} ({ev.kind}) refers to unknown transfer {ev.ref}")
            elif ev.kind == "dma_start":
                self._start(pos, t)
            else:
                self._wait(pos, t)
        self._finish()

    def _usable(self, t: Transfer) -> bool:
        b = self.buffers.get(t.buffer)
        return b is not None and t.slot < b.copies

    def _start(self, pos: int, t: Transfer) -> None:
        if t.id in self.started:
            self.add(ViolationKind.SCHEDULE, f"event {pos}: transfer {t.id} started twice")
            return
        self.started.add(t.id)
        if not self._usable(t):
            return
        s = self.slot(t.buffer, t.slot)
        where = f"{t.buffer}[{t.slot}]"
        if s.loading is not None:
            self.add(
                ViolationKind.HAZARD_DMA_RACE,
                f"event {pos}: transfer {t.id} loads into {where} while transfer {s.loading} still loads it",
            )
        if t.direction == "in":
            if s.storing:
                self.add(
                    ViolationKind.HAZARD_OVERWRITE_WHILE_READ,
                    f"event {pos}: transfer {t.id} loads into "
                    f"{where} while store {sorted(s.storing)} from it is in flight",
                )
            s.loading, s.content = t.id, None
            return
        if s.held == t.region and s.written >= volume(t.region):
            s.unstored = False
        elif self._later(self.future_writes, (t.buffer, t.slot), pos, t.region):
            self.add(
                ViolationKind.HAZARD_STORE_BEFORE_COMPUTE,
                f"event {pos}: transfer {t.id} stores {fmt(t.region)} from {where} before the compute that writes it",
            )
        else:
            held = "nothing" if s.held is None else fmt(s.held)
            self.add(
                ViolationKind.REGION_MISMATCH,
                f"event {pos}: transfer {t.id} stores {fmt(t.region)} from "
                f"{where}, which holds {held} ({s.written} elements written)",
            )
        s.storing.add(t.id)

    def _wait(self, pos: int, t: Transfer) -> None:
        if t.id not in self.started or t.id in self.waited:
            why = "never started" if t.id not in self.started else "already waited"
            self.add(ViolationKind.SCHEDULE, f"event {pos}: wait for transfer {t.id}, {why}")
            return
        self.waited.add(t.id)
        if not self._usable(t):
            return
        s = self.slot(t.buffer, t.slot)
        if t.direction == "in":
            if s.loading == t.id:
                s.loading = None
            s.content, s.last_load = t.region, t.id
            s.history.append(t.region)
        else:
            s.storing.discard(t.id)

    def _compute(self, pos: int, ref: int) -> None:
        if ref >= len(self.np.steps):
            self.add(ViolationKind.SCHEDULE, f"event {pos}: compute of unknown step {ref}")
            return
        self.ran[ref] += 1
        if self.ran[ref] > 1:
            self.add(ViolationKind.SCHEDULE, f"event {pos}: step {ref} computed again")
        step = self.np.steps[ref]
        for bname, region in step.regions.items():
            b = self.buffers.get(bname)
            slot = step.slots.get(bname)
            if b is None or slot is None or not 0 <= slot < b.copies:
                continue  # reported by the static step checks
            if b.role == "output":
                self._write(pos, ref, bname, slot, region, step.output_region)
            else:
                self._read(pos, ref, bname, slot, region)

    def _read(self, pos: int, ref: int, bname: str, slot: int, region: Region) -> None:
        s = self.slot(bname, slot)
        where = f"{bname}[{slot}]"
        if s.loading is not None:
            lt = self.transfers[s.loading]
            if lt.region == region:
                self.add(
                    ViolationKind.HAZARD_LOAD_BEFORE_COMPUTE,
                    f"event {pos}: step {ref} reads {where} "
                    f"before the wait of transfer {lt.id} that loads {fmt(region)}",
                )
            else:
                self.add(
                    ViolationKind.HAZARD_OVERWRITE_WHILE_READ,
                    f"event {pos}: step {ref} reads {fmt(region)} "
                    f"from {where} while transfer {lt.id} overwrites it with {fmt(lt.region)}",
                )
            return
        if s.content == region:
            return
        if region in s.history:
            self.add(
                ViolationKind.HAZARD_OVERWRITE_WHILE_READ,
                f"event {pos}: step {ref} reads {fmt(region)} from "
                f"{where}, but transfer {s.last_load} overwrote it before (now {fmt(s.content or ())})",
            )
        elif self._later(self.future_loads, (bname, slot), pos, region):
            self.add(
                ViolationKind.HAZARD_LOAD_BEFORE_COMPUTE,
                f"event {pos}: step {ref} reads {fmt(region)} from {where} before the transfer that loads it",
            )
        else:
            held = "nothing" if s.content is None else fmt(s.content)
            self.add(
                ViolationKind.REGION_MISMATCH,
                f"event {pos}: step {ref} claims {where} holds {fmt(region)}; it holds {held}",
            )

    def _write(self, pos: int, ref: int, bname: str, slot: int, region: Region, out: Region) -> None:
        s = self.slot(bname, slot)
        where = f"{bname}[{slot}]"
        if s.storing:
            self.add(
                ViolationKind.HAZARD_OUTPUT_OVERWRITE,
                f"event {pos}: step {ref} writes {where} while store {sorted(s.storing)} from it has not been waited",
            )
        if s.loading is not None:
            self.add(
                ViolationKind.HAZARD_DMA_RACE,
                f"event {pos}: step {ref} writes {where} while transfer {s.loading} loads into it",
            )
        if s.held != region:
            if s.unstored and s.held is not None:
                self.add(
                    ViolationKind.OUTPUT_NOT_STORED,
                    f"event {pos}: step {ref} overwrites {where}, whose tile {fmt(s.held)} was never stored",
                )
            s.held, s.written = region, 0
        s.written += volume(out)
        s.unstored = True

    def _finish(self) -> None:
        for tid, t in self.transfers.items():
            if tid not in self.started:
                self.add(
                    ViolationKind.TRANSFER_NOT_STARTED,
                    f"transfer {tid} ({t.direction} {t.tensor} {fmt(t.region)}) has no dma_start",
                )
            elif tid not in self.waited:
                self.add(ViolationKind.UNWAITED_TRANSFER, f"transfer {tid} ({t.direction} {t.tensor}) is never waited")
        for i in range(len(self.np.steps)):
            if self.ran[i] == 0:
                self.add(ViolationKind.SCHEDULE, f"step {i} is never computed")
        for (bname, slot), s in self.slots.items():
            if s.unstored and s.held is not None:
                self.add(ViolationKind.OUTPUT_NOT_STORED, f"tile {fmt(s.held)} in {bname}[{slot}] is never stored")
