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


def designated(fields: Sequence[tuple[str, str]]) -> str:
    return "{" + ", ".join(f".{k} = {v}" for k, v in fields) + "}"
