"""Dotted field paths into a spec (`memories.L1.size_bytes`): setting one in a dumped spec, and naming the
field of a validation error the same way."""

from __future__ import annotations

import re
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from ..errors import HwSpecError

__all__ = ["convert_error", "dotted_loc", "set_dotted"]

# Names are path segments in overrides and error messages, so no dots or spaces.
NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_-]*$"
_NAME_RE = re.compile(NAME_PATTERN)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    # The pydantic model inside an annotation such as tuple[MemoryLevel, ...] or NpuRules | None.
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def set_dotted(data: dict[str, Any], path: str, value: Any, root: type[BaseModel]) -> None:
    """Set `path` (dotted; list entries by name, or index for lists of plain values) in `data`, the dump
    of a `root` model, checking each segment against the model's fields."""
    parts = path.split(".")
    node: Any = data
    model: type[BaseModel] | None = root
    for i, seg in enumerate(parts):
        here = ".".join(parts[:i]) or "<spec>"
        last = i == len(parts) - 1
        if isinstance(node, list):
            named = [x.get("name") if isinstance(x, dict) else None for x in node]
            if seg in named:
                idx = named.index(seg)
            elif seg.isdigit() and int(seg) < len(node) and not any(named):
                idx = int(seg)
            else:
                choices = ", ".join(str(n) for n in named) if any(named) else f"0..{len(node) - 1}"
                raise HwSpecError(f"override {path!r}: {here} has no entry {seg!r}; entries: {choices}", field=path)
            if last:
                node[idx] = value
                return
            node = node[idx]  # a list's items share the list's model
        elif isinstance(node, dict) and model is not None:
            if seg not in model.model_fields:
                raise HwSpecError(
                    f"override {path!r}: {here} has no field {seg!r}; fields: {', '.join(model.model_fields)}",
                    field=path,
                )
            if last:
                node[seg] = value
                return
            model = _model_in(model.model_fields[seg].annotation)
            node = node[seg]
        elif isinstance(node, dict):  # a plain mapping field such as peak_macs_per_cycle
            if last:
                node[seg] = value
                return
            if seg not in node:
                raise HwSpecError(f"override {path!r}: {here} has no key {seg!r}", field=path)
            node = node[seg]
        elif node is None:
            raise HwSpecError(f"override {path!r}: {here} is null, nothing to set inside it", field=path)
        else:
            raise HwSpecError(f"override {path!r}: {here} is a value ({node!r}), not a section", field=path)


def dotted_loc(loc: tuple[int | str, ...], data: Any) -> str:
    """A pydantic error location as overrides address it: memories.0.size_bytes -> memories.L1.size_bytes."""
    # Name list entries the way overrides address them: memories.0.size_bytes -> memories.L1.size_bytes.
    out: list[str] = []
    node = data
    for seg in loc:
        label = str(seg)
        if isinstance(seg, int) and isinstance(node, list) and 0 <= seg < len(node):
            node = node[seg]
            name = node.get("name") if isinstance(node, dict) else None
            if isinstance(name, str) and _NAME_RE.match(name):
                label = name
        else:
            node = node.get(seg) if isinstance(node, dict) else None
        out.append(label)
    return ".".join(out)


def convert_error(err: ValidationError, data: Any, where: str, path: str | None) -> HwSpecError:
    """One HwSpecError for every problem pydantic found, each at its dotted field path."""
    problems: list[str] = []
    fields: list[str] = []
    for e in err.errors(include_url=False):
        loc = dotted_loc(tuple(e["loc"]), data)
        msg = str(e["msg"]).removeprefix("Value error, ")
        given = e.get("input")
        # Our own value errors already quote the value; pydantic's built-in ones do not.
        if e["type"] not in ("missing", "value_error") and isinstance(given, (int, float, str, bool)):
            msg += f" (got {given!r})"
        problems.append(f"{loc}: {msg}" if loc else msg)
        fields.append(loc)
    return HwSpecError(f"{where}: " + "; ".join(problems), path=path, field=fields[0] if fields else None)
