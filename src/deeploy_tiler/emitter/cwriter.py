"""Small C formatting helpers."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from ..ir import DType

_IDENT = re.compile(r"[^A-Za-z0-9_]")


def ident(name: str) -> str:
    s = _IDENT.sub("_", name)
    return s if s and not s[0].isdigit() else "_" + s


def comment_text(text: str) -> str:
    return text.replace("*/", "* /")


def c_int(v: int, dtype: DType) -> str:
    if dtype is DType.INT64 and (v > 2**31 - 1 or v < -(2**31)):
        return f"{v}LL" if v != -(2**63) else "(-9223372036854775807LL - 1)"
    if dtype is DType.INT32 and v == -(2**31):
        return "(-2147483647 - 1)"
    if dtype in (DType.UINT32,):
        return f"{v}u"
    return str(v)


def array_body(values: Iterable[int], dtype: DType, per_line: int = 24) -> str:
    vals = [c_int(int(v), dtype) for v in values]
    if not vals:
        return "{0}"
    lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
    return "{\n    " + ",\n    ".join(lines) + "\n}"


def array_body_np(arr: np.ndarray[Any, Any], dtype: DType) -> str:
    flat = np.asarray(arr, dtype=np.int64).ravel()
    if dtype in (DType.INT8, DType.UINT8, DType.INT16, DType.UINT16) or (
        dtype is DType.INT32 and (flat.size == 0 or int(flat.min()) > -(2**31))
    ):
        if flat.size == 0:
            return "{0}"
        # plain str() per value, a fixed count per line sized by the widest: numpy's array2string
        # formats element by element in Python and dominated emission time on megabytes of weights
        vals = list(map(str, flat.tolist()))
        per_line = max(1, 110 // (max(map(len, vals)) + 2))
        lines = [", ".join(vals[i : i + per_line]) for i in range(0, len(vals), per_line)]
        return "{\n    " + ",\n    ".join(lines) + "\n}"
    return array_body(flat.tolist(), dtype)


def f32_bits(values: Any) -> np.ndarray[Any, np.dtype[np.int64]]:
    """float32 values -> their IEEE-754 bit patterns as signed int32 values in int64 (the IR's FLOAT32
    convention; the emitter keeps its own copy, as it imports no frontend)."""
    return np.asarray(values, dtype=np.float32).view(np.int32).astype(np.int64)


def f32_body(bits: np.ndarray[Any, Any], what: str, per_line: int = 8) -> str:
    """A C initializer of float32 values given as bit patterns: exact hex-float literals (finite only)."""
    vals = np.asarray(bits, dtype=np.int64).astype(np.int32).view(np.float32).ravel()
    if not np.all(np.isfinite(vals)):
        raise ValueError(f"{what}: non-finite float32 values have no exact literal here")
    lits = [float(v).hex() + "f" for v in vals.tolist()]
    if not lits:
        return "{0}"
    lines = [", ".join(lits[i : i + per_line]) for i in range(0, len(lits), per_line)]
    return "{\n    " + ",\n    ".join(lines) + "\n}"


def designated(fields: Sequence[tuple[str, str]]) -> str:
    return "{" + ", ".join(f".{k} = {v}" for k, v in fields) + "}"
