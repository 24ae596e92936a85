"""Byte sizes as people write them (`64000`, `64KiB`, `64kB`, `1MiB`, `1.5MiB`), parsed exactly (decimal
digits times an integer unit, no float round trip) and bounded by `MAX_BYTES`, a size no memory of a
microcontroller-class target comes near; and the exact integer rounding every stage shares (`ceil_div`,
`align_up`; also elementwise over int64 numpy arrays)."""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, overload

import numpy as np
import numpy.typing as npt

__all__ = ["MAX_BYTES", "align_up", "ceil_div", "format_bytes", "parse_bytes"]

# 1 TiB: far above any on- or off-chip memory of the targets, far below the int64 range CP-SAT works in.
MAX_BYTES = 2**40

_IntArray = npt.NDArray[np.int64]

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
_PATTERN = re.compile(r"^\s*(\d{1,30}(?:\.\d{1,30})?)\s*([a-zA-Z]*)\s*$")


def parse_bytes(text: str | int) -> int:
    """Parse a byte size; raises ValueError naming the text when it is not one (or exceeds MAX_BYTES)."""
    if isinstance(text, bool) or not isinstance(text, int | str):
        raise ValueError(f"not a byte size: {text!r} (use an int or a string such as 64000, 64KiB, 1MiB)")
    if isinstance(text, int):
        value = Fraction(text)
    else:
        m = _PATTERN.match(text)
        unit = m.group(2).lower() if m else None
        if not m or unit not in _UNITS:
            raise ValueError(f"not a byte size: {text!r} (use e.g. 64000, 64KiB, 1MiB)")
        value = Fraction(m.group(1)) * _UNITS[unit]
    if value < 0:
        raise ValueError(f"negative byte size {text!r}")
    if value.denominator != 1:
        raise ValueError(f"byte size {text!r} is not a whole number of bytes")
    if value > MAX_BYTES:
        raise ValueError(f"byte size {text!r} exceeds the largest supported size {MAX_BYTES} B (1 TiB)")
    return int(value)


def format_bytes(n: int) -> str:
    if n >= 1024**2 and n % 1024 == 0:
        return f"{n / 1024**2:.2f} MiB"
    if n >= 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n} B"


@overload
def ceil_div(a: int, b: int) -> int: ...
@overload
def ceil_div(a: _IntArray, b: int) -> _IntArray: ...
def ceil_div(a: Any, b: int) -> Any:
    """The ceiling of a / b in exact integer arithmetic (b > 0; a may be negative, or an int64 array)."""
    if b <= 0:
        raise ValueError(f"ceil_div by {b}: the divisor must be positive")
    return -(-a // b)


@overload
def align_up(n: int, a: int) -> int: ...
@overload
def align_up(n: _IntArray, a: int) -> _IntArray: ...
def align_up(n: Any, a: int) -> Any:
    """The smallest multiple of `a` (> 0) that is >= n (elementwise for an int64 array)."""
    return ceil_div(n, a) * a
