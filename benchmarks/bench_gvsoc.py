"""Benchmark of the siracusa target on GVSoC: per model and L1 budget (double buffering on), the siracusa
ELF is built, its placement checked against the plan, and, when a GVSoC install is named by
$DEEPLOY_TILER_GVSOC, run: bit-exactness, total and per-node cycles measured (cluster core 0's mcycle)
against the plan's modeled cycles, the instructions retired (core 0 and all 8 cores, from the PULP
performance counters: the ELF is built with DT_SIR_PROFILE), and at the end a calibration of the spec's
figures on all measured nodes (emitter/calibrate.py) with its provenance.

    DEEPLOY_TILER_GVSOC=/opt/gvsoc python benchmarks/bench_gvsoc.py
    python benchmarks/bench_gvsoc.py --models miniMobileNet --budgets 64000 --per-node --json out.json
    DEEPLOY_TILER_GVSOC=/opt/gvsoc python benchmarks/bench_gvsoc.py --record gvsoc   # writes the fit into
        src/deeploy_tiler/hw/specs/siracusa.yaml (`calibrations:`), after re-running every point planned
        with the fitted figures (the ratio after)

Without GVSoC it builds and checks only, and says so. Models come from $DEEPLOY_TILER_TESTDATA (default
../shared/data/deeploy-tests).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deeploy_tiler import api
from deeploy_tiler.emitter import build, emit_project, run, siracusa
from deeploy_tiler.emitter.build import _binutil
from deeploy_tiler.emitter.calibrate import FEATURES, NodeSample, fit, samples
from deeploy_tiler.hw import HwSpec, load_hw
from deeploy_tiler.hw.calibration import replace_calibrations
from deeploy_tiler.ir import Graph

REPO = Path(__file__).resolve().parent.parent
SPEC_FILE = REPO / "src" / "deeploy_tiler" / "hw" / "specs" / "siracusa.yaml"
DEFAULT_MODELS = [
    "miniMobileNet",
    "miniMobileNetv2",
    "CNN_Linear1",
    "MLPerf/KeywordSpotting",
    "microLlama/INT8/microLlama1",
    "microLlama/INT8/microLlama8",
    "microLlama/INT8/microLlama64",
]
GVSOC_PIN = "gvsoc/gvsoc@edfcd8398840ceb1e151711befa06678b05f06a0 (pulp-platform/Deeploy's pin)"
PROFILE = ("-DDT_SIR_PROFILE=1",)  # core 0's PULP counters printed at the end (read once: no timing cost)
_PCCR = re.compile(r"^DT_PCCR (\d+) (\d+)$", re.M)
_WORKER = re.compile(r"^DT_WORKER (\d+) cycles \d+ instr (\d+)", re.M)


def _testdata() -> Path:
    env = os.environ.get("DEEPLOY_TILER_TESTDATA")
    return Path(env) if env else REPO.parent / "shared" / "data" / "deeploy-tests"


@dataclass
class Point:
    """One model x budget x spec run."""

    model: str
    l1: int
    spec: str
    modeled: int
    placement_ok: bool
    passed: bool | None = None
    measured: int = 0
    instr_core0: int = 0
    instr_all: int = 0
    sim_seconds: float = 0.0
    nodes: list[dict[str, Any]] = field(default_factory=list)
    fit_samples: list[NodeSample] = field(default_factory=list)
    fit_modeled: list[int] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        return self.measured / self.modeled if self.modeled else 0.0


def shared_model(name: str) -> tuple[Graph, dict[str, Any], dict[str, Any]]:
    folder = _testdata() / "Models" / name
    graph = api.load_model(folder / "network.onnx")
    return graph, api.load_inputs(graph, folder / "inputs.npz"), api.load_outputs(graph, folder / "outputs.npz")


def measure(
    name: str,
    graph: Graph,
    inputs: dict[str, Any],
    expected: dict[str, Any],
    hw: HwSpec,
    spec_label: str,
    l1: int,
    root: Path,
    install: Path | None,
) -> Point:
    """Plan, emit, build (and with GVSoC run) one point."""
    plan = api.plan(graph, hw, l1=l1, double_buffer=True)
    out = root / f"{name.replace('/', '_')}_{l1}_{spec_label.replace('@', '_')}"
    project = emit_project(plan, graph, hw, out, inputs=inputs, expected=expected)
    built = build(project, "siracusa", extra_cflags=PROFILE)
    pl = siracusa.check_placement(
        built.elf, plan, project.arena_bytes, project.const_symbols, _binutil("siracusa", "readelf")
    )
    point = Point(name, l1, spec_label, plan.total_cycles, pl.ok)
    if install is None:
        return point
    t0 = time.perf_counter()
    res = run(project, built, timeout=7200.0)
    point.sim_seconds = time.perf_counter() - t0
    rows = siracusa.node_cycles(
        plan,
        res.node_instructions,
        {n.name: n.num_calls for n in project.nodes},
        {n.name: n.macs for n in project.nodes},
    )
    point.passed = res.passed
    point.measured = sum(r.measured for r in rows)
    pccr = {int(k): int(v) for k, v in _PCCR.findall(res.stdout)}
    point.instr_core0 = pccr.get(1, 0)
    point.instr_all = point.instr_core0 + sum(int(v) for _, v in _WORKER.findall(res.stdout))
    point.nodes = [{"name": r.name, "op": r.op_type, "measured": r.measured, "modeled": r.modeled} for r in rows]
    if res.passed:
        got = samples(name, plan, hw, rows)
        names = {s.name for s in got}
        point.fit_samples = got
        point.fit_modeled = [r.modeled for r in rows if r.name in names]
    return point


HEADER = (
    f"{'model':30s} {'L1':>6s} {'spec':>14s} {'exact':>5s} {'measured':>11s} {'modeled':>10s} {'ratio':>6s} "
    f"{'instr c0':>11s} {'instr 8c':>11s} {'sim s':>6s}"
)


def show(p: Point) -> str:
    if p.passed is None:
        head = f"{p.model:30s} {p.l1:6d} {p.spec:>14s} {'-':>5s} {'(built)':>11s}"
        return f"{head} {p.modeled:10,d} placement ok={p.placement_ok}"
    exact = "yes" if p.passed else "NO"
    return (
        f"{p.model:30s} {p.l1:6d} {p.spec:>14s} {exact:>5s} {p.measured:11,d} {p.modeled:10,d} {p.ratio:6.2f} "
        f"{p.instr_core0:11,d} {p.instr_all:11,d} {p.sim_seconds:6.0f}"
    )


def ratios(points: list[Point]) -> dict[str, float]:
    """measured / modeled per model x budget (the key names both)."""
    return {f"{p.model.split('/')[-1]}@{p.l1}": round(p.ratio, 4) for p in points if p.passed}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--budgets", default="64000,8000")
    ap.add_argument("--per-node", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", type=Path, help="keep the projects under this folder")
    ap.add_argument("--record", metavar="NAME", help="write the fit into siracusa.yaml as calibration NAME")
    args = ap.parse_args()
    hw = load_hw("siracusa")
    install = siracusa.gvsoc_install()
    print(f"GVSoC: {install or f'not installed (${siracusa.GVSOC_ENV} unset): build and placement checks only'}")
    root = args.keep or Path(tempfile.mkdtemp(prefix="dt-gvsoc-"))
    budgets = [int(b) for b in args.budgets.split(",")]
    models = {name: shared_model(name) for name in args.models.split(",")}
    print(HEADER)
    points: list[Point] = []
    for name, (graph, inputs, expected) in models.items():
        for l1 in budgets:
            p = measure(name, graph, inputs, expected, hw, "siracusa", l1, root, install)
            print(show(p), flush=True)
            if args.per_node:
                for r in p.nodes:
                    ratio = r["measured"] / r["modeled"] if r["modeled"] else 0.0
                    print(
                        f"    {r['name'][:40]:40s} {r['op']:14s} {r['measured']:10,d} {r['modeled']:10,d} {ratio:6.2f}"
                    )
            points.append(p)
    result: dict[str, Any] = {
        "runs": [{k: v for k, v in p.__dict__.items() if not k.startswith("fit_")} for p in points]
    }
    fit_data = [s for p in points for s in p.fit_samples]
    fit_modeled = [m for p in points for m in p.fit_modeled]
    if len(fit_data) >= len(FEATURES):
        names = sorted({s.model for s in fit_data})
        prov = (
            f"NNLS fit on {len(fit_data)} nodes measured bit-exactly on GVSoC ({GVSOC_PIN}, target siracusa, "
            f"cluster core 0 mcycle per node), models {names}, L1 budgets {args.budgets}, double buffering, "
            f"8 cores, XpulpV2 SIMD kernels"
        )
        for node_term in (True, False):
            cal = fit(fit_data, fit_modeled, hw, prov, node_term=node_term)
            label = "with a per-node overhead term" if node_term else "spec fields only (what the spec records)"
            print(f"\ncalibration of the siracusa spec on the measurements, {label}:")
            print(f"  overhead per node (cycles) {cal.node_overhead_cycles:.0f}")
            print(f"  effective int8 MAC/cycle   {cal.effective_macs_per_cycle}")
            print(f"  elementwise ops/cycle      {cal.elementwise_ops_per_cycle}")
            print(f"  call overhead (cycles)     {cal.call_overhead_cycles:.0f}")
            print(f"  DMA bandwidth (B/cycle)    {cal.dma_bandwidth_bytes_per_cycle}")
            print(f"  DMA setup (cycles)         {cal.dma_setup_cycles:.0f}")
            print(
                f"  median |error| per node: {cal.relative_error_before:.1%} (spec) -> "
                f"{cal.relative_error_after:.1%} (fit)"
            )
            print(f"  overrides: {cal.overrides(hw)}")
            result["calibration" if node_term else "calibration_spec_fields"] = {
                **cal.__dict__,
                "overrides": cal.overrides(hw),
            }
        print(f"  provenance: {cal.provenance}")
        if args.record:
            calibrated = hw.with_overrides(cal.overrides(hw))
            print(f"\nthe same points planned with the fitted figures ({args.record}):")
            print(HEADER)
            after: list[Point] = []
            for name, (graph, inputs, expected) in models.items():
                for l1 in budgets:
                    p = measure(name, graph, inputs, expected, calibrated, f"siracusa@{args.record}", l1, root, install)
                    print(show(p), flush=True)
                    after.append(p)
            result["runs_after"] = [{k: v for k, v in p.__dict__.items() if not k.startswith("fit_")} for p in after]
            record = cal.record(hw, args.record, ratios(points), ratios(after))
            others = tuple(c for c in hw.calibrations if c.name != args.record)
            SPEC_FILE.write_text(replace_calibrations(SPEC_FILE.read_text(), (*others, record)))
            reloaded = load_hw(f"siracusa@{args.record}").model_dump(exclude={"calibrations"})
            assert reloaded == calibrated.model_dump(exclude={"calibrations"}), "the record differs from the fit"
            print(f"recorded as calibration {args.record!r} in {SPEC_FILE}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
