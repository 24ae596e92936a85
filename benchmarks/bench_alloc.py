"""Benchmark the static allocator on MiniMalloc's 11 "challenging" instances.

    python benchmarks/bench_alloc.py [--time-limit S] [--strategies greedy search cpsat auto] [--instances A B]

Solves every instance with every strategy through `deeploy_tiler.memory.alloc.allocate`, re-checks every
result with the independent validator, and prints a Markdown table: instance, buffers, lower bound,
and per strategy whether it fits, the peak (KiB), wall and CPU seconds, and the ratio of the wall (and
CPU) time to MiniMalloc's C++ solver on this kind of machine. On a shared machine the CPU time is the
fairer figure: wall time then includes waiting for a core. Exits 1 if any result fails validation.
Data: ``--data-dir``, else ``$DEEPLOY_TILER_MINIMALLOC_DIR``, else ``../shared/data/minimalloc-challenging``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from deeploy_tiler.errors import AllocationError  # noqa: E402
from deeploy_tiler.memory.alloc import STRATEGIES, allocate, check_allocation, read_csv  # noqa: E402

#: MiniMalloc's C++ solver, seconds per instance, measured on a 2-core machine of this kind.
MINIMALLOC_SECONDS = {
    "A": 5.1,
    "B": 3.6,
    "C": 0.6,
    "D": 2.9,
    "E": 4.1,
    "F": 6.1,
    "G": 1.1,
    "H": 1.6,
    "I": 3.8,
    "J": 0.8,
    "K": 0.6,
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds per instance and strategy")
    ap.add_argument(
        "--strategies", nargs="+", default=["greedy", "search", "cpsat", "auto"], choices=[s for s in STRATEGIES]
    )
    ap.add_argument("--instances", nargs="+", default=sorted(MINIMALLOC_SECONDS))
    ap.add_argument("--data-dir", type=Path, default=None)
    args = ap.parse_args(argv)
    data = args.data_dir or Path(
        os.environ.get("DEEPLOY_TILER_MINIMALLOC_DIR", "") or ROOT.parent / "shared" / "data" / "minimalloc-challenging"
    )
    head = ["inst", "buffers", "lower bound KiB"]
    for s in args.strategies:
        head += [f"{s} fits", f"{s} peak KiB", f"{s} s wall (cpu)", f"{s} x MiniMalloc wall (cpu)"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    invalid = 0
    solved = dict.fromkeys(args.strategies, 0)
    for name in args.instances:
        prob = read_csv(data / f"{name}.1048576.csv")
        cap = prob.capacity or 1048576
        row: list[str] = [name, str(len(prob.buffers))]
        lb_cell = "?"
        for s in args.strategies:
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                r = allocate(prob.buffers, cap, strategy=s, time_limit=args.time_limit)
            except AllocationError as e:
                row += ["error", "-", "-", "-"]
                print(f"# {name} {s}: {e}", file=sys.stderr)
                continue
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            lb_cell = f"{r.lower_bound / 1024:.0f}"
            bad = check_allocation(prob.buffers, r.offsets, cap if r.solved else r.peak)
            if bad:
                invalid += 1
                print(f"# {name} {s}: INVALID: {bad[0]}", file=sys.stderr)
            ok = r.solved and not bad
            solved[s] += ok
            ref = MINIMALLOC_SECONDS.get(name)
            row += [
                "yes" if ok else ("INVALID" if bad else f"no ({r.stats.status})"),
                f"{r.peak / 1024:.0f}",
                f"{wall:.2f} ({cpu:.2f})",
                f"{wall / ref:.2f} ({cpu / ref:.2f})" if ref and ok else "-",
            ]
            sys.stderr.write(f"# {name} {s}: {'fits' if ok else 'no'} in {wall:.2f} s\n")
        row.insert(2, lb_cell)
        print("| " + " | ".join(row) + " |", flush=True)
    print()
    print("solved: " + ", ".join(f"{s} {k}/{len(args.instances)}" for s, k in solved.items()))
    return 1 if invalid else 0


if __name__ == "__main__":
    raise SystemExit(main())
