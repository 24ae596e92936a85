"""The planner's view of a HwSpec: one derived, frozen record per compute engine, with every figure the
later stages need as an exact number (ints and Fractions), and every memory level given by its role.

Roles come from the spec, never from level names:
* local level of an engine: the first level it reads (`reads_levels[0]`, L1 on Siracusa);
* home level: the level a DMA links to the local level (L2), where activations live between nodes;
* weight level: a weights-only level the engine reads directly (the NPU's `weight_memory_level`, else
  the first `weights_only` level in `reads_levels`; WMEM), or None;
* backing level: a level a DMA links to the home level that no engine reads and that is not
  weights-only (L3), or None; constants that do not fit the home level may live there.

`target_of(hw)` derives the view once per spec object (cached), so the stages share one reading.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from ..errors import HwSpecError, PlanError
from .spec import ComputeEngine, HwSpec, MemoryLevel, NpuRules

__all__ = ["RATE_DENOMINATOR", "EngineTarget", "LevelTarget", "LinkTarget", "Target", "exact_rate", "target_of"]

RATE_DENOMINATOR = 10**6  # rates given as floats are read as fractions with at most this denominator


def exact_rate(x: float) -> Fraction:
    """A spec's float rate (bytes or operations per cycle) as the exact fraction the models compute with."""
    return Fraction(x).limit_denominator(RATE_DENOMINATOR)


@dataclass(frozen=True)
class LevelTarget:
    """One memory level in exact figures."""

    name: str
    size_bytes: int
    usable_bytes: int  # size minus reserved
    budget_bytes: int  # the default planning budget
    alignment: int  # buffer start alignment, bytes
    port_bandwidth: Fraction | None  # bytes per cycle an engine reads it directly at (None: not known)
    weights_only: bool

    @staticmethod
    def of(m: MemoryLevel) -> LevelTarget:
        bw = m.port_bandwidth_bytes_per_cycle
        return LevelTarget(
            name=m.name,
            size_bytes=m.size_bytes,
            usable_bytes=m.usable_bytes,
            budget_bytes=m.budget_bytes,
            alignment=m.alignment_bytes,
            port_bandwidth=exact_rate(bw) if bw is not None else None,
            weights_only=m.weights_only,
        )


@dataclass(frozen=True)
class LinkTarget:
    """The DMA between an engine's home and local levels."""

    name: str
    setup_cycles: int  # per transfer
    per_row_cycles: int  # per contiguous run
    bandwidth: Fraction  # bytes per cycle
    max_dims: int  # dimensions one transfer describes


@dataclass(frozen=True)
class EngineTarget:
    """One compute engine and the levels it works with, by role (module docstring)."""

    name: str
    kind: Literal["cluster", "npu"]
    local: LevelTarget
    home: LevelTarget
    weight: LevelTarget | None
    backing: LevelTarget | None
    dma: LinkTarget  # home <-> local
    call_overhead: int  # cycles per kernel call / task
    npu: NpuRules | None  # the NPU's tiling rules (kind 'npu')


@dataclass(frozen=True)
class Target:
    """Every engine of a spec by role; `cluster` is the general-purpose engine, `npu` the first NPU."""

    spec_name: str
    cluster_name: str  # the spec's first engine of kind 'cluster'
    npu_name: str | None  # its first engine of kind 'npu'
    engines: tuple[EngineTarget, ...]
    levels: tuple[LevelTarget, ...]
    unplannable: tuple[tuple[str, str], ...] = ()  # (engine, why): engines whose local level no DMA reaches

    @property
    def cluster(self) -> EngineTarget:
        return self.engine(self.cluster_name)

    @property
    def npu(self) -> EngineTarget | None:
        return self.engine(self.npu_name) if self.npu_name is not None else None

    @property
    def home(self) -> LevelTarget:
        """Where activations live between nodes: the cluster's home level."""
        return self.cluster.home

    @property
    def backing(self) -> LevelTarget | None:
        return self.cluster.backing

    def engine(self, name: str | None = None) -> EngineTarget:
        """The engine called `name` (None: the cluster); HwSpecError listing the engines otherwise."""
        if name is None:
            name = self.cluster_name
        for e in self.engines:
            if e.name == name:
                return e
        for engine, why in self.unplannable:
            if engine == name:
                raise PlanError(why)
        known = ", ".join([*(e.name for e in self.engines), *(e for e, _ in self.unplannable)])
        raise HwSpecError(f"spec {self.spec_name!r}: unknown compute engine {name!r}; known: {known}", field="engines")

    def level(self, name: str) -> LevelTarget:
        for m in self.levels:
            if m.name == name:
                return m
        known = ", ".join(m.name for m in self.levels)
        raise HwSpecError(f"spec {self.spec_name!r}: unknown memory level {name!r}; known: {known}", field="memories")


