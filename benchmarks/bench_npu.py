"""Benchmark the engine choice (cluster vs N-EUREKA) on the shared models and against the published
Deeploy tutorial figures.

    PYTHONPATH=src python benchmarks/bench_npu.py [--l1 64000] [--models ...]

Table 1, per shared model on siracusa_neureka: modeled cycles cluster-only (`engine="cluster"`) and
heterogeneous (engine chosen per node, weights in WMEM where it pays), the speedup, planning wall time of
both, nodes per engine, bytes placed in WMEM.

Table 2, the small language model: microLlama64 (autoregressive, one token with a KV cache of 64) and a
stand-in for microLlama64_parallel (64 tokens at once; not among the shared files, so one decoder layer
of the same dimensions built by `build_tiny_decoder(tokens=64, d_model=64, heads=16, ffn=256)`; the 8
layers of the real model scale both sides alike). Modeled cycles cluster-only, with the NPU but weights
streamed from L2 (`EngineOptions(weight_memory=False)`), and with the weight memory; the ratios next to
the published ones (docs/hardware.md: 857 k cycles / token with NPU, 780 k with the weight memory,
autoregressive NPU speedup 1.04x, so about 891 k cluster-only; parallel 35.3 M -> 28.6 M, 1.23x), and the
share of the cluster-only cycles spent in the nodes the NPU takes over, modeled vs the least share the
published speedup implies (1 - 1 / speedup, reached if the NPU took no time at all).

Table 3, the same ratios with the cluster's elementwise throughput ([A:cluster_elementwise], 8 ops/cycle
in the spec) lowered: how fast the non-MAC kernels are decides the share the NPU can take over.
Data: ``$DEEPLOY_TILER_TESTDATA``, else ``../shared/data/deeploy-tests``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deeploy_tiler.api import load_model  # noqa: E402
from deeploy_tiler.frontend import import_onnx  # noqa: E402
from deeploy_tiler.hw import HwSpec, load_hw  # noqa: E402
from deeploy_tiler.ir import Graph  # noqa: E402
from deeploy_tiler.models import build_tiny_decoder  # noqa: E402
from deeploy_tiler.plan import Plan  # noqa: E402
from deeploy_tiler.planner.graph import plan_graph_timed  # noqa: E402
from deeploy_tiler.solver import EngineOptions  # noqa: E402

MODELS = (
    "miniMobileNet",
    "miniMobileNetv2",
    "CNN_Linear1",
    "MLPerf/KeywordSpotting",
    "CCT/Int/ICCT",
    "microLlama/INT8/microLlama1",
    "microLlama/INT8/microLlama8",
    "microLlama/INT8/microLlama64",
)
# Published (docs/hardware.md, Deeploy tutorial, GVSoC cycle counts).
AR_NPU, AR_WMEM, AR_SPEEDUP = 857_000, 780_000, 1.04
PAR_CLUSTER, PAR_NPU = 35_300_000, 28_600_000


def _wmem(plan: Plan, graph: Graph) -> int:
    from deeploy_tiler.memory.network import in_place_weights

    return sum(size for _, size in in_place_weights(plan, graph, load_hw(plan.hw)).values())


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def model_table(graphs: dict[str, Graph], hw: HwSpec, l1: int) -> None:
    head = [
        "model",
        "nodes",
        "cluster-only cycles",
        "heterogeneous cycles",
        "speedup",
        "plan s (cluster)",
        "plan s (hetero)",
        "nodes cluster / NPU",
        "NPU weights in WMEM B",
    ]
    print(_row(head))
    print("|" + "---|" * len(head))
    for name, graph in graphs.items():
        cl, t_cl = plan_graph_timed(graph, hw, l1=l1, engine="cluster")
        het, t_het = plan_graph_timed(graph, hw, l1=l1)
        engines = Counter(n.engine for n in het.nodes if n.alias_of is None)
        print(
            _row(
                [
                    name,
                    str(len(graph.nodes)),
                    f"{cl.total_cycles:,}",
                    f"{het.total_cycles:,}",
                    f"{cl.total_cycles / het.total_cycles:.2f}x",
                    f"{t_cl.total_s:.2f}",
                    f"{t_het.total_s:.2f}",
                    f"{engines['cluster']} / {engines[hw.npu_engine.name if hw.npu_engine else '']}",
                    f"{_wmem(het, graph):,}",
                ]
            )
        )


def _three(graph: Graph, hw: HwSpec, l1: int) -> tuple[Plan, Plan, Plan]:
    cluster = plan_graph_timed(graph, hw, l1=l1, engine="cluster")[0]
    no_wmem = plan_graph_timed(graph, hw, l1=l1, engine_options=EngineOptions(weight_memory=False))[0]
    wmem = plan_graph_timed(graph, hw, l1=l1)[0]
    return cluster, no_wmem, wmem


def _npu_share(cluster: Plan, chosen: Plan) -> float:
    """Share of the cluster-only cycles spent in the nodes the heterogeneous plan puts on the NPU."""
    moved = {n.name for n in chosen.nodes if n.engine != "cluster" and n.alias_of is None}
    return sum(n.cycles.total for n in cluster.nodes if n.name in moved) / cluster.total_cycles


def _err(model: float, published: float) -> str:
    return f"{100 * (model / published - 1):+.0f} %"


def llm_table(ar: Graph, par: Graph, hw: HwSpec, l1: int) -> None:
    head = ["case", "cluster-only", "NPU, weights via L2", "NPU + WMEM", "ratio", "modeled", "published", "difference"]
    print(_row(head))
    print("|" + "---|" * len(head))
    c, n, w = _three(ar, hw, l1)
    ar_cluster = AR_NPU * AR_SPEEDUP
    cycles = [f"{c.total_cycles:,}", f"{n.total_cycles:,}", f"{w.total_cycles:,}"]
    rows = [
        ("NPU speedup (cluster / NPU via L2)", c.total_cycles / n.total_cycles, AR_SPEEDUP),
        ("weight memory (NPU via L2 / NPU + WMEM)", n.total_cycles / w.total_cycles, AR_NPU / AR_WMEM),
        ("both (cluster / NPU + WMEM)", c.total_cycles / w.total_cycles, ar_cluster / AR_WMEM),
    ]
    for i, (label, model, pub) in enumerate(rows):
        lead = ["microLlama64, 1 token", *cycles] if i == 0 else ["", "", "", ""]
        print(_row([*lead, label, f"{model:.3f}", f"{pub:.3f}", _err(model, pub)]))
    cp, np_, wp = _three(par, hw, l1)
    model = cp.total_cycles / np_.total_cycles
    print(
        _row(
            [
                "microLlama64_parallel stand-in, 1 layer",
                f"{cp.total_cycles:,}",
                f"{np_.total_cycles:,}",
                f"{wp.total_cycles:,}",
                "NPU speedup (cluster / NPU)",
                f"{model:.3f}",
                f"{PAR_CLUSTER / PAR_NPU:.3f}",
                _err(model, PAR_CLUSTER / PAR_NPU),
            ]
        )
    )
    print()
    print(
        "Share of the cluster-only cycles in the nodes the NPU takes over (modeled) vs the least share the "
        "published speedup implies (1 - 1/speedup):"
    )
    print()
    print(
        _row(
            [
                "case",
                "modeled share",
                "published, at least",
                "published cluster-only cycles",
                "modeled cluster-only cycles",
            ]
        )
    )
    print("|---|---|---|---|---|")
    print(
        _row(
            [
                "microLlama64, 1 token",
                f"{_npu_share(c, n):.1%}",
                f"{1 - 1 / AR_SPEEDUP:.1%}",
                f"{ar_cluster:,.0f}",
                f"{c.total_cycles:,}",
            ]
        )
    )
    print(
        _row(
            [
                "microLlama64_parallel (stand-in x 8 layers)",
                f"{_npu_share(cp, np_):.1%}",
                f"{1 - PAR_NPU / PAR_CLUSTER:.1%}",
                f"{PAR_CLUSTER:,}",
                f"{8 * cp.total_cycles:,}",
            ]
        )
    )


def sensitivity_table(ar: Graph, par: Graph, hw: HwSpec, l1: int, rates: list[float]) -> None:
    """The same ratios with the cluster's elementwise throughput ([A:cluster_elementwise]) varied: the
    non-MAC kernels' speed decides how much of a run the NPU can take over."""
    head = [
        "cluster elementwise ops/cycle",
        "1 token: cluster / NPU via L2 / NPU + WMEM",
        "NPU speedup",
        "WMEM gain",
        "parallel layer: NPU speedup",
    ]
    print(_row(head))
    print("|" + "---|" * len(head))
    for rate in rates:
        spec = hw.with_overrides({"engines.cluster.elementwise_ops_per_cycle": rate})
        c, n, w = _three(ar, spec, l1)
        cp, np_, _ = _three(par, spec, l1)
        print(
            _row(
                [
                    f"{rate:g}",
                    f"{c.total_cycles:,} / {n.total_cycles:,} / {w.total_cycles:,}",
                    f"{c.total_cycles / n.total_cycles:.3f}",
                    f"{n.total_cycles / w.total_cycles:.3f}",
                    f"{cp.total_cycles / np_.total_cycles:.3f}",
                ]
            )
        )
    print(
        _row(
            [
                "published",
                f"{AR_NPU * AR_SPEEDUP:,.0f} / {AR_NPU:,} / {AR_WMEM:,}",
                f"{AR_SPEEDUP:.3f}",
                f"{AR_NPU / AR_WMEM:.3f}",
                f"{PAR_CLUSTER / PAR_NPU:.3f}",
            ]
        )
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hw", default="siracusa_neureka")
    ap.add_argument("--l1", type=int, default=64000)
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    ap.add_argument(
        "--elementwise",
        type=float,
        nargs="*",
        default=[4.0, 2.0, 1.0],
        help="cluster elementwise rates for the sensitivity table (the spec's value comes first)",
    )
    args = ap.parse_args(argv)
    data = Path(os.environ.get("DEEPLOY_TILER_TESTDATA", "") or ROOT.parent / "shared" / "data" / "deeploy-tests")
    hw = load_hw(args.hw)
    t0 = time.perf_counter()
    graphs = {m: load_model(data / "Models" / m / "network.onnx") for m in args.models}
    print(f"## Engine choice on {hw.name}, L1 {args.l1:,} B (models loaded in {time.perf_counter() - t0:.1f} s)")
    print()
    model_table(graphs, hw, args.l1)
    print()
    ar = graphs.get("microLlama/INT8/microLlama64") or load_model(
        data / "Models" / "microLlama/INT8/microLlama64" / "network.onnx"
    )
    par = import_onnx(
        build_tiny_decoder(tokens=64, d_model=64, heads=16, ffn=256),
        name="microLlama64_parallel_layer",
        source="<build_tiny_decoder(tokens=64, d_model=64, heads=16, ffn=256)>",
    )
    print("## Cycles per token against the Deeploy tutorial")
    print()
    llm_table(ar, par, hw, args.l1)
    print()
    print("## Sensitivity to the cluster's elementwise throughput")
    print()
    base = hw.cluster_engine.elementwise_ops_per_cycle
    sensitivity_table(ar, par, hw, args.l1, ([base] if base else []) + args.elementwise)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
