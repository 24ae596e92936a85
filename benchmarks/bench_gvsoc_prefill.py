"""A prefill decoder of microLlama64's shape on GVSoC against Deeploy's published microLlama64_parallel.

The bundled `microllama64_prefill` (8 layers, d_model 64, 16 heads, FFN 256: the shared microLlama64's
weights, 524,288 B of int8) prefills 64 tokens at once, as Deeploy's microLlama64_parallel does. Per L1
budget and spec it is planned (siracusa, double buffering), emitted, built for Siracusa bare metal and run
on GVSoC: bit-exactness against the integer reference, measured cycles (cluster core 0's mcycle summed
over nodes), the plan's modeled cycles, instructions retired, and Deeploy's figure from its public
tutorial (simulator cycles, 8 cores, cluster only): 35.3 M at L1 64,000 B, 47.5 M at 8,000 B.

    DEEPLOY_TILER_GVSOC=/opt/gvsoc python benchmarks/bench_gvsoc_prefill.py [--budgets 64000,8000]
        [--specs siracusa,siracusa@gvsoc] [--per-op] [--json out.json]

Our decoder is not Deeploy's graph node for node (same shapes and weights sizes; its rotary embedding
and masking differ), so the comparison is of the same workload class, not of the same ONNX file.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_gvsoc import HEADER, measure, show
from deeploy_tiler import api
from deeploy_tiler.emitter import siracusa
from deeploy_tiler.models import bundled_inputs

MODEL = "microllama64_prefill"
DEEPLOY_CYCLES = {64000: 35_300_000, 8000: 47_500_000}  # [P] Deeploy tutorial, microLlama64_parallel, 8 cores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", default="64000,8000")
    ap.add_argument("--specs", default="siracusa")
    ap.add_argument("--per-op", action="store_true", help="measured vs modeled cycles summed per operator")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    install = siracusa.gvsoc_install()
    print(f"GVSoC: {install or f'not installed (${siracusa.GVSOC_ENV} unset): build and placement checks only'}")
    graph = api.load_model(MODEL)
    inputs = bundled_inputs(MODEL)
    expected = api.reference_run(graph, inputs)
    print(f"{MODEL}: {len(graph.nodes)} nodes, {graph.total_macs:,d} MACs")
    root = Path(tempfile.mkdtemp(prefix="dt-prefill-"))
    print(HEADER + f" {'Deeploy':>11s} {'vs Deeploy':>10s}")
    records = []
    for spec in args.specs.split(","):
        hw = api.load_hw(spec)
        for l1 in (int(b) for b in args.budgets.split(",")):
            p = measure(MODEL, graph, inputs, expected, hw, spec, l1, root, install)
            deeploy = DEEPLOY_CYCLES.get(l1)
            vs = f"{p.measured / deeploy:10.2f}" if deeploy and p.measured else f"{'-':>10s}"
            print(show(p) + f" {deeploy or 0:11,d} {vs}", flush=True)
            if args.per_op and p.nodes:
                per: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
                for r in p.nodes:
                    per[r["op"]][0] += r["measured"]
                    per[r["op"]][1] += r["modeled"]
                    per[r["op"]][2] += 1
                for op, (m, mod, n) in sorted(per.items(), key=lambda kv: -kv[1][0]):
                    print(f"    {op:16s} {n:4d} nodes {m:12,d} measured {mod:12,d} modeled {m / max(mod, 1):6.2f}")
            records.append({k: v for k, v in p.__dict__.items() if not k.startswith("fit_")} | {"deeploy": deeploy})
    if args.json:
        args.json.write_text(json.dumps(records, indent=1, default=str))


if __name__ == "__main__":
    main()
