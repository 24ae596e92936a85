"""Calibrate the rv32_mcu compute figures against retired instructions measured under QEMU.

    python benchmarks/bench_calibrate.py [--models ...] [--l1 30720] [--short] [--json out.json]

For every shared model that fits the spec: plan it on `rv32_mcu`, emit it, build it for rv32imc, run it
under QEMU (`-icount shift=0`: the count is exact and deterministic) and read each node's retired
instructions (`DT_NODE` lines). A single-issue RV32IMC core without caches retires about one
instruction per cycle, so the instruction count stands for the compute cycles (an assumption, said so
in the spec). Per node the features are its MACs by kernel family (GEMM / MatMul, convolution,
depthwise convolution), its non-MAC elementwise operations (the planner's count, `ops.policy`), its
kernel calls (tiles) and the DMA work the functional runtime does with the core on QEMU (bytes and
row transfers: a real MCU's DMA does it in hardware, so these two are fitted as nuisance terms and
not put into the spec). A non-negative least-squares fit, each node weighted by 1 / its count (the
fit minimises relative errors), gives

* the spec's figures (one MAC rate, one elementwise rate, the call overhead; the schema has one MAC
  rate per dtype), and beside them the MAC rate per kernel family (what a per-family field would hold);
* the modeled / measured ratio per node and in total, before (the spec as it is) and after the fit.

The runs use the spec with a larger L2 (`--l2-bytes`, 4 MiB by default) so that the decoders plan;
the compute figures do not depend on the L2 size.
Goal: nodes of >= 10,000 instructions within 15 %, model totals within 5 %.
Data: ``$DEEPLOY_TILER_TESTDATA``, else ``../shared/data/deeploy-tests``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import numpy as np  # noqa: E402
from scipy.optimize import nnls  # noqa: E402

from deeploy_tiler import api  # noqa: E402
from deeploy_tiler.emitter import build, emit_project, run  # noqa: E402
from deeploy_tiler.errors import DeeployTilerError  # noqa: E402
from deeploy_tiler.hw import HwSpec, load_hw  # noqa: E402
from deeploy_tiler.ir import Graph, Node  # noqa: E402
from deeploy_tiler.ops import cluster_policy, node_geometry  # noqa: E402
from deeploy_tiler.plan import Plan  # noqa: E402

MODELS = (
    "miniMobileNet",
    "miniMobileNetv2",
    "CNN_Linear1",
    "MLPerf/KeywordSpotting",
    "CCT/Int/ICCT",
    "microLlama/INT8/microLlama1",
    "microLlama/INT8/microLlama8",
)
SHORT_MODELS = ("miniMobileNet", "CNN_Linear1", "microLlama/INT8/microLlama1")
FAMILIES = ("gemm", "conv", "depthwise")
FEATURES = (*FAMILIES, "elementwise", "calls", "dma_bytes", "dma_rows")
BIG_NODE = 10_000


def _testdata() -> Path:
    env = os.environ.get("DEEPLOY_TILER_TESTDATA")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "deeploy-tests"


def family(node: Node, graph: Graph) -> str | None:
    if node.op_type in ("Gemm", "MatMul"):
        return "gemm"
    if node.op_type == "Conv":
        w = graph.tensor(node.inputs[1])
        return "depthwise" if w.shape[1] == 1 and int(node.attr("group", 1)) > 1 else "conv"
    return None


@dataclass(frozen=True)
class NodeSample:
    model: str
    node: str
    op: str
    features: dict[str, float]
    modeled_before: int  # the plan's compute cycles with the spec as loaded
    measured: int


def samples(model: str, hw: HwSpec, l1: int | None, work: Path) -> list[NodeSample]:
    folder = _testdata() / "Models" / model
    graph = api.load_model(folder)
    inputs = api.load_inputs(graph, folder / "inputs.npz")
    expected = dict(zip(graph.output_names, api.reference_run(graph, inputs).values(), strict=True))
    plan: Plan = api.plan(graph, hw, l1=l1)
    project = emit_project(plan, graph, hw, work / model.replace("/", "_"), inputs=inputs, expected=expected)
    result = run(project, build(project, "rv32"))
    if not result.passed:
        raise RuntimeError(f"{model}: rv32 run does not match the reference")
    measured = dict(result.node_instructions)
    out = []
    engine = hw.cluster_engine
    for np_ in plan.nodes:
        if np_.alias_of is not None or np_.name not in measured:
            continue
        node = graph.node(np_.name)
        policy = cluster_policy(node, graph, node_geometry(node, graph), engine)
        f = dict.fromkeys(FEATURES, 0.0)
        fam = family(node, graph)
        if fam is not None:
            f[fam] = float(policy.macs)
        f["elementwise"] = float(policy.elementwise_ops)
        if fam is None:
            f[f"ew:{node.op_type}"] = float(policy.elementwise_ops)
        f["calls"] = float(np_.num_tiles)
        f["dma_bytes"] = float(np_.dma_bytes)
        f["dma_rows"] = float(sum(t.rows for t in np_.transfers))
        out.append(NodeSample(model, np_.name, node.op_type, f, np_.cycles.compute, measured[np_.name]))
    return out


def fit(rows: list[NodeSample], features: tuple[str, ...]) -> dict[str, float]:
    """Non-negative per-feature costs (instructions per unit), relative least squares."""
    a = np.array([[r.features[k] for k in features] for r in rows], dtype=float)
    y = np.array([r.measured for r in rows], dtype=float)
    w = 1.0 / np.maximum(y, 1.0)
    coef, _ = nnls(a * w[:, None], y * w)
    return dict(zip(features, (float(c) for c in coef), strict=True))


def predict(r: NodeSample, cost: dict[str, float]) -> float:
    return sum(cost.get(k, 0.0) * v for k, v in r.features.items())


def _fmt_ratio(x: float) -> str:
    return f"{x:.2f}"


def report(rows: list[NodeSample], spec_cost: dict[str, float], family_cost: dict[str, float]) -> dict[str, Any]:
    big = [r for r in rows if r.measured >= BIG_NODE]
    out: dict[str, Any] = {}
    for label, model_of in (
        (
            "before (spec as loaded + DMA copy terms)",
            lambda r: r.modeled_before + sum(spec_cost[k] * r.features[k] for k in ("dma_bytes", "dma_rows")),
        ),
        ("after (fitted spec figures + DMA copy terms)", lambda r: predict(r, spec_cost)),
        ("after (per-family MAC and per-op elementwise rates + DMA copy terms)", lambda r: predict(r, family_cost)),
    ):
        errs = [abs(model_of(r) / r.measured - 1) for r in big]
        within = sum(e <= 0.15 for e in errs)
        totals = {}
        for m in sorted({r.model for r in rows}):
            mine = [r for r in rows if r.model == m]
            totals[m] = sum(model_of(r) for r in mine) / sum(r.measured for r in mine)
        out[label] = {"big_nodes": len(big), "within_15pct": within, "totals": totals, "median_err": np.median(errs)}
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--hw", default="rv32_mcu")
    ap.add_argument("--models", nargs="*", default=None)
    ap.add_argument("--l1", type=int, default=None, help="L1 budget (default: the spec's)")
    ap.add_argument("--short", action="store_true", help="the CI form: two small models")
    ap.add_argument(
        "--l2-bytes",
        type=int,
        default=4 << 20,
        help="L2 size for the runs (compute figures do not depend on it; 256 KiB holds no decoder)",
    )
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    hw = load_hw(args.hw).with_overrides({"memories.L2.size_bytes": args.l2_bytes})
    models = args.models or (SHORT_MODELS if args.short else MODELS)
    rows: list[NodeSample] = []
    with tempfile.TemporaryDirectory(prefix="dt_calibrate_") as tmp:
        for m in models:
            try:
                rows += samples(m, hw, args.l1, Path(tmp))
            except DeeployTilerError as e:
                print(f"{m}: skipped ({type(e).__name__}: {str(e).splitlines()[0][:120]})")
    if len(rows) < 8:
        print(f"only {len(rows)} nodes measured: too few to fit")
        return 1
    spec_features = ("macs", "elementwise", "calls", "dma_bytes", "dma_rows")
    merged = [
        NodeSample(
            r.model,
            r.node,
            r.op,
            {**r.features, "macs": sum(r.features[k] for k in FAMILIES)},
            r.modeled_before,
            r.measured,
        )
        for r in rows
    ]
    spec_cost = fit(merged, spec_features)
    per_op = tuple(sorted({k for r in rows for k in r.features if k.startswith("ew:")}))
    for r in rows:
        for k in per_op:
            r.features.setdefault(k, 0.0)
    family_features = (*FAMILIES, *per_op, "calls", "dma_bytes", "dma_rows")
    family_cost = fit(rows, family_features)
    eng = hw.cluster_engine
    print(f"## rv32 calibration of `{hw.name}`: {len(rows)} nodes of {len(models)} models\n")
    print("| figure | in the spec | fitted (instructions = cycles) |")
    print("|---|---:|---:|")
    mac_rate = 1 / spec_cost["macs"] if spec_cost["macs"] else float("inf")
    ew_rate = 1 / spec_cost["elementwise"] if spec_cost["elementwise"] else float("inf")
    print(f"| effective_macs_per_cycle.int8 | {eng.macs_per_cycle('int8')} | {mac_rate:.3f} |")
    for fam in FAMILIES:
        c = family_cost[fam]
        print(f"| MACs per cycle, {fam} (per-family fit) | - | {1 / c if c else float('inf'):.3f} |")
    print(f"| elementwise_ops_per_cycle | {eng.elementwise_ops_per_cycle} | {ew_rate:.3f} |")
    for k in per_op:
        c = family_cost[k]
        print(f"| elementwise ops per cycle, {k[3:]} (per-op fit) | - | {1 / c if c else float('inf'):.3f} |")
    print(f"| call_overhead_cycles | {eng.call_overhead_cycles} | {spec_cost['calls']:.0f} |")
    print(f"| (QEMU DMA copy) instructions per byte | - | {spec_cost['dma_bytes']:.3f} |")
    print(f"| (QEMU DMA copy) instructions per row | - | {spec_cost['dma_rows']:.1f} |")
    summary = report(merged, spec_cost, {**family_cost, "macs": 0.0, "elementwise": 0.0})
    print("\n| model | nodes >= 10k instr within 15 % | median error | total modeled / measured per model |")
    print("|---|---:|---:|---|")
    for label, s in summary.items():
        totals = ", ".join(f"{m.split('/')[-1]} {v:.2f}" for m, v in s["totals"].items())
        print(f"| {label} | {s['within_15pct']} / {s['big_nodes']} | {s['median_err']:.1%} | {totals} |")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "spec_fit": spec_cost,
                    "family_fit": family_cost,
                    "summary": summary,
                    "nodes": [r.__dict__ for r in rows],
                },
                indent=1,
                default=float,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
