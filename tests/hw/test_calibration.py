"""hw/calibration.py: calibrations recorded in a spec apply only on request, name their figures by dotted
path, and are written into a spec's YAML without touching the rest of the file."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from deeploy_tiler.errors import HwSpecError
from deeploy_tiler.hw import load_hw, parse_hw_yaml
from deeploy_tiler.hw.calibration import SpecCalibration, pick_calibration, replace_calibrations


def _record(name: str = "sim", overhead: float = 250.0) -> SpecCalibration:
    return SpecCalibration(
        name=name,
        source="synthetic: 12 nodes of a test",
        overrides={
            "engines.cluster.call_overhead_cycles": overhead,
            "engines.cluster.effective_macs_per_cycle.int8": 4.5,
        },
        nodes=12,
        median_error_before=0.4,
        median_error_after=0.1,
        ratio_before={"m@64000": 2.0},
        ratio_after={"m@64000": 1.05},
    )


def test_calibrated_applies_overrides_and_leaves_the_spec_alone() -> None:
    hw = load_hw("siracusa").model_copy(update={"calibrations": (_record(),)})
    cal = hw.calibrated("sim")
    assert cal.cluster_engine.call_overhead_cycles == 250
    assert cal.cluster_engine.macs_per_cycle("int8") == 4.5
    assert hw.cluster_engine.call_overhead_cycles == load_hw("siracusa").cluster_engine.call_overhead_cycles
    with pytest.raises(HwSpecError, match="no calibration 'nope'; calibrations: sim"):
        hw.calibrated("nope")


def test_pick_names_the_spec_when_it_has_none() -> None:
    with pytest.raises(HwSpecError, match="spec 'x' has no calibration 'a'; calibrations: none"):
        pick_calibration((), "a", "x")
    assert (
        pick_calibration((_record("a"), _record("b", 9.0)), "b", "x").overrides["engines.cluster.call_overhead_cycles"]
        == 9.0
    )


def test_bad_records_are_rejected() -> None:
    with pytest.raises(ValidationError, match="dotted field path"):
        SpecCalibration(**{**_record().model_dump(), "overrides": {"engines..x": 1.0}})
    with pytest.raises(ValidationError):
        SpecCalibration(**{**_record().model_dump(), "nodes": 0})
    # a path naming no field of the spec fails when applied, as a typed spec error naming it
    hw = load_hw("siracusa").model_copy(
        update={
            "calibrations": (SpecCalibration(**{**_record().model_dump(), "overrides": {"engines.cluster.nope": 1.0}}),)
        }
    )
    with pytest.raises(HwSpecError, match="nope"):
        hw.calibrated("sim")


def test_replace_calibrations_keeps_the_file_and_round_trips(tmp_path: object) -> None:
    text = load_hw("siracusa").to_yaml()
    base = "".join(
        ln for ln in text.split("calibrations:")[0].splitlines(keepends=True) if not ln.startswith("energy_pj")
    )
    once = replace_calibrations(base + "# a comment kept\n", (_record(),))
    assert once.startswith(base + "# a comment kept\n")
    spec = parse_hw_yaml(once)
    assert spec.calibrations == (_record(),)
    # replacing again swaps the block, whatever follows it stays
    twice = replace_calibrations(once + "energy_pj_per_cycle: 900.0\n", (_record("b", 300.0),))
    assert twice.endswith("energy_pj_per_cycle: 900.0\n")
    spec2 = parse_hw_yaml(twice)
    assert [c.name for c in spec2.calibrations] == ["b"] and spec2.energy_pj_per_cycle == 900.0
    assert twice.startswith(base)


def test_load_hw_at_suffix_selects_a_calibration(tmp_path: object) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    spec_file = folder / "mine.yaml"
    spec_file.write_text(
        replace_calibrations(load_hw("siracusa").to_yaml().replace("name: siracusa", "name: mine"), (_record(),))
    )
    got = load_hw(f"{spec_file}@sim")
    assert got.cluster_engine.call_overhead_cycles == 250
    with pytest.raises(HwSpecError, match="no calibration 'other'"):
        load_hw(f"{spec_file}@other")


def test_bundled_siracusa_gvsoc_calibration() -> None:
    """The recorded GVSoC fit: applied only on request, and its plans model GVSoC's cycles closer than the
    published figures did, on every recorded model x budget."""
    import math

    hw = load_hw("siracusa")
    cal = pick_calibration(hw.calibrations, "gvsoc", "siracusa")
    assert "GVSoC" in cal.source and cal.nodes > 100
    assert hw.cluster_engine.call_overhead_cycles == 100  # the spec's own figure is untouched
    fitted = load_hw("siracusa@gvsoc")
    assert fitted.cluster_engine.call_overhead_cycles == cal.overrides["engines.cluster.call_overhead_cycles"]
    assert (
        fitted.dma("L2", "L1").bandwidth_bytes_per_cycle == cal.overrides["dmas.cluster_dma.bandwidth_bytes_per_cycle"]
    )
    assert cal.median_error_after < cal.median_error_before
    assert set(cal.ratio_after) == set(cal.ratio_before) and cal.ratio_before
    for key, before in cal.ratio_before.items():
        assert abs(math.log(cal.ratio_after[key])) < abs(math.log(before)), key
