"""Checks at the door of every public function: argument types, physical ranges, writable output paths.

Each check raises `OptionError` naming the argument and the rule before any work starts, so a wrong call
is a one-line answer instead of a traceback from deep inside the solver.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .errors import OptionError
from .units import MAX_BYTES

__all__ = [
    "check_budget",
    "check_choice",
    "check_flag",
    "check_instance",
    "check_int",
    "check_options",
    "check_output_dir",
    "check_output_file",
]


# Integer options of the option dataclasses with a range narrower than [0, 2**31 - 1].
_INT_RANGES = {
    "workers": (1, 256),
    "grid_limit": (1, 10_000_000),
    "probing_level": (0, 10),
    "handover_cycles": (0, 10**9),
}
_MAX_SECONDS = 86_400.0  # a time limit of a day per solve


def _kind(value: Any) -> str:
    return type(value).__name__


def check_int(value: Any, name: str, *, lo: int | None = None, hi: int | None = None) -> int:
    """An int (not a bool, not a float) within [lo, hi]."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise OptionError(f"{name} must be an int, got {_kind(value)} {value!r}", field=name)
    if lo is not None and value < lo:
        raise OptionError(f"{name} must be >= {lo}, got {value}", field=name)
    if hi is not None and value > hi:
        raise OptionError(f"{name} must be <= {hi}, got {value}", field=name)
    return value


def check_budget(value: Any, name: str) -> int | None:
    """A memory budget: None (the spec's default) or a positive whole number of bytes up to `MAX_BYTES`."""
    if value is None:
        return None
    if isinstance(value, str):
        raise OptionError(
            f"{name} must be an int number of bytes, got the string {value!r} "
            "(parse it with deeploy_tiler.units.parse_bytes)",
            field=name,
        )
    return check_int(value, name, lo=1, hi=MAX_BYTES)


def check_flag(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise OptionError(f"{name} must be True or False, got {_kind(value)} {value!r}", field=name)
    return value


def check_choice(value: Any, name: str, *, optional: bool = False) -> str | None:
    """A string option (its allowed values are checked where they are known), or None if `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise OptionError(f"{name} must be a str, got {_kind(value)} {value!r}", field=name)
    return value


def check_instance(value: Any, name: str, *types: type) -> None:
    if not isinstance(value, types):
        want = " or ".join(t.__name__ for t in types)
        raise OptionError(f"{name} must be a {want}, got {_kind(value)}", field=name)


def check_options(cls: type[Any], options: Mapping[str, Any], what: str) -> Any:
    """An instance of the options dataclass `cls` from keyword options: unknown names and values of the
    wrong type are OptionErrors listing the known names."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(options) - set(fields))
    if unknown:
        raise OptionError(
            f"unknown {what} option(s) {', '.join(unknown)}; known: {', '.join(fields)}", field=unknown[0]
        )
    for key, value in options.items():
        default = fields[key].default
        if isinstance(default, bool):
            check_flag(value, key)
        elif isinstance(default, int):
            lo, hi = _INT_RANGES.get(key, (0, 2**31 - 1))
            check_int(value, key, lo=lo, hi=hi)
        elif isinstance(default, float) and (
            isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= _MAX_SECONDS
        ):
            raise OptionError(f"{key} must be a number in (0, {_MAX_SECONDS}], got {value!r}", field=key)
    try:
        return cls(**options)
    except (TypeError, ValueError) as e:
        raise OptionError(f"{what} options: {e}") from None


def _first_existing(p: Path) -> Path:
    """The path itself or its nearest existing ancestor."""
    q = p
    while not q.exists() and q != q.parent:
        q = q.parent
    return q


def _check_below(p: Path, name: str) -> None:
    base = _first_existing(p.parent if not p.exists() else p)
    if not base.is_dir():
        raise OptionError(f"{name}: {p} lies below {base}, which is not a folder", field=name, path=str(p))
    if not os.access(base, os.W_OK | os.X_OK):
        raise OptionError(f"{name}: {base} is not writable, cannot create {p}", field=name, path=str(p))


def check_output_file(path: Any, name: str) -> Path:
    """A file path that can be written: not a folder, not below a file, in a writable folder."""
    check_instance(path, name, str, os.PathLike)
    p = Path(path)
    if p.is_dir():
        raise OptionError(f"{name}: {p} is a folder, not a file", field=name, path=str(p))
    if p.exists() and not os.access(p, os.W_OK):
        raise OptionError(f"{name}: {p} is not writable", field=name, path=str(p))
    _check_below(p, name)
    if not p.parent.is_dir():
        raise OptionError(f"{name}: folder {p.parent} does not exist", field=name, path=str(p))
    return p


def check_output_dir(path: Any, name: str) -> Path:
    """A folder path that can be created or written into: not a file, not below a file, writable."""
    check_instance(path, name, str, os.PathLike)
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise OptionError(f"{name}: {p} is a file, not a folder", field=name, path=str(p))
    if p.is_dir():
        if not os.access(p, os.W_OK | os.X_OK):
            raise OptionError(f"{name}: folder {p} is not writable", field=name, path=str(p))
        return p
    _check_below(p, name)
    return p
