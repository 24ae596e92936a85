"""Calibration of the siracusa spec's cost figures on cycles measured on GVSoC.

Per node the measurement is modeled as a non-negative combination of what the plan knows:
    cycles ~ node_overhead + macs / mac_rate + other_ops / elementwise_rate + tiles * call_overhead
             + dma_bytes / dma_bandwidth + transfers * dma_setup
(other_ops: the non-MAC work the cost model charges the node, recovered from its modeled compute cycles
and the spec's rates; node_overhead: what a node costs whatever its size, e.g. its code missing in the
instruction cache, which the spec has no field for). The weights come from a non-negative least-squares
fit (Lawson-Hanson) of the relative errors; the result carries its provenance (models, budgets, nodes,
simulator). DMA that overlaps compute in a double-buffered plan is partly hidden, so the DMA terms are
what stays exposed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..hw.calibration import SpecCalibration
from ..hw.spec import HwSpec
from ..plan import Plan
from .siracusa import NodeCycles

FEATURES = ("node", "macs", "other_ops", "tiles", "dma_bytes", "transfers")


@dataclass(frozen=True)
class NodeSample:
    """One measured node with the features of the fit."""

    model: str
    name: str
    measured: int
    features: tuple[float, ...]  # in FEATURES order


@dataclass(frozen=True)
class Calibration:
    """Fitted figures (None where the fit gave the term no weight) and where they come from."""

    node_overhead_cycles: float  # per node (no spec field; reported beside the overrides)
    effective_macs_per_cycle: float | None
    elementwise_ops_per_cycle: float | None
    call_overhead_cycles: float
    dma_bandwidth_bytes_per_cycle: float | None
    dma_setup_cycles: float
    nodes: int
    relative_error_before: float  # median |modeled - measured| / measured with the spec's figures
    relative_error_after: float  # the same with the fitted figures
    provenance: str

    def overrides(self, hw: HwSpec) -> dict[str, float]:
        """Dotted spec overrides (hw.dotted) for the fitted figures the fit determined."""
        eng = next(e.name for e in hw.engines if e.kind == "cluster")
        dma = next(d.name for d in hw.dmas if d.dst == hw.memories[0].name)
        out: dict[str, float] = {f"engines.{eng}.call_overhead_cycles": round(self.call_overhead_cycles)}
        if self.effective_macs_per_cycle is not None:
            out[f"engines.{eng}.effective_macs_per_cycle.int8"] = round(self.effective_macs_per_cycle, 2)
        if self.elementwise_ops_per_cycle is not None:
            out[f"engines.{eng}.elementwise_ops_per_cycle"] = round(self.elementwise_ops_per_cycle, 3)
        if self.dma_bandwidth_bytes_per_cycle is not None:
            out[f"dmas.{dma}.bandwidth_bytes_per_cycle"] = round(self.dma_bandwidth_bytes_per_cycle, 2)
        out[f"dmas.{dma}.setup_latency_cycles"] = round(self.dma_setup_cycles)
        return out

    def record(
        self,
        hw: HwSpec,
        name: str,
        ratio_before: Mapping[str, float] | None = None,
        ratio_after: Mapping[str, float] | None = None,
    ) -> SpecCalibration:
        """The spec's calibration entry (hw.calibration) for these figures, with their provenance."""
        return SpecCalibration(
            name=name,
            source=self.provenance,
            overrides=self.overrides(hw),
            nodes=self.nodes,
            median_error_before=round(self.relative_error_before, 4),
            median_error_after=round(self.relative_error_after, 4),
            ratio_before={k: round(v, 4) for k, v in (ratio_before or {}).items()},
            ratio_after={k: round(v, 4) for k, v in (ratio_after or {}).items()},
        )


def samples(model: str, plan: Plan, hw: HwSpec, rows: Sequence[NodeCycles]) -> list[NodeSample]:
    """Fit features of the measured nodes of one plan (data-free aliases are left out)."""
    eng = next(e for e in hw.engines if e.kind == "cluster")
    rate = float(eng.effective_macs_per_cycle.get("int8", eng.peak_macs_per_cycle.get("int8", 1.0)))
    ew = float(eng.elementwise_ops_per_cycle or 1.0)
    by_name = {n.name: n for n in plan.nodes}
    out = []
    for r in rows:
        np_ = by_name[r.name]
        if np_.alias_of is not None:
            continue
        tiles = np_.num_tiles
        other = max(0.0, r.modeled_compute - tiles * eng.call_overhead_cycles - r.macs / rate) * ew
        feats = (1.0, float(r.macs), other, float(tiles), float(r.dma_bytes), float(len(np_.transfers)))
        out.append(NodeSample(model, r.name, r.measured, feats))
    return out


def nnls(a: np.ndarray, b: np.ndarray, iters: int = 200) -> np.ndarray:
    """min |a x - b| subject to x >= 0 (Lawson-Hanson active set)."""
    n = a.shape[1]
    x = np.zeros(n)
    passive = np.zeros(n, dtype=bool)
    for _ in range(iters):
        w = a.T @ (b - a @ x)
        if passive.all() or (w[~passive] <= 1e-9 * max(1.0, float(np.abs(w).max()))).all():
            break
        j = int(np.argmax(np.where(passive, -np.inf, w)))
        passive[j] = True
        while True:
            z = np.zeros(n)
            z[passive] = np.linalg.lstsq(a[:, passive], b, rcond=None)[0]
            if (z[passive] > 0).all():
                x = z
                break
            neg = passive & (z <= 0)
            alpha = float(np.min(x[neg] / (x[neg] - z[neg])))
            x = x + alpha * (z - x)
            passive &= x > 1e-12
    return x


def fit(
    data: Sequence[NodeSample], modeled: Sequence[int], hw: HwSpec, provenance: str, *, node_term: bool = True
) -> Calibration:
    """Fit the figures to measured node cycles; `modeled` are the plan's cycles of the same nodes.
    `node_term=False` fits the spec's fields alone (no per-node overhead, which the spec cannot hold)."""
    if len(data) < len(FEATURES):
        raise ValueError(f"{len(data)} measured nodes are too few to fit {len(FEATURES)} figures")
    a = np.array([s.features for s in data], dtype=float)
    if not node_term:
        a[:, 0] = 0.0  # an all-zero column gets no weight from the non-negative fit
    b = np.array([s.measured for s in data], dtype=float)
    # relative errors: each node's row divided by its measurement, so small nodes count as much as big ones
    w = 1.0 / np.maximum(b, 1.0)
    aw = a * w[:, None]
    scale = np.maximum(aw.max(axis=0), 1e-12)  # columns of comparable size
    x = nnls(aw / scale, b * w) / scale
    pred = a @ x
    before = float(np.median(np.abs(np.array(modeled, dtype=float) - b) / np.maximum(b, 1.0)))
    after = float(np.median(np.abs(pred - b) / np.maximum(b, 1.0)))

    def inv(v: float) -> float | None:
        return 1.0 / v if v > 0 else None

    return Calibration(
        node_overhead_cycles=float(x[0]),
        effective_macs_per_cycle=inv(float(x[1])),
        elementwise_ops_per_cycle=inv(float(x[2])),
        call_overhead_cycles=float(x[3]),
        dma_bandwidth_bytes_per_cycle=inv(float(x[4])),
        dma_setup_cycles=float(x[5]),
        nodes=len(data),
        relative_error_before=before,
        relative_error_after=after,
        provenance=provenance,
    )


__all__ = ["FEATURES", "Calibration", "NodeSample", "fit", "nnls", "samples"]
