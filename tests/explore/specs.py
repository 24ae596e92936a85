"""Reading plotly specs in tests: does every trace stay inside its axes' ranges?"""

from __future__ import annotations

import math
from typing import Any


def _extent(values: list[Any]) -> list[float]:
    nums = [float(v) for v in values if v is not None and not isinstance(v, str)]
    return [min(nums), max(nums)] if nums else []


def clipped(spec: dict[str, Any]) -> list[str]:
    """Traces whose data leave an axis range (numeric axes; a category axis holds indices 0..n-1)."""
    layout = spec["layout"]
    problems = []
    for t in spec["data"]:
        for axis, key in (("xaxis", "x"), ("yaxis", "y")):
            ax = layout[axis]
            lo, hi = ax["range"]
            values = t.get(key, [])
            if ax.get("type") == "category" or (values and isinstance(values[0], str)):
                cats = ax.get("categoryarray") or list(dict.fromkeys(values))
                data = [cats.index(v) for v in values]
                data = [min(data) - 0.5, max(data) + 0.5] if data else []
            elif t["type"] == "bar" and key == "y":
                base = t.get("base") or [0] * len(values)
                data = _extent([b + v for b, v in zip(base, values, strict=True)] + list(base))
            elif t["type"] == "bar" and key == "x" and "width" in t:
                data = _extent([x - w / 2 for x, w in zip(values, t["width"], strict=True)])
                data += _extent([x + w / 2 for x, w in zip(values, t["width"], strict=True)])
            else:
                data = _extent(values)
            if not data:
                continue
            if ax.get("type") == "log":
                data = [math.log10(v) for v in data]
            if min(data) < lo - 1e-9 or max(data) > hi + 1e-9:
                problems.append(f"{t.get('name')}: {key} {min(data)}..{max(data)} outside {lo}..{hi}")
    return problems
