"""hw.load: bundled specs by name, YAML files by path, and the typed error of each way loading fails."""

from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler.errors import HwSpecError
from deeploy_tiler.hw.load import list_bundled_specs, load_hw, parse_hw_yaml


def test_bundled_specs_listed_sorted_and_each_loads_under_its_name() -> None:
    names = list_bundled_specs()
    assert names == sorted(names) and "siracusa" in names
    for name in names:
        assert load_hw(name).name == name


def test_to_yaml_round_trips_through_a_file(tmp_path: Path) -> None:
    spec = load_hw("siracusa")
    file = tmp_path / "mine.yaml"
    file.write_text(spec.to_yaml())
    assert load_hw(file) == spec
    assert load_hw(str(file)) == spec  # a string with a .yaml suffix is a path


def test_unknown_bundled_name_lists_the_bundled_ones() -> None:
    with pytest.raises(HwSpecError, match=r"unknown bundled hw spec 'siracuse'; bundled specs: .*siracusa") as info:
        load_hw("siracuse")
    assert info.value.field == "name"


def test_not_a_name_or_path() -> None:
    with pytest.raises(HwSpecError, match=r"a hw spec is a bundled name or a YAML path, got int"):
        load_hw(3)  # type: ignore[arg-type]


def test_missing_file(tmp_path: Path) -> None:
    file = tmp_path / "absent.yaml"
    with pytest.raises(HwSpecError, match=r"absent\.yaml: hw spec file not found") as info:
        load_hw(file)
    assert info.value.path == str(file)


def test_undecodable_file(tmp_path: Path) -> None:
    file = tmp_path / "bin.yaml"
    file.write_bytes(b"\xff\xfe\x00name")
    with pytest.raises(HwSpecError, match=r"bin\.yaml: cannot read hw spec"):
        load_hw(file)


def test_duplicate_key_is_rejected_with_its_line() -> None:
    with pytest.raises(HwSpecError, match=r"^src\.yaml: invalid YAML: line 2, column 1: duplicate key 'name'"):
        parse_hw_yaml("name: a\nname: b\n", source="src.yaml")


def test_broken_yaml_is_one_line() -> None:
    with pytest.raises(HwSpecError, match=r"^x: invalid YAML: line \d+, column \d+: ") as info:
        parse_hw_yaml("a: [1, 2\nb: 3\n", source="x")
    assert "\n" not in str(info.value)


def test_yaml_that_is_not_a_mapping() -> None:
    with pytest.raises(HwSpecError, match=r"^x: a hw spec must be a mapping, got list"):
        parse_hw_yaml("- 1\n- 2\n", source="x")


def test_unsafe_tags_are_not_constructed() -> None:
    with pytest.raises(HwSpecError, match=r"invalid YAML"):
        parse_hw_yaml("!!python/object/apply:os.system ['true']\n", source="x")
