"""Benchmark of the C emitter: per model and L1 budget, emit and build times, retired RV32 instructions
(QEMU, -icount shift=0: exact and deterministic) in total, per node and per MAC, code and data sizes.

    python benchmarks/bench_emit.py                       # default models, budgets fits / tiles / min
    python benchmarks/bench_emit.py --models miniMobileNet,CNN_Linear1 --budgets 64000,8000 --json out.json
    python benchmarks/bench_emit.py --per-node            # also the per-node instruction table

Models are read from $DEEPLOY_TILER_TESTDATA (default ../shared/data/deeploy-tests). Budgets: a byte
count, `fits` (the whole usable L1), `tiles` (4000 B: several tiles per node) or `min` (the smallest
feasible budget). Plans come from the real planner.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from deeploy_tiler.emitter import build, emit_project, run
from deeploy_tiler.errors import InfeasibleBudget
from deeploy_tiler.frontend import load_onnx
from deeploy_tiler.hw import HwSpec, load_hw
from deeploy_tiler.ir import DType, Graph
from deeploy_tiler.planner.graph import plan_graph

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


def _testdata() -> Path:
    env = os.environ.get("DEEPLOY_TILER_TESTDATA")
    return Path(env) if env else REPO.parent / "shared" / "data" / "deeploy-tests"


def _load(folder: Path) -> tuple[Graph, dict[str, Any], list[Any]]:
    probe = load_onnx(folder / "network.onnx", fuse=False)
    with np.load(folder / "inputs.npz") as npz:
        arrays = [npz[k] for k in npz.files]
    inputs = dict(zip(probe.input_names, arrays, strict=True))
    dtypes = {k: DType.smallest_holding(int(a.min()), int(a.max())) for k, a in inputs.items()}
    graph = load_onnx(folder / "network.onnx", input_dtypes=dtypes)
    with np.load(folder / "outputs.npz") as npz:
        outputs = [npz[k] for k in npz.files]
    return graph, inputs, outputs


def _budget(kind: str, graph: Graph, hw: HwSpec, db: bool) -> int:
    if kind == "fits":
        return hw.memories[0].usable_bytes
    if kind == "tiles":  # the smallest of these that is feasible: several tiles per node, not the minimum
        for budget in (4000, 8000, 16000, 32000):
            try:
                plan_graph(graph, hw, l1=budget, double_buffer=db)
                return budget
            except InfeasibleBudget:
                continue
        return 64000
    if kind == "min":
        try:
            plan_graph(graph, hw, l1=64, double_buffer=db)
            return 64
        except InfeasibleBudget as e:
            return e.required_bytes
    return int(kind)


def bench_one(model: str, kind: str, hw: HwSpec, db: bool, rv32: bool, work: Path) -> dict[str, Any]:
    graph, inputs, expected = _load(_testdata() / "Models" / model)
    l1 = _budget(kind, graph, hw, db)
    t0 = time.perf_counter()
    plan = plan_graph(graph, hw, l1=l1, double_buffer=db)
    t_plan = time.perf_counter() - t0
    t0 = time.perf_counter()
    project = emit_project(
        plan, graph, hw, work / f"{model.replace('/', '_')}_{kind}_{int(db)}", inputs=inputs, expected=expected
    )
    t_emit = time.perf_counter() - t0
    row: dict[str, Any] = {
        "model": model,
        "budget": kind,
        "l1": l1,
        "double_buffer": db,
        "tiles": plan.num_tiles,
        "macs": graph.total_macs,
        "plan_s": round(t_plan, 2),
        "emit_s": round(t_emit, 2),
    }
    host = build(project, "host")
    host_run = run(project, host)
    row.update(host_build_s=round(host.seconds, 2), host_pass=host_run.passed)
    if rv32:
        built = build(project, "rv32")
        res = run(project, built)
        macs = max(graph.total_macs, 1)
        row.update(
            rv32_build_s=round(built.seconds, 2),
            rv32_pass=res.passed,
            instructions=res.total_instructions,
            instr_per_mac=round(res.total_instructions / macs, 2),
            code_bytes=built.network_code_bytes,
            all_code_bytes=built.code_bytes,
            table_bytes=built.table_bytes,
            const_bytes=built.const_bytes,
            bss_bytes=built.bss_bytes,
            memory={
                m.level: {"arena": m.arena_bytes, "const": m.const_bytes, "budget": m.budget} for m in built.memory
            },
            per_node=[
                {"node": n, "op": graph.node(n).op_type, "macs": graph.node(n).macs, "instructions": i}
                for n, i in res.node_instructions
            ],
            dma_transfers=res.dma_transfers,
            dma_bytes=res.dma_bytes,
        )
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default=",".join(DEFAULT_MODELS))
    ap.add_argument("--budgets", default="fits,tiles,min")
    ap.add_argument("--hw", default="siracusa")
    ap.add_argument("--single-buffer", action="store_true", help="plan without double buffering")
    ap.add_argument("--no-rv32", action="store_true", help="host only (no instruction counts)")
    ap.add_argument("--per-node", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    hw = load_hw(args.hw)
    rows = []
    with tempfile.TemporaryDirectory(prefix="dt_bench_emit_") as tmp:
        for model in args.models.split(","):
            for kind in args.budgets.split(","):
                try:
                    row = bench_one(model, kind, hw, not args.single_buffer, not args.no_rv32, Path(tmp))
                except InfeasibleBudget as e:
                    print(f"{model:28s} {kind:>6s} INFEASIBLE: needs {e.required_bytes} B of {e.level}", flush=True)
                    continue
                rows.append(row)
                print(
                    f"{model:28s} {kind:>6s} l1={row['l1']:>6d} tiles={row['tiles']:>6d} plan={row['plan_s']:6.2f}s "
                    f"emit={row['emit_s']:5.2f}s host_build={row['host_build_s']:5.2f}s "
                    + (
                        f"rv32_build={row['rv32_build_s']:5.2f}s {'PASS' if row['rv32_pass'] else 'FAIL'} "
                        f"instr={row['instructions']:>10d} instr/MAC={row['instr_per_mac']:6.2f} "
                        f"code={row['code_bytes']} tables={row['table_bytes']} consts={row['const_bytes']} "
                        f"arenas={row['bss_bytes']}"
                        if "instructions" in row
                        else f"host {'PASS' if row['host_pass'] else 'FAIL'}"
                    ),
                    flush=True,
                )
                if args.per_node and "per_node" in row:
                    for n in row["per_node"]:
                        print(
                            f"    {n['node'][:60]:60s} {n['op']:16s} macs={n['macs']:>8d} instr={n['instructions']:>9d}"
                        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    return 0 if all(r.get("rv32_pass", r["host_pass"]) for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
