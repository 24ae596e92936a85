"""Byte sizes as people write them (`64000`, `64KiB`, `64kB`, `1MiB`, `1.5MiB`) and the integer
rounding every layer of sizes and offsets uses (`ceil_div`, `align_up`)."""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "kib": 1024,
    "k": 1024,
    "mb": 1000**2,
    "mib": 1024**2,
    "m": 1024**2,
    "gb": 1000**3,
    "gib": 1024**3,
}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_bytes(text: str | int) -> int:
    """Parse a byte size; raises ValueError naming the text when it is not one."""
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"negative byte size {text}")
        return text
    m = _PATTERN.match(text)
    unit = m.group(2).lower() if m else None
    if not m or unit not in _UNITS:
        raise ValueError(f"not a byte size: {text!r} (use e.g. 64000, 64KiB, 1MiB)")
    value = float(m.group(1)) * _UNITS[unit]
    if not value.is_integer():
        raise ValueError(f"byte size {text!r} is not a whole number of bytes")
    return int(value)


def format_bytes(n: int) -> str:
    if n >= 1024**2 and n % 1024 == 0:
        return f"{n / 1024**2:.2f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} B"


def ceil_div(a: int, b: int) -> int:
    """The ceiling of a / b in exact integer arithmetic (b > 0; a may be negative)."""
    if b <= 0:
        raise ValueError(f"ceil_div by {b}: the divisor must be positive")
    return -(-a // b)


def align_up(n: int, a: int) -> int:
    """The smallest multiple of `a` (> 0) that is >= n."""
    return ceil_div(n, a) * a
