"""Plain-text summary of an `AllocationResult`."""

from __future__ import annotations

from .problem import AllocationResult

__all__ = ["summary_text"]


def _kib(b: int) -> str:
    return f"{b} B ({b / 1024:.1f} KiB)"


def summary_text(result: AllocationResult) -> str:
    """A few lines: outcome, peak against capacity and lower bound, strategy, time and effort."""
    r, st = result, result.stats
    cap = r.capacity
    lines = [
        f"allocation: {'fits' if r.solved else 'DOES NOT FIT'} ({st.status}), {len(r.offsets)} buffers",
        f"  peak        {_kib(r.peak)}" + (f" = {100 * r.peak / cap:.1f}% of capacity" if cap else ""),
        f"  capacity    {_kib(cap)}",
        f"  lower bound {_kib(r.lower_bound)}"
        + (" (peak is optimal)" if r.optimal else f" (gap {r.peak - r.lower_bound} B)"),
        f"  strategy    {r.strategy}" + (f" (tried {', '.join(st.attempts)})" if st.attempts else ""),
        f"  time        {st.seconds:.3f} s" + (f", {st.nodes} nodes, {st.backtracks} backtracks" if st.nodes else ""),
    ]
    if not r.solved and r.peak > cap:
        lines.append(f"  overflow    {r.peak - cap} B over capacity")
    if st.detail:
        lines.append(f"  note        {st.detail}")
    return "\n".join(lines)
