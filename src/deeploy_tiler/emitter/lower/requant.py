"""The requantization epilogue shared by every kernel family: the dt_requant_t of a call, and the
int32/int64 decision (`wide`) from value bounds of the accumulator and the requant operands."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ...errors import EmitError
from ...ir import DType, Node
from ..views import broadcast_operand
from .call import RequantArgs, StepContext


@dataclass(frozen=True)
class RequantSpec:
    mul: str
    add: str
    div: int
    n_levels: int
    signed: bool

    @property
    def shift(self) -> int:
        if self.div < 1 or self.div & (self.div - 1):
            raise EmitError(f"RequantShift div {self.div} is not a power of two")
        return self.div.bit_length() - 1

    @property
    def lo_hi(self) -> tuple[int, int]:
        n = self.n_levels
        return (-(n // 2), n // 2 - 1) if self.signed else (0, n - 1)


def requant_of(node: Node) -> RequantSpec | None:
    if node.requant is not None:
        r = node.requant
        return RequantSpec(r.mul, r.add, r.div, r.n_levels, r.signed)
    if node.op_type == "RequantShift":
        return RequantSpec(
            node.inputs[1],
            node.inputs[2],
            int(node.attr("div")),
            int(node.attr("n_levels_out")),
            bool(node.attr("signed", 1)),
        )
    return None


def abs_bound(ctx: StepContext, tensor: str) -> int:
    """Largest magnitude `tensor` can hold: from a constant's data, else from its dtype."""
    t = ctx.graph.tensor(tensor)
    if t.data is not None:
        return int(abs(t.data).max()) if t.data.size else 0
    return max(abs(t.dtype.min), abs(t.dtype.max))


def wide_flag(ctx: StepContext, rq: RequantSpec, acc_bound: int | None) -> int:
    """1 unless acc * mul + add + div/2 provably stays inside int32 for every accumulator value."""
    if acc_bound is None:
        return 1
    worst = acc_bound * abs_bound(ctx, rq.mul) + abs_bound(ctx, rq.add) + rq.div // 2
    return 0 if worst < 2**31 - 1 else 1


def requant_fields(
    ctx: StepContext, rq: RequantSpec | None, dims4: Sequence[int | None], acc_bound: int | None = None
) -> RequantArgs | None:
    """The dt_requant_t of a call; dims4[k] = output dimension behind kernel index k (None: none)."""
    if rq is None:
        return None
    out_rank = len(ctx.out_box)
    out_start = [s for s, _ in ctx.out_box]
    ptrs = []
    strides_all = []
    for t in (rq.mul, rq.add):
        check_int32(ctx, t, "requant operand")
        v = ctx.view(t)
        ptr, st = broadcast_operand(v, out_start)
        ptrs.append(ptr)
        strides_all.append(tuple(st[d] if d is not None and d < out_rank else 0 for d in dims4))
    lo, hi = rq.lo_hi
    return RequantArgs(
        ptrs[0], ptrs[1], strides_all[0], strides_all[1], rq.shift, lo, hi, wide_flag(ctx, rq, acc_bound)
    )


def check_int32(ctx: StepContext, tensor: str, role: str) -> None:
    dt = ctx.graph.tensor(tensor).dtype
    if dt is not DType.INT32:
        raise EmitError(f"{ctx.what}: {role} {tensor} is {dt.value}; the kernels take int32")
