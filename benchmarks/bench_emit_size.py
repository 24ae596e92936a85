"""Benchmark of the emitted C's size: bytes per file (network.c, main.c, kernels*.c; the copied runtime
and kernel library are the same for every model and left out) and plan / emit wall time, for
microLlama64 at two L1 budgets, stacked decoders and CNNs, with this checkout's emitter ("after") and
another checkout's ("before", default /work/main/src: run in a subprocess, plans are the same).

    python benchmarks/bench_emit_size.py                         # after vs /work/main/src
    python benchmarks/bench_emit_size.py --before-src ../main/src --json sizes.json
    python benchmarks/bench_emit_size.py --cases microLlama64@612,decoder64@4000 --no-before

network.c is further split into constants (the weight arrays), node code (the node functions: the
schedule) and the rest (comments, homes, tables of names). Cases: `<model>@<L1 bytes>`, model one of
microLlama64 (shared data, $DEEPLOY_TILER_TESTDATA or ../shared/data/deeploy-tests), decoder<N> (the
bundled decoder layer stacked N times, benchmarks/bench_scaling.py), cnn<N> (N distinct 3x3
convolutions, ditto), miniMobileNet (shared data).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_CASES = (
    "microLlama64@64000,microLlama64@612,decoder8@1000,decoder32@1000,decoder64@1000,miniMobileNet@4000,cnn50@2500"
)
FILES = ("network.c", "main.c", "kernels.c", "kernels_siracusa.c", "network.h", "kernels.h", "Makefile")
_CONST = re.compile(r"^(static )?const \w+ dt_c\d+\[")
_NODE = re.compile(r"^static int32_t dt_node_\d+\(void\)|^static const \w+ n\d+_\w+\[|^static dt_dma_handle_t n\d+_")


def _split_network(text: str) -> dict[str, int]:
    """network.c bytes by part: constants, node code (functions and their tables), the rest."""
    parts = {"consts": 0, "node_code": 0, "rest": 0}
    cur = "rest"
    for line in text.splitlines(keepends=True):
        if _CONST.match(line):
            cur = "consts"
        elif _NODE.match(line):
            cur = "node_code"
        elif line.startswith("/*"):
            cur = "rest"
        parts[cur] += len(line)
        if line.startswith("}") and cur != "rest":  # a constant array, a table or a function ends
            cur = "rest"
    return parts


def _load(case: str) -> tuple[Any, Any, Any]:
    from deeploy_tiler.frontend import load_onnx
    from deeploy_tiler.ir import DType

    model = case.split("@")[0]
    if model.startswith("decoder") or model.startswith("cnn"):
        sys.path.insert(1, str(HERE))  # after the checkout under test, which is imported already
        import bench_scaling

        n = int(model.removeprefix("decoder").removeprefix("cnn"))
        graph = bench_scaling.stacked_decoder(n) if model.startswith("decoder") else bench_scaling.distinct_cnn(n)
        return graph, None, None
    import numpy as np

    env = os.environ.get("DEEPLOY_TILER_TESTDATA")
    root = Path(env) if env else HERE.parent.parent / "shared" / "data" / "deeploy-tests"
    folder = root / "Models" / {"microLlama64": "microLlama/INT8/microLlama64"}.get(model, model)
    probe = load_onnx(folder / "network.onnx", fuse=False)
    with np.load(folder / "inputs.npz") as npz:
        inputs = dict(zip(probe.input_names, [npz[k] for k in npz.files], strict=True))
    dtypes = {k: DType.smallest_holding(int(a.min()), int(a.max())) for k, a in inputs.items()}
    graph = load_onnx(folder / "network.onnx", input_dtypes=dtypes)
    with np.load(folder / "outputs.npz") as npz:
        expected = [npz[k] for k in npz.files]
    return graph, inputs, expected


def measure(case: str, work: Path) -> dict[str, Any]:
    from deeploy_tiler.emitter import emit_project
    from deeploy_tiler.hw import load_hw
    from deeploy_tiler.planner.graph import plan_graph

    hw = load_hw("siracusa")
    graph, inputs, expected = _load(case)
    l1 = int(case.split("@")[1])
    t0 = time.perf_counter()
    plan = plan_graph(graph, hw, l1=l1, double_buffer=True)
    t_plan = time.perf_counter() - t0
    out = work / case.replace("@", "_")
    t0 = time.perf_counter()
    emit_project(plan, graph, hw, out, inputs=inputs, expected=expected)
    t_emit = time.perf_counter() - t0
    files = {f: (out / f).stat().st_size for f in FILES if (out / f).exists()}
    return {
        "case": case,
        "tiles": plan.num_tiles,
        "nodes": len(graph.nodes),
        "events": sum(len(n.events) for n in plan.nodes),
        "plan_s": round(t_plan, 3),
        "emit_s": round(t_emit, 3),
        "files": files,
        "total": sum(files.values()),
        "network": _split_network((out / "network.c").read_text()),
    }


def _worker(cases: list[str]) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="dt_bench_size_") as tmp:
        return [measure(c, Path(tmp)) for c in cases]


def _before(src: Path, cases: list[str]) -> list[dict[str, Any]]:
    env = dict(os.environ, PYTHONPATH=str(src))
    proc = subprocess.run(
        [sys.executable, __file__, "--worker", "--cases", ",".join(cases)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    rows: list[dict[str, Any]] = json.loads(proc.stdout)
    return rows


def _kb(n: int) -> str:
    return f"{n / 1000:9.1f}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--before-src", type=Path, default=Path("/work/main/src"))
    ap.add_argument("--no-before", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    cases = args.cases.split(",")
    if args.worker:
        print(json.dumps(_worker(cases)))
        return 0
    import deeploy_tiler

    after = _worker(cases)
    before = [] if args.no_before else _before(args.before_src, cases)
    print(f"after: {Path(deeploy_tiler.__file__).parent}; before: {'-' if args.no_before else args.before_src}")
    print("sizes in kB (1000 B); node = network.c's node functions and schedule tables, const = weight arrays")
    head = f"{'case':20s} {'tiles':>6s} {'events':>7s} | {'plan s':>6s} {'emit s':>6s}"
    head += f" | {'network.c':>9s} {'node':>9s} {'const':>9s} {'main.c':>9s} {'total':>9s}"
    print(head + ("  | before: network.c / node / total / emit s  -> ratio network.c, node" if before else ""))
    for k, a in enumerate(after):
        line = (
            f"{a['case']:20s} {a['tiles']:6d} {a['events']:7d} | {a['plan_s']:6.2f} {a['emit_s']:6.2f} | "
            f"{_kb(a['files']['network.c'])} {_kb(a['network']['node_code'])} {_kb(a['network']['consts'])} "
            f"{_kb(a['files']['main.c'])} {_kb(a['total'])}"
        )
        if before:
            b = before[k]
            line += (
                f"  | {_kb(b['files']['network.c'])} {_kb(b['network']['node_code'])} {_kb(b['total'])} "
                f"{b['emit_s']:6.2f}  -> x{b['files']['network.c'] / a['files']['network.c']:.2f}, "
                f"x{b['network']['node_code'] / max(a['network']['node_code'], 1):.1f}"
            )
        print(line, flush=True)
    if args.json:
        args.json.write_text(json.dumps({"after": after, "before": before}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
