"""Calibrations recorded in a spec: figures fitted to measurements, kept beside the published ones.

A spec's own figures stay what the sources say (its plans, goldens and published comparisons rest on
them); a calibration is a named set of dotted overrides with where it comes from (simulator and commit,
models, budgets, number of nodes) and how well the model met the measurements before and after the fit.
`HwSpec.calibrated(name)` (or `load_hw("siracusa@gvsoc")`) applies one.
"""

from __future__ import annotations

import json

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import HwSpecError
from .dotted import NAME_PATTERN

__all__ = ["SpecCalibration", "pick_calibration", "replace_calibrations"]


class SpecCalibration(BaseModel):
    """One named calibration of a spec's figures."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="what `calibrated(name)` and `spec@name` select")
    source: str = Field(min_length=1, description="provenance: simulator and commit, models, budgets, nodes")
    overrides: dict[str, float] = Field(min_length=1, description="dotted spec paths -> fitted values")
    nodes: int = Field(ge=1, description="measured nodes the fit used")
    median_error_before: float = Field(ge=0, description="median |modeled - measured| / measured, spec as is")
    median_error_after: float = Field(ge=0, description="the same with the fitted figures")
    ratio_before: dict[str, float] = Field(default_factory=dict, description="model -> measured / modeled, as is")
    ratio_after: dict[str, float] = Field(default_factory=dict, description="model -> measured / modeled, fitted")

    @field_validator("overrides")
    @classmethod
    def _dotted_paths(cls, v: dict[str, float]) -> dict[str, float]:
        for path in v:
            if not path or any(not seg for seg in path.split(".")):
                raise ValueError(f"override path {path!r} is not a dotted field path")
        return v

    def __hash__(self) -> int:
        return hash((type(self).__name__, json.dumps(self.model_dump(mode="json"), sort_keys=True)))


def pick_calibration(calibrations: tuple[SpecCalibration, ...], name: str, spec: str) -> SpecCalibration:
    """The calibration called `name`, else a HwSpecError listing the spec's calibrations."""
    for cal in calibrations:
        if cal.name == name:
            return cal
    known = ", ".join(c.name for c in calibrations) or "none"
    raise HwSpecError(f"spec {spec!r} has no calibration {name!r}; calibrations: {known}", field="calibrations")


def replace_calibrations(yaml_text: str, records: tuple[SpecCalibration, ...]) -> str:
    """A spec's YAML text with its top-level `calibrations:` block replaced by `records` (appended when it
    has none); the rest of the file, comments and source tags included, stays byte for byte."""
    lines = yaml_text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.startswith("calibrations:")), len(lines))
    end = next(
        (i for i in range(start + 1, len(lines)) if lines[i][:1].isalpha()),  # the next top-level key
        len(lines),
    )
    head, tail = "".join(lines[:start]), "".join(lines[end:])
    if head and not head.endswith("\n"):
        head += "\n"
    block = yaml.safe_dump({"calibrations": [r.model_dump(mode="json") for r in records]}, sort_keys=False, width=110)
    return head + block + tail
