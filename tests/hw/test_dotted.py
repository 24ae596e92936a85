"""hw.dotted: setting a dotted path in a dumped spec (list entries by name / index, errors), and naming
validation errors by the same paths."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from deeploy_tiler.errors import HwSpecError
from deeploy_tiler.hw.dotted import convert_error, dotted_loc, set_dotted
from deeploy_tiler.hw.load import load_hw
from deeploy_tiler.hw.spec import HwSpec


@pytest.fixture
def data() -> dict[str, Any]:
    return load_hw("siracusa").model_dump(mode="json")


def test_list_entry_by_name(data: dict[str, Any]) -> None:
    set_dotted(data, "memories.L2.size_bytes", 12345, HwSpec)
    by_name = {m["name"]: m for m in data["memories"]}
    assert by_name["L2"]["size_bytes"] == 12345
    assert by_name["L1"]["size_bytes"] == 262144  # untouched


def test_whole_list_entry_replaced_by_name(data: dict[str, Any]) -> None:
    entry = dict(data["dmas"][1], bandwidth_bytes_per_cycle=2.0)
    set_dotted(data, "dmas.l3_dma", entry, HwSpec)
    assert data["dmas"][1] is entry


def test_plain_value_list_by_index(data: dict[str, Any]) -> None:
    set_dotted(data, "assumptions.1", "changed", HwSpec)
    assert data["assumptions"][1] == "changed"
    set_dotted(data, "engines.cluster.reads_levels.0", "L2", HwSpec)
    assert data["engines"][0]["reads_levels"] == ["L2"]


def test_plain_mapping_field_accepts_new_keys(data: dict[str, Any]) -> None:
    set_dotted(data, "engines.cluster.peak_macs_per_cycle.int64", 2.0, HwSpec)
    assert data["engines"][0]["peak_macs_per_cycle"]["int64"] == 2.0


def test_unknown_entry_lists_the_names(data: dict[str, Any]) -> None:
    with pytest.raises(HwSpecError, match=r"memories has no entry 'L9'; entries: L1, L2, L3") as info:
        set_dotted(data, "memories.L9.size_bytes", 1, HwSpec)
    assert info.value.field == "memories.L9.size_bytes"


def test_index_into_a_named_list_is_refused(data: dict[str, Any]) -> None:
    # Named lists are addressed by name only, so an index cannot silently pick the wrong entry.
    with pytest.raises(HwSpecError, match=r"has no entry '0'; entries: L1, L2, L3"):
        set_dotted(data, "memories.0.size_bytes", 1, HwSpec)


def test_index_out_of_range_names_the_range(data: dict[str, Any]) -> None:
    n = len(data["assumptions"])
    with pytest.raises(HwSpecError, match=rf"assumptions has no entry '{n}'; entries: 0\.\.{n - 1}"):
        set_dotted(data, f"assumptions.{n}", "x", HwSpec)


def test_unknown_field_lists_the_fields(data: dict[str, Any]) -> None:
    with pytest.raises(HwSpecError, match=r"memories\.L1 has no field 'size'; fields: name, size_bytes"):
        set_dotted(data, "memories.L1.size", 1, HwSpec)
    with pytest.raises(HwSpecError, match=r"override 'clok_hz': <spec> has no field 'clok_hz'"):
        set_dotted(data, "clok_hz", 1, HwSpec)


def test_missing_key_inside_a_mapping(data: dict[str, Any]) -> None:
    with pytest.raises(HwSpecError, match=r"peak_macs_per_cycle has no key 'int4'"):
        set_dotted(data, "engines.cluster.peak_macs_per_cycle.int4.x", 1, HwSpec)


def test_inside_a_null_or_a_value(data: dict[str, Any]) -> None:
    with pytest.raises(HwSpecError, match=r"engines\.cluster\.npu is null, nothing to set inside it"):
        set_dotted(data, "engines.cluster.npu.pe_h", 1, HwSpec)
    with pytest.raises(HwSpecError, match=r"clock_hz is a value \(360000000\), not a section"):
        set_dotted(data, "clock_hz.x", 1, HwSpec)


def test_dotted_loc_names_list_entries(data: dict[str, Any]) -> None:
    assert dotted_loc(("memories", 0, "size_bytes"), data) == "memories.L1.size_bytes"
    assert dotted_loc(("engines", 0, "peak_macs_per_cycle", "int8"), data) == "engines.cluster.peak_macs_per_cycle.int8"
    assert dotted_loc(("assumptions", 2), data) == "assumptions.2"  # plain strings keep the index
    assert dotted_loc(("memories", 7, "x"), data) == "memories.7.x"  # out of range: as given


def test_dotted_loc_keeps_the_index_for_a_name_that_is_no_path_segment() -> None:
    doc = {"memories": [{"name": "L 1"}, {"name": 5}]}
    assert dotted_loc(("memories", 0, "a"), doc) == "memories.0.a"
    assert dotted_loc(("memories", 1, "a"), doc) == "memories.1.a"


def test_convert_error_names_every_field_and_quotes_builtin_inputs(data: dict[str, Any]) -> None:
    data["memories"][1]["size_bytes"] = -5
    del data["clock_hz"]
    with pytest.raises(ValidationError) as info:
        HwSpec.model_validate(data)
    err = convert_error(info.value, data, "here.yaml", "here.yaml")
    text = str(err)
    assert text.startswith("here.yaml: ")
    assert "clock_hz: Field required" in text and "(got" not in text.split("clock_hz: ")[1].split(";")[0]
    assert "memories.L2.size_bytes: " in text and "(got -5)" in text
    assert err.path == "here.yaml"
    assert err.field in ("clock_hz", "memories.L2.size_bytes")
