"""The long fuzz run: many mutated invalid inputs per entry point and many random valid networks.

    nice -n 10 python benchmarks/fuzz_long.py [--invalid 2100] [--valid 1000] [--seed 0] [--failures FILE]

Generates cases with the suite's hypothesis strategies (tests/fuzz/strategies.py, invalid.py), runs each
in the worker process of tests/fuzz/harness.py (1 GiB address-space limit, 10 s per invalid case, 120 s per
valid network: emit plus a host build), and prints a Markdown table of counts per entry point and
outcome: typed error / valid / infeasible (valid networks whose budget no plan meets) and the failures
untyped / traceback / multiline / mismatch / hang / memory / crash. Failures are written in full to
`--failures` (default: fuzz_failures.txt). Exits 1 when any failure occurred.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import NonInteractiveExampleWarning

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fuzz.cases import FAILURES  # noqa: E402
from tests.fuzz.harness import Worker  # noqa: E402
from tests.fuzz.invalid import ENTRY_POINTS, invalid_case  # noqa: E402
from tests.fuzz.strategies import valid_case  # noqa: E402

COLUMNS = ("typed", "valid", "infeasible", *FAILURES)


def _collect(strategy: Any, count: int, seed_value: int) -> list[dict[str, Any]]:
    """`count` cases drawn by hypothesis (generation only, reproducible from `seed`)."""
    cases: list[dict[str, Any]] = []

    @seed(seed_value)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=(Phase.generate,),
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def draw(case: dict[str, Any]) -> None:
        cases.append(case)

    draw()
    return cases[:count]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--invalid", type=int, default=2100, help="invalid inputs in all (split over entry points)")
    ap.add_argument("--valid", type=int, default=1000, help="random valid networks")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--failures", type=Path, default=Path("fuzz_failures.txt"))
    ap.add_argument("--minutes", type=float, default=None, help="stop starting new cases after this many minutes")
    ap.add_argument("--skip-invalid", action="store_true", help="only the valid networks")
    args = ap.parse_args()
    warnings.simplefilter("ignore", NonInteractiveExampleWarning)

    counts: dict[str, collections.Counter[str]] = {}
    seconds: dict[str, float] = {}
    failures: list[str] = []
    worker = Worker()
    stop_at = time.monotonic() + 60 * args.minutes if args.minutes else None
    n_invalid = 0 if args.skip_invalid else args.invalid // len(ENTRY_POINTS)
    plan = [(e, invalid_case(e), n_invalid, 10.0) for e in ENTRY_POINTS]
    plan.append(("valid graphs", valid_case(), args.valid, 120.0))
    try:
        for entry, strategy, n, timeout in plan:
            if n <= 0:
                continue
            cases = _collect(strategy, n, args.seed)
            counter: collections.Counter[str] = collections.Counter()
            t0 = time.perf_counter()
            counts[entry] = counter
            for i, case in enumerate(cases):
                if stop_at is not None and time.monotonic() > stop_at:
                    print(f"{entry}: time is up after {i} cases", file=sys.stderr, flush=True)
                    break
                if i and i % 50 == 0:
                    print(f"{entry}: {i} cases: {dict(counter)}", file=sys.stderr, flush=True)
                outcome, detail = worker.run(case, timeout=timeout)
                counter[outcome] += 1
                if outcome in FAILURES:
                    failures.append(f"## {entry} #{i}: {outcome}\n{detail}\ncase: {str(case)[:2000]}\n")
            seconds[entry] = time.perf_counter() - t0
            print(
                f"{entry}: {len(cases)} cases in {seconds[entry]:.0f} s: {dict(counter)}", file=sys.stderr, flush=True
            )
    except KeyboardInterrupt:
        print("interrupted: the table counts the cases that finished", file=sys.stderr)
    finally:
        worker.close()
        for entry in counts:
            seconds.setdefault(entry, float("nan"))

    print("| entry point | cases | " + " | ".join(COLUMNS) + " | seconds |")
    print("|---|---:|" + "---:|" * len(COLUMNS) + "---:|")
    total: collections.Counter[str] = collections.Counter()
    for entry, counter in counts.items():
        total.update(counter)
        cells = " | ".join(str(counter.get(c, 0)) for c in COLUMNS)
        print(f"| {entry} | {sum(counter.values())} | {cells} | {seconds[entry]:.0f} |")
    cells = " | ".join(str(total.get(c, 0)) for c in COLUMNS)
    print(f"| all | {sum(total.values())} | {cells} | {sum(seconds.values()):.0f} |")
    args.failures.write_text("\n".join(failures))
    print(f"\n{len(failures)} failures (written to {args.failures})")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
