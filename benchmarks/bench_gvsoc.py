"""Benchmark of the siracusa target on GVSoC: per model and L1 budget (double buffering on), the siracusa
ELF is built, its placement checked against the plan, and, when a GVSoC install is named by
$DEEPLOY_TILER_GVSOC, run: bit-exactness, total and per-node cycles measured (cluster core 0's mcycle)
against the plan's modeled cycles, and at the end a calibration of the spec's figures on all measured
nodes (emitter/calibrate.py) with its provenance.

    DEEPLOY_TILER_GVSOC=/opt/gvsoc python benchmarks/bench_gvsoc.py
    python benchmarks/bench_gvsoc.py --models miniMobileNet --budgets 64000 --per-node --json out.json

Without GVSoC it builds and checks only, and says so. Models come from $DEEPLOY_TILER_TESTDATA (default
../shared/data/deeploy-tests).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from deeploy_tiler import api
from deeploy_tiler.emitter import build, emit_project, run, siracusa
from deeploy_tiler.emitter.build import _binutil
from deeploy_tiler.emitter.calibrate import NodeSample, fit, samples
from deeploy_tiler.hw import load_hw

REPO = Path(__file__).resolve().parent.parent
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


def _testdata() -> Path:
    env = os.environ.get("DEEPLOY_TILER_TESTDATA")
    return Path(env) if env else REPO.parent / "shared" / "data" / "deeploy-tests"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--budgets", default="64000,8000")
    ap.add_argument("--per-node", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--keep", type=Path, help="keep the projects under this folder")
    args = ap.parse_args()
    hw = load_hw("siracusa")
    install = siracusa.gvsoc_install()
    print(f"GVSoC: {install or f'not installed (${siracusa.GVSOC_ENV} unset): build and placement checks only'}")
    root = args.keep or Path(tempfile.mkdtemp(prefix="dt-gvsoc-"))
    records: list[dict[str, Any]] = []
    fit_data: list[NodeSample] = []
    fit_modeled: list[int] = []
    header = f"{'model':30s} {'L1':>6s} {'exact':>5s} {'measured':>11s} {'modeled':>10s} {'ratio':>6s} {'sim s':>6s}"
    print(header)
    for name in args.models.split(","):
        folder = _testdata() / "Models" / name
        graph = api.load_model(folder / "network.onnx")
        inputs = api.load_inputs(graph, folder / "inputs.npz")
        expected = api.load_outputs(graph, folder / "outputs.npz")
        for l1 in (int(b) for b in args.budgets.split(",")):
            plan = api.plan(graph, hw, l1=l1, double_buffer=True)
            out = root / f"{name.replace('/', '_')}_{l1}"
            project = emit_project(plan, graph, hw, out, inputs=inputs, expected=expected)
            built = build(project, "siracusa")
            pl = siracusa.check_placement(
                built.elf, plan, project.arena_bytes, project.const_symbols, _binutil("siracusa", "readelf")
            )
            rec: dict[str, Any] = {
                "model": name,
                "l1": l1,
                "placement_ok": pl.ok,
                "problems": list(pl.problems),
                "l1_arena": pl.l1_arena,
                "text_bytes": built.text_bytes,
                "modeled": plan.total_cycles,
            }
            if install is None:
                print(f"{name:30s} {l1:6d} {'-':>5s} {'(built)':>11s} {plan.total_cycles:10,d} placement ok={pl.ok}")
                records.append(rec)
                continue
            t0 = time.perf_counter()
            res = run(project, built, timeout=7200.0)
            secs = time.perf_counter() - t0
            rows = siracusa.node_cycles(
                plan,
                res.node_instructions,
                {n.name: n.num_calls for n in project.nodes},
                {n.name: n.macs for n in project.nodes},
            )
            measured = sum(r.measured for r in rows)
            ratio = measured / plan.total_cycles if plan.total_cycles else 0.0
            exact = "yes" if res.passed else "NO"
            print(f"{name:30s} {l1:6d} {exact:>5s} {measured:11,d} {plan.total_cycles:10,d} {ratio:6.2f} {secs:6.0f}")
            rec.update(passed=res.passed, measured=measured, dma_transfers=res.dma_transfers, sim_seconds=secs)
            rec["nodes"] = [
                {"name": r.name, "op": r.op_type, "measured": r.measured, "modeled": r.modeled} for r in rows
            ]
            if args.per_node:
                for r in rows:
                    print(f"    {r.name[:40]:40s} {r.op_type:14s} {r.measured:10,d} {r.modeled:10,d} {r.ratio:6.2f}")
            if res.passed:
                got = samples(name, plan, hw, rows)
                fit_data.extend(got)
                names = {s.name for s in got}
                fit_modeled.extend(r.modeled for r in rows if r.name in names)
            records.append(rec)
    result: dict[str, Any] = {"runs": records}
    if fit_data:
        models = sorted({s.model for s in fit_data})
        prov = (
            f"NNLS fit on {len(fit_data)} nodes measured bit-exactly on GVSoC ({GVSOC_PIN}, target siracusa, "
            f"cluster core 0 mcycle per node), models {models}, L1 budgets {args.budgets}, double buffering, "
            f"8 cores, XpulpV2 SIMD kernels"
        )
        cal = fit(fit_data, fit_modeled, hw, prov)
        print("\ncalibration of the siracusa spec on the measurements:")
        print(f"  overhead per node (cycles) {cal.node_overhead_cycles:.0f}")
        print(f"  effective int8 MAC/cycle   {cal.effective_macs_per_cycle}")
        print(f"  elementwise ops/cycle      {cal.elementwise_ops_per_cycle}")
        print(f"  call overhead (cycles)     {cal.call_overhead_cycles:.0f}")
        print(f"  DMA bandwidth (B/cycle)    {cal.dma_bandwidth_bytes_per_cycle}")
        print(f"  DMA setup (cycles)         {cal.dma_setup_cycles:.0f}")
        print(
            f"  median |error| per node: {cal.relative_error_before:.1%} (spec) -> {cal.relative_error_after:.1%} (fit)"
        )
        print(f"  overrides: {cal.overrides(hw)}")
        print(f"  provenance: {cal.provenance}")
        result["calibration"] = {**cal.__dict__, "overrides": cal.overrides(hw)}
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))


if __name__ == "__main__":
    main()
