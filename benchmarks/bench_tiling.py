"""Benchmark the per-node tiling planner on the shared models.

    python benchmarks/bench_tiling.py [--hw siracusa] [--l1 64000 16000 8000] [--l2 1024000] [--models ...]

Plans every shared model at each L1 budget, with and without double buffering, re-checks every plan
with the independent validator, and prints a Markdown table: wall and CPU seconds (the model loaded
beforehand), nodes, tiles, modeled cycles, the sum of per-node lower bounds (the pipeline bound) and the
gap, the sum of plain rooflines, how the nodes were answered (solved by CP-SAT / untiled early exit /
cached repeat), and the validator's verdict. Then the L1 = 4000 B case and each model's smallest feasible
L1 budget, with the time the infeasibility answer took. Exits 1 if a plan fails validation.
Data: ``$DEEPLOY_TILER_TESTDATA``, else ``../shared/data/deeploy-tests``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deeploy_tiler.api import load_model  # noqa: E402
from deeploy_tiler.errors import InfeasibleBudget  # noqa: E402
from deeploy_tiler.hw import HwSpec, load_hw  # noqa: E402
from deeploy_tiler.ir import Graph  # noqa: E402
from deeploy_tiler.planner.graph import l1_requirements, plan_graph_timed  # noqa: E402
from deeploy_tiler.planner.setup import prepare  # noqa: E402
from deeploy_tiler.solver import SolverOptions  # noqa: E402

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


def _roofline(graph: Graph, hw: HwSpec, l1: int, double_buffer: bool) -> int:
    from deeploy_tiler.cost.model import CostParams

    params = CostParams.from_hw(hw)
    return sum(
        prepare(n, graph, hw.cluster_engine, params, l1, double_buffer).problem.model.roofline()
        for n in graph.nodes
        if not n.is_alias
    )


def _validate(plan: object, graph: Graph, hw: HwSpec) -> str:
    try:
        from deeploy_tiler.validator import validate
    except ImportError:
        return "n/a"
    violations = validate(plan, graph, hw)  # type: ignore[arg-type]
    return "ok" if not violations else f"{len(violations)} violations"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hw", default="siracusa")
    ap.add_argument("--l1", type=int, nargs="+", default=[64000, 16000, 8000])
    ap.add_argument("--l2", type=int, default=1_024_000)
    ap.add_argument("--impossible", type=int, default=4000, help="the small L1 budget to answer")
    ap.add_argument("--models", nargs="+", default=list(MODELS))
    args = ap.parse_args(argv)
    data = Path(os.environ.get("DEEPLOY_TILER_TESTDATA", "") or ROOT.parent / "shared" / "data" / "deeploy-tests")
    hw = load_hw(args.hw)
    graphs = {m: load_model(data / "Models" / m / "network.onnx") for m in args.models}
    options = SolverOptions()
    head = [
        "model",
        "L1 B",
        "dbuf",
        "wall s",
        "cpu s",
        "nodes",
        "tiles",
        "cycles",
        "bound",
        "gap %",
        "roofline",
        "solved/untiled/cached",
        "validator",
    ]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    bad = 0
    for l1 in args.l1:
        for db in (True, False):
            for name, graph in graphs.items():
                c0 = time.process_time()
                try:
                    plan, t = plan_graph_timed(graph, hw, l1=l1, l2=args.l2, double_buffer=db, options=options)
                except InfeasibleBudget as e:
                    print(
                        f"| {name} | {l1} | {db} | - | {time.process_time() - c0:.2f} | infeasible: "
                        f"{len(e.nodes)} nodes, needs {e.required_bytes} B |" + " |" * 7
                    )
                    continue
                cpu = time.process_time() - c0
                verdict = _validate(plan, graph, hw)
                bad += verdict not in ("ok", "n/a")
                how = f"{t.count('solved')}/{t.count('untiled')}/{t.count('cached')}"
                print(
                    f"| {name} | {l1} | {db} | {t.total_s:.2f} | {cpu:.2f} | {len(plan.nodes)} | {plan.num_tiles} "
                    f"| {plan.total_cycles} | {plan.lower_bound_cycles} | {100 * plan.gap:.1f} "
                    f"| {_roofline(graph, hw, l1, db)} | {how} | {verdict} |"
                )
    print()
    print(f"| model | L1 = {args.impossible} B | answer s | smallest feasible L1 B | binding node |")
    print("|---|---|---|---|---|")
    for name, graph in graphs.items():
        t0 = time.perf_counter()
        try:
            plan_graph_timed(graph, hw, l1=args.impossible, l2=args.l2, options=options)
            answer = "planned"
        except InfeasibleBudget as e:
            answer = f"InfeasibleBudget: {len(e.nodes)} nodes ({e.nodes[0]}, ...)"
        dt = time.perf_counter() - t0
        req = l1_requirements(graph, hw)
        node, need = max(req.items(), key=lambda kv: kv[1])
        print(f"| {name} | {answer} | {dt:.2f} | {need} | {node} |")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
