"""Sliding-window geometry shared by conv2d and pool: ONNX window attributes, the 1-D -> 2-D lift, and
the check that an input buffer holds every row / column the tile's windows read."""

from __future__ import annotations

from collections.abc import Sequence

from ...errors import EmitError, UnsupportedOperatorError
from ...ir import Node
from ..views import Box, View
from .call import StepContext


def window_attrs(node: Node, nsp: int) -> tuple[list[int], list[int], list[int]]:
    """strides, dilations, pads (begins then ends). ceil_mode needs nothing more: windows reaching past
    the input read the implicit padding, as the reference does."""
    strides = list(node.attr("strides", (1,) * nsp))
    dil = list(node.attr("dilations", (1,) * nsp))
    pads = list(node.attr("pads", (0,) * (2 * nsp)))
    auto_pad = str(node.attr("auto_pad", "NOTSET"))
    if auto_pad == "VALID":
        pads = [0] * (2 * nsp)
    elif auto_pad not in ("NOTSET", ""):
        raise UnsupportedOperatorError({f"{node.op_type} auto_pad={auto_pad}": [node.name]})
    return strides, dil, pads


def to_2d(box: Box) -> Box:
    return (*box[:2], (0, 1), *box[2:])


def check_window_rows(
    ctx: StepContext,
    xv: View,
    out_box: Box,
    k: Sequence[int],
    s: Sequence[int],
    d: Sequence[int],
    pads_begin: Sequence[int],
    full: Sequence[int],
) -> None:
    for i in range(2):
        o0, on = out_box[2 + i]
        if on == 0:
            continue
        first = o0 * s[i] - pads_begin[i]
        last = (o0 + on - 1) * s[i] - pads_begin[i] + (k[i] - 1) * d[i]
        lo, hi = max(first, 0), min(last, full[i] - 1)
        if lo > hi:
            continue
        h0, hn = xv.start[2 + i], xv.shape[2 + i]
        if lo < h0 or hi >= h0 + hn:
            raise EmitError(
                f"{ctx.what}: input {xv.tensor} {xv.where} holds {'rows' if i == 0 else 'columns'} "
                f"[{h0}, {h0 + hn}) but the tile's windows need [{lo}, {hi + 1})"
            )