def _home_of(hw: HwSpec, local: str) -> str | None:
    homes = [d.src if d.dst == local else d.dst for d in hw.dmas if local in (d.src, d.dst)]
    return homes[0] if homes else None


def _weight_of(hw: HwSpec, engine: ComputeEngine) -> str | None:
    if engine.npu is not None and engine.npu.weight_memory_level is not None:
        return engine.npu.weight_memory_level
    return next((lv for lv in engine.reads_levels if hw.memory(lv).weights_only), None)


def _backing_of(hw: HwSpec, home: str, local: str) -> str | None:
    read = {lv for e in hw.engines for lv in e.reads_levels}
    for d in hw.dmas:
        if home in (d.src, d.dst):
            other = d.src if d.dst == home else d.dst
            if other != local and other not in read and not hw.memory(other).weights_only:
                return other
    return None


def _engine_target(hw: HwSpec, engine: ComputeEngine, levels: dict[str, LevelTarget]) -> EngineTarget | str:
    """The engine's view, or why it cannot be planned for (no DMA feeds its local level)."""
    local = engine.reads_levels[0]
    home = _home_of(hw, local)
    if home is None:
        return f"spec {hw.name}: no DMA reaches {local}, the local memory of engine {engine.name}"
    weight = _weight_of(hw, engine)
    backing = _backing_of(hw, home, local)
    dma = hw.dma(home, local)
    return EngineTarget(
        name=engine.name,
        kind=engine.kind,
        local=levels[local],
        home=levels[home],
        weight=levels[weight] if weight is not None else None,
        backing=levels[backing] if backing is not None else None,
        dma=LinkTarget(
            name=dma.name,
            setup_cycles=dma.setup_latency_cycles,
            per_row_cycles=dma.per_row_cycles,
            bandwidth=exact_rate(dma.bandwidth_bytes_per_cycle),
            max_dims=dma.max_dims,
        ),
        call_overhead=engine.call_overhead_cycles,
        npu=engine.npu,
    )


def derive_target(hw: HwSpec) -> Target:
    """The view of `hw`, derived afresh (use `target_of` for the cached one)."""
    levels = {m.name: LevelTarget.of(m) for m in hw.memories}
    engines: list[EngineTarget] = []
    unplannable: list[tuple[str, str]] = []
    for e in hw.engines:
        t = _engine_target(hw, e, levels)
        if isinstance(t, str):
            unplannable.append((e.name, t))
        else:
            engines.append(t)
    npu = hw.npu_engine
    return Target(
        spec_name=hw.name,
        cluster_name=hw.cluster_engine.name,
        npu_name=npu.name if npu is not None else None,
        engines=tuple(engines),
        levels=tuple(levels.values()),
        unplannable=tuple(unplannable),
    )


_CACHE_SIZE = 32
# Keyed by object identity (a HwSpec's own hash serialises it), holding the spec so the id stays valid.
_cache: OrderedDict[int, tuple[HwSpec, Target]] = OrderedDict()


_lock = threading.Lock()


def target_of(hw: HwSpec) -> Target:
    """The (cached) target view of `hw`. HwSpec is frozen, so the view never goes stale."""
    with _lock:
        hit = _cache.get(id(hw))
        if hit is not None and hit[0] is hw:
            _cache.move_to_end(id(hw))
            return hit[1]
    target = derive_target(hw)
    with _lock:
        _cache[id(hw)] = (hw, target)
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return target
