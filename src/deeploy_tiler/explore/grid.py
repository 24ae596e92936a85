"""Sweep input parsing: budget grids (`16KiB..256KiB:x2`) and spec overrides (`path=a|b`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from typing import Any

from ..units import parse_bytes

__all__ = ["MAX_GRID_POINTS", "parse_grid", "parse_overrides"]

MAX_GRID_POINTS = 4096  # per level: a typo like 1..1GiB:+1 must not start a billion plans


def _range(item: str) -> list[int]:
    lo_s, _, rest = item.partition("..")
    hi_s, _, step_s = rest.partition(":")
    lo, hi = parse_bytes(lo_s.strip()), parse_bytes(hi_s.strip())
    if hi < lo:
        raise ValueError(f"budget range {item!r} is reversed ({lo} B > {hi} B)")
    step_s = step_s.strip()
    values: list[int] = []
    if step_s.startswith("+"):
        step = parse_bytes(step_s[1:].strip())
        if step <= 0:
            raise ValueError(f"budget range {item!r}: the step must be positive")
        if (hi - lo) // step + 2 > MAX_GRID_POINTS:
            raise ValueError(f"budget range {item!r} has more than {MAX_GRID_POINTS} points")
        values = list(range(lo, hi + 1, step))
    else:
        try:
            factor = float(step_s.removeprefix("x").removeprefix("*")) if step_s else 2.0
        except ValueError:
            raise ValueError(
                f"budget range {item!r}: step {step_s!r} is not a factor (x2) or an increment (+4KiB)"
            ) from None
        if not factor > 1.0 or not math.isfinite(factor):
            raise ValueError(f"budget range {item!r}: the step factor must be > 1")
        if lo == 0:
            raise ValueError(f"budget range {item!r}: a geometric range cannot start at 0")
        k = 0
        while (v := round(lo * factor**k)) < hi:  # from lo each time: no drift from repeated products
            values.append(v)
            k += 1
            if k > MAX_GRID_POINTS:
                raise ValueError(f"budget range {item!r} has more than {MAX_GRID_POINTS} points")
    values.append(hi)
    return values


def parse_grid(text: str) -> list[int]:
    """Budgets, sorted and unique, from a comma-separated list of sizes and ranges.

    `64000`, `16KiB,32KiB`, `16KiB..256KiB` (doubling, both ends included), `16KiB..64KiB:x1.5`
    (factor), `16KiB..64KiB:+8KiB` (increment). Raises ValueError naming the item for an empty grid, a
    reversed range, a bad step, a zero budget, or too many points.
    """
    items = [s.strip() for s in text.split(",")]
    if not any(items):
        raise ValueError(f"budget grid {text!r} is empty")
    values: set[int] = set()
    for item in items:
        if not item:
            raise ValueError(f"budget grid {text!r} has an empty item")
        values.update(_range(item) if ".." in item else [parse_bytes(item)])
    if 0 in values:
        raise ValueError(f"budget grid {text!r}: a budget of 0 B cannot hold anything")
    if len(values) > MAX_GRID_POINTS:
        raise ValueError(f"budget grid {text!r} has more than {MAX_GRID_POINTS} points")
    return sorted(values)


def _parse_value(path: str, text: str) -> Any:
    t = text.strip()
    low = t.lower()
    if low in ("true", "false"):
        return low == "true"
    if low in ("null", "none", "~"):
        return None
    try:
        return int(t)
    except ValueError:
        pass
    try:
        f = float(t)
    except ValueError:
        pass
    else:
        return int(f) if f.is_integer() and "." not in t.split("e")[0] else f
    if path.endswith("bytes"):
        try:
            return parse_bytes(t)
        except ValueError:
            pass
    return t


def parse_overrides(specs: Iterable[str]) -> list[dict[str, Any]]:
    """Spec variants from `path=value,...` texts; `path=a|b` sweeps a field (cartesian product).

    Values: integers, floats (`360e6`), booleans, `null`, byte sizes for `*bytes` fields (`128KiB`),
    else strings. No text: one variant without overrides. Raises ValueError for a malformed item; an
    unknown field is found when the variant is applied (`HwSpec.with_overrides` raises HwSpecError).
    """
    choices: dict[str, list[Any]] = {}
    for spec in specs:
        for item in spec.split(","):
            if not item.strip():
                continue
            path, eq, value = item.partition("=")
            path = path.strip()
            if not eq or not path or not value.strip():
                raise ValueError(f"override {item.strip()!r} is not path=value (e.g. memories.L1.size_bytes=128KiB)")
            choices[path] = [_parse_value(path, v) for v in value.split("|")]
    if not choices:
        return [{}]
    keys = list(choices)
    return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(choices[k] for k in keys))]
