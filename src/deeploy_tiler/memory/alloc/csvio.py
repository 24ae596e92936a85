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
_OPTIONAL = ("offset",)
# Times and sizes beyond this are not a buffer of any real memory (and would overflow the CP-SAT models).
_MAX_VALUE = 2**40


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
        value = int(str(text).strip())
    except ValueError:
        raise AllocationError(
            f"{path}:{line}: buffer {bid!r}: {field} {text!r} is not an integer", buffer=bid
        ) from None
    if not 0 <= value <= _MAX_VALUE:
        raise AllocationError(f"{path}:{line}: buffer {bid!r}: {field} {value} is outside [0, 2**40]", buffer=bid)
    return value


def read_csv(path: str | Path) -> CsvProblem:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise AllocationError(f"{p}: cannot read: {e.strerror or e}") from None
    except UnicodeDecodeError as e:
        raise AllocationError(f"{p}: not a UTF-8 text file (byte {e.start}: {e.reason})") from None
    rows = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (rows.fieldnames or [])]
    missing = [h for h in _REQUIRED if h not in header]
    if missing:
        raise AllocationError(f"{p}: header lacks column(s) {', '.join(missing)} (got {', '.join(header)})")
    extra = [h for h in header if h not in _REQUIRED + _OPTIONAL]
    if extra or len(set(header)) != len(header):
        raise AllocationError(
            f"{p}: header {', '.join(header)}: unknown or repeated column(s) {', '.join(extra) or '(repeated)'}; "
            f"the columns are {', '.join(_REQUIRED)} and optionally {', '.join(_OPTIONAL)}"
        )
    rows.fieldnames = header
    has_off = "offset" in header
    buffers: list[Buffer] = []
    offsets: dict[str, int] = {}
    seen: set[str] = set()
    for line, r in enumerate(rows, start=2):
        bid = str(r["id"]).strip()
        if None in r or any(v is None for v in r.values()):
            raise AllocationError(f"{p}:{line}: buffer {bid!r}: {len(header)} columns expected", buffer=bid)
        if not bid or bid in seen:
            raise AllocationError(f"{p}:{line}: buffer id {bid!r} is empty or repeated", buffer=bid)
        seen.add(bid)
        lo = _int(p, line, "lower", r["lower"], bid)
        up = _int(p, line, "upper", r["upper"], bid)
        size = _int(p, line, "size", r["size"], bid)
        if up <= lo:
            raise AllocationError(
                f"{p}:{line}: buffer {bid!r}: lifetime [{lo}, {up}) is empty or negative (upper must exceed lower)",
                buffer=bid,
            )
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
