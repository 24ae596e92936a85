"""Benchmark streaming from L3: decode steps whose weights and KV caches do not fit L2.

    PYTHONPATH=src python benchmarks/bench_l3.py [--models tinystories15m microLlama64] [--specs ...] [--curve]
    PYTHONPATH=src python benchmarks/bench_l3.py --models tinystories15m_head --specs siracusa   # with its head

Table 1, per model and spec at its L2 budget (TinyStories-15M body, KV 256, and with its 9.2 MB vocabulary
head in 32 chunks streamed from L3: Deeploy's default L2 of 1,024,000 B; microLlama64 (shared): 256 KiB,
next to its all-resident plan at the default L2): planning wall time (dt.plan, tiling + residency + static
allocation; goal < 2 s), modeled cycles and tokens/s at the spec's clock, L3 bytes per token (copies in and
back), the cycles nodes wait for L3 copies, the lower bound and the gap to it (goal <= 10 %), the residency
solve's status.

Table 2 (`--curve`): latency and L3 traffic per token against the L2 budget, from the smallest feasible
L2 (stated by the answer before tiling) up to all resident (or the physical L2): one tiling, then the
memory stage at each budget (the pipeline's second stage, what dt.plan runs after tiling).

The lower bound is max(the nodes' lower bounds, the L3 DMA time of the constants that cannot stay
resident at the busiest step); it ignores the KV caches' traffic and the room prefetching needs, so the
gap overstates what is left on decoders whose KV caches must stream.
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

from deeploy_tiler.api import load_model, plan, validate  # noqa: E402
from deeploy_tiler.errors import InfeasibleBudget  # noqa: E402
from deeploy_tiler.hw import HwSpec, load_hw  # noqa: E402
from deeploy_tiler.ir import Graph  # noqa: E402
from deeploy_tiler.plan import Plan  # noqa: E402
from deeploy_tiler.planner.pipeline import place_memory, tile_network  # noqa: E402
from deeploy_tiler.planner.residency import check_memory_levels  # noqa: E402

DATA = Path(os.environ.get("DEEPLOY_TILER_TESTDATA", ROOT.parent / "shared" / "data" / "deeploy-tests"))
SHARED = {"microLlama64": DATA / "Models" / "microLlama" / "INT8" / "microLlama64"}
L2_OF = {
    "tinystories15m": 1_024_000,
    "tinystories15m_head": 1_024_000,
    "microLlama64": 262_144,
    "llama_d128x8": 1_024_000,
}


def _graph(name: str) -> Graph:
    return load_model(SHARED.get(name, name))


def _row(name: str, spec: str, l2: int | None, p: Plan, wall: float, hw: HwSpec) -> str:
    tps = hw.clock_hz / p.total_cycles
    waits = sum(s.exposed_cycles for s in p.staging)
    return (
        f"{name:16s} {spec:17s} {('default' if l2 is None else l2):>9} {wall:7.2f} {p.total_cycles:>10,} {tps:8.1f} "
        f"{p.l3_bytes:>10,} {waits:>10,} {p.lower_bound_cycles:>10,} {100 * p.gap:6.1f}% {len(p.staging):>5}"
    )


def table(models: list[str], specs: list[str]) -> None:
    print(
        f"{'model':16s} {'spec':17s} {'L2 B':>9} {'plan s':>7} {'cycles':>10} {'tok/s':>8} {'L3 B/tok':>10} "
        f"{'L3 waits':>10} {'bound':>10} {'gap':>7} {'copies':>5}"
    )
    for name in models:
        g = _graph(name)
        for spec in specs:
            hw = load_hw(spec)
            budgets: list[int | None] = [L2_OF.get(name)]
            if name == "microLlama64":
                budgets.append(None)  # the all-resident reference
            for l2 in budgets:
                t = time.perf_counter()
                try:
                    p = plan(g, hw, l2=l2)
                except InfeasibleBudget as e:
                    print(f"{name:16s} {spec:17s} {l2!s:>9} infeasible: {e}")
                    continue
                wall = time.perf_counter() - t
                bad = validate(p, g, hw)
                print(_row(name, spec, l2, p, wall, hw) + ("" if not bad else f"  INVALID ({len(bad)})"))


def curve(name: str, spec: str, points: int) -> None:
    g = _graph(name)
    hw = load_hw(spec)
    usable = hw.memory("L2").usable_bytes
    try:
        check_memory_levels(g, hw, 0)
        lo = 0
    except InfeasibleBudget as e:
        lo = e.required_bytes
    tiled = tile_network(g, hw)
    print(f"\n{name} on {spec}: latency and L3 traffic per token vs the L2 budget (smallest feasible: {lo} B)")
    print(f"{'L2 B':>10} {'cycles':>11} {'tok/s':>8} {'L3 B/tok':>11} {'L3 waits':>11} {'copies':>6} {'mem s':>6}")
    budgets = sorted({min(usable, int(lo * (usable / lo) ** (k / (points - 1)))) for k in range(points)} | {lo})
    for l2 in budgets:
        t = time.perf_counter()
        try:
            p = place_memory(tiled, g, hw, l2=l2)
        except InfeasibleBudget as e:
            print(f"{l2:>10} infeasible ({e.required_bytes} B needed)")
            continue
        waits = sum(s.exposed_cycles for s in p.staging)
        print(
            f"{l2:>10} {p.total_cycles:>11,} {hw.clock_hz / p.total_cycles:8.1f} {p.l3_bytes:>11,} {waits:>11,} "
            f"{len(p.staging):>6} {time.perf_counter() - t:6.2f}"
        )
        if not p.staging:
            break  # all resident: larger budgets change nothing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="*", default=["tinystories15m", "microLlama64"])
    ap.add_argument("--specs", nargs="*", default=["siracusa", "siracusa_neureka"])
    ap.add_argument("--curve", action="store_true", help="latency vs L2 budget (siracusa)")
    ap.add_argument("--points", type=int, default=8)
    args = ap.parse_args()
    table(args.models, args.specs)
    if args.curve:
        for name in args.models:
            curve(name, "siracusa", args.points)


if __name__ == "__main__":
    main()
