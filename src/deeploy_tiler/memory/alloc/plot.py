"""Memory-map figure of an allocation: time on x, address on y, one rectangle per buffer."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ...errors import AllocationError
from .problem import AllocationResult, Buffer

__all__ = ["memory_map_figure"]


def memory_map_figure(
    buffers: Sequence[Buffer],
    result: AllocationResult,
    path: str | Path,
    *,
    title: str | None = None,
    labels: bool | None = None,
) -> Path:
    """Write a PNG or SVG (chosen by the suffix of ``path``) and return its path.

    Uses matplotlib's Agg canvas directly (no pyplot, no global backend change). The dashed line is
    the capacity; buffers without an offset in ``result`` are skipped. ``labels`` defaults to showing
    buffer ids when there are at most 60 buffers.
    """
    p = Path(path)
    fmt = p.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise AllocationError(f"{p}: memory map figures are written as .png or .svg, not {p.suffix or 'no suffix'}")
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Rectangle

    fig = Figure(figsize=(10, 5.5), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    colors = matplotlib.colormaps["tab20"]
    placed = [b for b in buffers if b.id in result.offsets]
    show = labels if labels is not None else len(placed) <= 60
    t_lo = min((b.start for b in placed), default=0)
    t_hi = max((b.end for b in placed), default=1)
    for k, b in enumerate(placed):
        o = result.offsets[b.id]
        over = o + b.size > result.capacity
        ax.add_patch(
            Rectangle(
                (b.start, o),
                b.end - b.start,
                b.size,
                facecolor=colors(k % 20),
                edgecolor="red" if over else "black",
                linewidth=0.4,
                alpha=0.9,
            )
        )
        if show:
            ax.text(
                b.start + (b.end - b.start) / 2,
                o + b.size / 2,
                b.id,
                ha="center",
                va="center",
                fontsize=6,
                clip_on=True,
            )
    ax.axhline(result.capacity, color="red", linestyle="--", linewidth=1.0, label=f"capacity {result.capacity} B")
    ax.axhline(result.lower_bound, color="gray", linestyle=":", linewidth=0.8, label=f"max live {result.lower_bound} B")
    ax.set_xlim(t_lo, t_hi if t_hi > t_lo else t_lo + 1)
    ax.set_ylim(0, max(result.capacity, result.peak) * 1.04 or 1)
    ax.set_xlabel("time")
    ax.set_ylabel("address (bytes)")
    ax.set_title(
        title
        or f"{len(placed)} buffers, peak {result.peak} B of {result.capacity} B "
        f"({result.strategy}{'' if result.solved else ', does not fit'})"
    )
    ax.legend(loc="upper right", fontsize=7)
    fig.tight_layout()
    p.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(p, format=fmt)
    return p
