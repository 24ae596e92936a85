"""Loading specs: the bundled YAML files shipped in `hw/specs/` by name, or a user's YAML file by path.
YAML is read with duplicate keys rejected; every failure is a HwSpecError naming the file and field."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path
from typing import Any

import yaml

from ..errors import HwSpecError
from ..resources import hw_specs_dir
from .spec import HwSpec, parse_hw

__all__ = ["list_bundled_specs", "load_hw", "parse_hw_yaml"]


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate keys (PyYAML silently keeps the last one)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Hashable, Any]:
    seen: set[Hashable] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _one_line(e: yaml.YAMLError) -> str:
    """A YAML error on one line: where (line:column) and what, without PyYAML's multi-line excerpt."""
    mark = getattr(e, "problem_mark", None)
    problem = getattr(e, "problem", None) or str(e).splitlines()[0]
    context = getattr(e, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"{where}{problem}" + (f" ({context})" if context else "")


def parse_hw_yaml(text: str, *, source: str = "<yaml>", path: str | None = None) -> HwSpec:
    """Parse YAML text into a HwSpec; invalid YAML or fields raise HwSpecError naming `source`."""
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: no arbitrary objects
    except yaml.YAMLError as e:
        raise HwSpecError(f"{source}: invalid YAML: {_one_line(e)}", path=path) from None
    return parse_hw(data, source=source, path=path)


def _bundled_dir() -> Path:
    try:
        return hw_specs_dir()
    except FileNotFoundError as e:
        raise HwSpecError(f"bundled hw specs not found: {e}") from None


def list_bundled_specs() -> list[str]:
    """Names of the specs shipped with the package (file stems in the hw_specs folder), sorted."""
    return sorted(p.stem for p in _bundled_dir().glob("*.yaml"))


def _looks_like_path(s: str) -> bool:
    return "/" in s or "\\" in s or s.endswith((".yaml", ".yml"))


def load_hw(name_or_path: str | Path) -> HwSpec:
    """A bundled spec by name ('siracusa'), or a YAML file by path (a Path, or a string with a '/' or a
    .yaml / .yml suffix); a `@name` suffix applies the spec's calibration of that name ('siracusa@gvsoc').
    Every failure is a HwSpecError naming the file and field."""
    if not isinstance(name_or_path, str | Path):
        raise HwSpecError(f"a hw spec is a bundled name or a YAML path, got {type(name_or_path).__name__}")
    if isinstance(name_or_path, str) and "@" in name_or_path and not Path(name_or_path).exists():
        # `siracusa@gvsoc`: the spec with its calibration `gvsoc` applied (HwSpec.calibrated)
        base, _, calibration = name_or_path.rpartition("@")
        return load_hw(base).calibrated(calibration)
    if isinstance(name_or_path, str) and not _looks_like_path(name_or_path):
        known = list_bundled_specs()
        if name_or_path not in known:
            raise HwSpecError(
                f"unknown bundled hw spec {name_or_path!r}; bundled specs: {', '.join(known)} "
                "(or give a path to a .yaml file)",
                field="name",
            )
        file = _bundled_dir() / f"{name_or_path}.yaml"
        spec = _load_file(file)
        if spec.name != name_or_path:
            raise HwSpecError(
                f"{file}: name: {spec.name!r} differs from the file stem {name_or_path!r}",
                path=str(file),
                field="name",
            )
        return spec
    return _load_file(Path(name_or_path))


def _load_file(file: Path) -> HwSpec:
    where = str(file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HwSpecError(f"{where}: hw spec file not found", path=where) from None
    except (OSError, UnicodeDecodeError) as e:
        raise HwSpecError(f"{where}: cannot read hw spec: {e}", path=where) from None
    return parse_hw_yaml(text, source=where, path=where)
