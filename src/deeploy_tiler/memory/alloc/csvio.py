"""Read and write the MiniMalloc CSV format.

Header ``id,lower,upper,size`` (optionally a 5th column ``offset``, as solvers write it), one buffer per
row, lifetime ``[lower, upper)``. The capacity is not in the file; MiniMalloc's benchmark files carry it
in the name (``A.1048576.csv``), which `read_csv` parses when present.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ...errors import AllocationError
from .problem import Buffer

__all__ = ["CsvProblem", "capacity_from_name", "read_csv", "write_csv"]

_REQUIRED = ("id", "lower", "upper", "size")


@dataclass(frozen=True, slots=True)
class CsvProblem:
    buffers: tuple[Buffer, ...]
    capacity: int | None
    offsets: dict[str, int] | None  # present iff the file has an ``offset`` column


def capacity_from_name(path: str | Path) -> int | None:
    """``.../A.1048576.csv`` -> 1048576; None when the name carries no number before ``.csv``."""
    m = re.search(r"\.(\d+)\.csv$", Path(path).name)
    return int(m.group(1)) if m else None


def _int(path: Path, line: int, field: str, text: str | None, bid: str) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        raise AllocationError(
            f"{path}:{line}: buffer {bid!r}: {field} {text!r} is not an integer", buffer=bid
        ) from None


def read_csv(path: str | Path) -> CsvProblem:
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise AllocationError(f"{p}: cannot read: {e.strerror or e}") from None
    rows = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (rows.fieldnames or [])]
    missing = [h for h in _REQUIRED if h not in header]
    if missing:
        raise AllocationError(f"{p}: header lacks column(s) {', '.join(missing)} (got {', '.join(header)})")
    rows.fieldnames = header
    has_off = "offset" in header
    buffers: list[Buffer] = []
    offsets: dict[str, int] = {}
    for line, r in enumerate(rows, start=2):
        bid = str(r["id"]).strip()
        lo = _int(p, line, "lower", r["lower"], bid)
        up = _int(p, line, "upper", r["upper"], bid)
        size = _int(p, line, "size", r["size"], bid)
        buffers.append(Buffer(bid, lo, up, size))
        if has_off:
            offsets[bid] = _int(p, line, "offset", r["offset"], bid)
    return CsvProblem(tuple(buffers), capacity_from_name(p), offsets if has_off else None)


def write_csv(path: str | Path, buffers: Sequence[Buffer], offsets: Mapping[str, int] | None = None) -> None:
    """Write ``buffers`` (and their offsets as a 5th column when given) in MiniMalloc's format."""
    p = Path(path)
    with p.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow([*_REQUIRED, "offset"] if offsets is not None else list(_REQUIRED))
        for b in buffers:
            row: list[object] = [b.id, b.start, b.end, b.size]
            if offsets is not None:
                row.append(offsets[b.id])
            w.writerow(row)
