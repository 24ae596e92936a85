"""Multiply-accumulate count of one node (0 for data movement and elementwise operators)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import prod
from typing import Any

Shape = tuple[int, ...]


def node_macs(op: str, attrs: Mapping[str, Any], in_shapes: Sequence[Shape], out_shapes: Sequence[Shape]) -> int:
    if op == "Conv":
        w = in_shapes[1]
        return prod(out_shapes[0]) * prod(w[1:])
    if op == "Gemm":
        a = in_shapes[0]
        k = a[0] if attrs.get("transA", 0) else a[1]
        return prod(out_shapes[0]) * k
    if op == "MatMul":
        return prod(out_shapes[0]) * in_shapes[0][-1]
    return 0
