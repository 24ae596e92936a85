from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from deeploy_tiler.errors import HwSpecError
from deeploy_tiler.hw import (
    ComputeEngine,
    DmaEngine,
    HwSpec,
    MemoryLevel,
    list_bundled_specs,
    load_hw,
    parse_hw,
    parse_hw_yaml,
)
from deeploy_tiler.resources import hw_specs_dir

BUNDLED = ["rv32_mcu", "siracusa", "siracusa_neureka"]


def _raw(name: str) -> dict[str, Any]:
    data = yaml.safe_load((hw_specs_dir() / f"{name}.yaml").read_text())
    assert isinstance(data, dict)
    return data


def _entry(data: dict[str, Any], section: str, name: str) -> dict[str, Any]:
    return next(e for e in data[section] if e["name"] == name)


def _write(tmp_path: Path, data: Any, name: str = "spec.yaml") -> Path:
    f = tmp_path / name
    f.write_text(yaml.safe_dump(data, sort_keys=False))
    return f


def _models(spec: HwSpec) -> list[MemoryLevel | DmaEngine | ComputeEngine]:
    return [*spec.memories, *spec.dmas, *spec.engines]


# --- bundled specs ---------------------------------------------------------------------------------------


def test_bundled_spec_names() -> None:
    assert list_bundled_specs() == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_spec_loads_and_round_trips(name: str, tmp_path: Path) -> None:
    spec = load_hw(name)
    assert spec.name == name
    again = parse_hw_yaml(spec.to_yaml())
    assert again == spec
    assert hash(again) == hash(spec)
    # Through a file path as well, both as str and Path.
    f = tmp_path / f"{name}_copy.yaml"
    f.write_text(spec.to_yaml())
    assert load_hw(f) == spec
    assert load_hw(str(f)) == spec


@pytest.mark.parametrize("name", BUNDLED)
def test_every_figure_has_a_source_and_assumptions_are_defined(name: str) -> None:
    spec = load_hw(name)
    sources = [m.source for m in _models(spec)]
    sources += [e.npu.source for e in spec.engines if e.npu is not None]
    assert all(s.strip() for s in sources)
    defined = {a.split(":", 1)[0] for a in spec.assumptions}
    assert len(defined) == len(spec.assumptions), "assumption ids must be unique"
    # Every [A:x] tag in the sources and in the YAML comments names a listed assumption, and every
    # listed assumption is used somewhere.
    text = (hw_specs_dir() / f"{name}.yaml").read_text()
    used = set(re.findall(r"\[A:([a-z0-9_]+)\]", text))
    assert used <= defined, f"undefined assumption tags {used - defined}"
    assert defined <= used, f"assumptions never referenced {defined - used}"


def test_siracusa_figures_match_hardware_doc() -> None:
    spec = load_hw("siracusa")
    l1, l2, l3 = spec.memory("L1"), spec.memory("L2"), spec.memory("L3")
    assert (l1.size_bytes, l1.banks, l1.read_latency_cycles) == (256 * 1024, 16, 1)
    assert l1.default_budget_bytes == 64_000 == spec.l1_budget_default()
    assert l1.reserved_bytes == 8_000 + 8 * 3_800
    assert (l2.size_bytes, l2.default_budget_bytes) == (2 * 1024 * 1024, 1_024_000)
    assert l3.size_bytes == 16_000_000 and l3.budget_bytes == l3.usable_bytes == 16_000_000
    dma = spec.dma("L2", "L1")
    assert (dma.bandwidth_bytes_per_cycle, dma.setup_latency_cycles, dma.max_dims, dma.channels) == (
        8.0,
        10,
        2,
        8,
    )
    # The published trace: 16 KiB in 2,037 cycles; the model is within 2 %.
    assert abs(dma.transfer_cycles(16 * 1024) - 2037) / 2037 < 0.02
    cl = spec.cluster_engine
    assert (cl.name, cl.cores, cl.reads_levels) == ("cluster", 8, ("L1",))
    assert cl.peak_macs_per_cycle["int8"] == 32.0 and cl.effective_macs_per_cycle["int8"] == 15.5
    assert not spec.has_npu and spec.npu_engine is None
    assert spec.clock_hz == 360_000_000 and spec.energy_pj_per_cycle == pytest.approx(0.332 / 360e6 * 1e12, 1e-3)
    assert any(a.startswith("l3_bw:") for a in spec.assumptions)


def test_siracusa_neureka_npu_rules() -> None:
    spec = load_hw("siracusa_neureka")
    base = load_hw("siracusa")
    # Everything of the cluster-only spec is unchanged.
    assert spec.memories[:3] == base.memories and spec.dmas == base.dmas
    assert spec.cluster_engine == base.cluster_engine
    assert spec.has_npu
    npu_engine = spec.npu_engine
    assert npu_engine is not None and npu_engine is spec.engine("neureka")
    rules = npu_engine.npu
    assert rules is not None
    assert rules.kernel_sizes == (1, 3) and rules.depthwise_kernel_sizes == (3,)
    assert (rules.pe_array_h, rules.pe_array_w, rules.output_channels_per_pass) == (6, 6, 32)
    assert (rules.input_channels_per_pass_1x1, rules.input_channels_per_pass_3x3) == (32, 28)
    assert (rules.max_stride, rules.weight_bits, rules.activation_bits) == (1, 8, 8)
    assert rules.weight_memory_level == "WMEM" and "WMEM" in npu_engine.reads_levels
    assert rules.task_setup_cycles == npu_engine.call_overhead_cycles
    wmem = spec.memory("WMEM")
    assert wmem.size_bytes == 4 * 1024 * 1024 and wmem.weights_only
    assert wmem.port_bandwidth_bytes_per_cycle == 256 / 8
    assert npu_engine.supports("Conv") and npu_engine.supports("Gemm") and not npu_engine.supports("Softmax")
    assert npu_engine.elementwise_ops_per_cycle is None


def test_rv32_mcu_is_a_small_single_core() -> None:
    spec = load_hw("rv32_mcu")
    cpu = spec.cluster_engine
    assert cpu.cores == 1 and cpu.peak_macs_per_cycle["int8"] == 0.5
    assert spec.memory("L1").size_bytes == 32 * 1024 and spec.memory("L2").size_bytes == 256 * 1024
    assert spec.l1_budget_default() == 32 * 1024 - spec.memory("L1").reserved_bytes
    assert not spec.has_npu and spec.energy_pj_per_cycle is None
    # A generic part: every model's source points at a named assumption.
    assert all("[A:" in m.source for m in _models(spec))


# --- lookups ---------------------------------------------------------------------------------------------


def test_memory_and_engine_lookup_errors_name_known_entries() -> None:
    spec = load_hw("siracusa")
    with pytest.raises(HwSpecError, match=r"unknown memory level 'L4'; known: L1, L2, L3") as e:
        spec.memory("L4")
    assert e.value.field == "memories.L4"
    with pytest.raises(HwSpecError, match=r"unknown compute engine 'neureka'; known: cluster") as e:
        spec.engine("neureka")
    assert e.value.field == "engines.neureka"


def test_dma_lookup_both_directions_only_if_bidirectional() -> None:
    spec = load_hw("siracusa")
    assert spec.dma("L2", "L1").name == spec.dma("L1", "L2").name == "cluster_dma"
    assert spec.dma("L2", "L3").name == "l3_dma"
    with pytest.raises(HwSpecError, match=r"no DMA copies L1 -> L3; DMAs: cluster_dma: L2<->L1"):
        spec.dma("L1", "L3")
    one_way = spec.with_overrides({"dmas.cluster_dma.bidirectional": False})
    assert one_way.dma("L2", "L1").name == "cluster_dma"
    with pytest.raises(HwSpecError, match=r"cluster_dma: L2->L1"):
        one_way.dma("L1", "L2")


def test_engine_rates_and_op_support() -> None:
    spec = load_hw("siracusa_neureka")
    cl, npu = spec.engine("cluster"), spec.engine("neureka")
    assert cl.supports("iSoftmax") and cl.supports("Conv")
    assert cl.macs_per_cycle("int8") == 15.5
    assert cl.macs_per_cycle("int8", effective=False) == 32.0
    assert cl.macs_per_cycle("uint8") == 15.5  # unsigned falls back to its signed twin
    assert cl.macs_per_cycle("int32") == 8.0  # no achieved rate: the peak
    assert cl.macs_per_cycle("int64") is None
    assert npu.macs_per_cycle("int8") == 1100.0


def test_dma_transfer_cycles() -> None:
    dma = load_hw("siracusa").dma("L2", "L1")
    assert dma.transfer_cycles(0) == 10 + 2
    assert dma.transfer_cycles(800, rows=10) == 10 + 2 * 10 + 100
    with pytest.raises(ValueError, match="rows >= 1"):
        dma.transfer_cycles(8, rows=0)


def test_models_are_frozen_and_hashable() -> None:
    spec = load_hw("siracusa")
    with pytest.raises(ValidationError, match="frozen"):
        spec.clock_hz = 1  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        spec.memories[0].size_bytes = 1  # type: ignore[misc]
    assert len({spec, load_hw("siracusa"), load_hw("siracusa_neureka")}) == 2


# --- overrides -------------------------------------------------------------------------------------------


def test_overrides_apply_and_leave_the_original_alone() -> None:
    spec = load_hw("siracusa_neureka")
    new = spec.with_overrides(
        {
            "memories.L1.size_bytes": 128_000,
            "memories.L1.default_budget_bytes": 80_000,
            "clock_hz": 210e6,
            "energy_pj_per_cycle": 719.0,
            "dmas.cluster_dma.bandwidth_bytes_per_cycle": 4,
            "engines.neureka.npu.max_stride": 2,
            "engines.cluster.peak_macs_per_cycle.uint8": 32.0,  # a dict field takes new keys
            "engines.neureka.supported_ops.2": "Gemm",  # lists of plain values by index
        }
    )
    assert new.memory("L1").size_bytes == 128_000 and new.l1_budget_default() == 80_000
    assert new.clock_hz == 210_000_000 and isinstance(new.clock_hz, int)
    assert new.dma("L1", "L2").bandwidth_bytes_per_cycle == 4.0
    npu = new.engine("neureka").npu
    assert npu is not None and npu.max_stride == 2
    assert new.engine("cluster").peak_macs_per_cycle["uint8"] == 32.0
    assert new.engine("neureka").supported_ops == ("Conv", "Gemm", "Gemm")
    # The original is untouched and the rest of the spec is carried over.
    assert spec.memory("L1").size_bytes == 262_144 and spec.clock_hz == 360_000_000
    assert new.memory("WMEM") == spec.memory("WMEM") and new.assumptions == spec.assumptions
    assert spec.with_overrides({}) == spec


def test_override_a_whole_section() -> None:
    spec = load_hw("siracusa")
    l1 = spec.memory("L1").model_dump() | {"size_bytes": 131_072}
    assert spec.with_overrides({"memories.L1": l1}).memory("L1").size_bytes == 131_072


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"memories.L1.size_bytes": -1}, "memories.L1.size_bytes", r"greater than 0 \(got -1\)"),
        (
            {"memories.L1.size_bytes": 50_000},
            "memories.L1.default_budget_bytes",
            r"exceeds size_bytes - reserved",
        ),
        ({"memories.L1.alignment_bytes": 12}, "memories.L1.alignment_bytes", r"power of two, got 12"),
        ({"memories.L2.reserved_bytes": 2**21}, "memories.L2.reserved_bytes", r"less than size_bytes"),
        ({"clock_hz": 210e6 + 0.5}, "clock_hz", r"fractional part"),
        (
            {"dmas.cluster_dma.dst": "L7"},
            "dmas.cluster_dma.dst",
            r"unknown memory level 'L7'; known levels: L1",
        ),
        ({"dmas.cluster_dma.max_dims": 4}, "dmas.cluster_dma.max_dims", r"less than or equal to 3"),
        ({"engines.cluster.reads_levels": ["TCDM"]}, "engines.cluster.reads_levels", r"unknown memory level"),
        ({"engines.cluster.kind": "npu"}, "engines.cluster", r"kind 'npu' needs npu rules"),
        (
            {"engines.cluster.effective_macs_per_cycle.int8": 40.0},
            "engines.cluster.effective_macs_per_cycle",
            r"exceeds the peak 32.0",
        ),
        (
            {"engines.cluster.peak_macs_per_cycle.i8": 1.0},
            "engines.cluster.peak_macs_per_cycle",
            r"unknown dtype key",
        ),
        ({"memories.L2.name": "L1"}, "memories.L1", r"duplicate name 'L1'"),
    ],
)
def test_overrides_are_revalidated(overrides: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(HwSpecError, match=message) as e:
        load_hw("siracusa").with_overrides(overrides)
    assert e.value.field == field
    assert str(e.value).startswith("spec 'siracusa' with overrides: ")


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("memories.L9.size_bytes", r"memories has no entry 'L9'; entries: L1, L2, L3"),
        ("memories.L1.size", r"memories.L1 has no field 'size'; fields: name, size_bytes"),
        ("clock", r"<spec> has no field 'clock'"),
        ("engines.cluster.npu.max_stride", r"engines.cluster.npu is null"),
        ("clock_hz.value", r"clock_hz is a value"),
        ("engines.cluster.peak_macs_per_cycle.int64.x", r"has no key 'int64'"),
        ("engines.cluster.reads_levels.5", r"has no entry '5'; entries: 0..0"),
    ],
)
def test_unknown_override_path_names_the_path(path: str, message: str) -> None:
    with pytest.raises(HwSpecError, match=message) as e:
        load_hw("siracusa").with_overrides({path: 1})
    assert e.value.field == path
    assert repr(path) in str(e.value)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=-(2**20), max_value=2**20))
def test_l1_size_override_valid_exactly_when_budget_fits(size: int) -> None:
    spec = load_hw("siracusa")
    l1 = spec.memory("L1")
    fits = size - l1.reserved_bytes >= l1.budget_bytes
    if fits:
        assert spec.with_overrides({"memories.L1.size_bytes": size}).memory("L1").size_bytes == size
    else:
        with pytest.raises(HwSpecError) as e:
            spec.with_overrides({"memories.L1.size_bytes": size})
        assert e.value.field is not None and e.value.field.startswith("memories.L1.")


# --- bad inputs ------------------------------------------------------------------------------------------


def test_unknown_bundled_name_lists_known_ones() -> None:
    with pytest.raises(HwSpecError, match=r"unknown bundled hw spec 'siracusa2'; bundled specs: rv32_mcu, siracusa"):
        load_hw("siracusa2")


def test_missing_file(tmp_path: Path) -> None:
    f = tmp_path / "nope.yaml"
    with pytest.raises(HwSpecError, match=r"nope\.yaml: hw spec file not found") as e:
        load_hw(f)
    assert e.value.path == str(f)
    with pytest.raises(HwSpecError, match="not found"):
        load_hw("does/not/exist.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name: x\nmemories: [\n", r"invalid YAML"),
        ("name: a\nname: b\n", r"invalid YAML.*duplicate key 'name'"),
        ("- 1\n- 2\n", r"a hw spec must be a mapping, got list"),
        ("", r"a hw spec must be a mapping, got NoneType"),
    ],
)
def test_invalid_yaml(tmp_path: Path, text: str, message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(text)
    with pytest.raises(HwSpecError, match=message) as e:
        load_hw(f)
    assert e.value.path == str(f) and str(f) in str(e.value)


def _drop(section: str, name: str, key: str) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        del _entry(d, section, name)[key]

    return edit


def _set(section: str, name: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(d: dict[str, Any]) -> None:
        _entry(d, section, name)[key] = value

    return edit


def _drop_l3_dma(d: dict[str, Any]) -> None:
    d["dmas"] = [x for x in d["dmas"] if x["name"] != "l3_dma"]


def _no_cluster(d: dict[str, Any]) -> None:
    d["engines"] = [e for e in d["engines"] if e["kind"] != "cluster"]


@pytest.mark.parametrize(
    ("base", "edit", "field", "message"),
    [
        ("siracusa", _drop("memories", "L1", "size_bytes"), "memories.L1.size_bytes", r"Field required"),
        (
            "siracusa",
            _set("memories", "L2", "size_bytes", -5),
            "memories.L2.size_bytes",
            r"Input should be greater than 0 \(got -5\)",
        ),
        (
            "siracusa",
            _set("memories", "L1", "reserved_bytes", -1),
            "memories.L1.reserved_bytes",
            r"greater than or equal to 0",
        ),
        ("siracusa", _set("memories", "L1", "sizes_bytes", 4), "memories.L1.sizes_bytes", r"Extra inputs"),
        ("siracusa", _set("memories", "L1", "name", "L1.a"), "memories.0.name", r"should match pattern"),
        (
            "siracusa",
            _set("dmas", "cluster_dma", "src", "L4"),
            "dmas.cluster_dma.src",
            r"unknown memory level 'L4'; known levels: L1, L2, L3",
        ),
        (
            "siracusa",
            _set("dmas", "cluster_dma", "dst", "L2"),
            "dmas.cluster_dma",
            r"src and dst are both 'L2'",
        ),
        (
            "siracusa",
            _set("dmas", "l3_dma", "bandwidth_bytes_per_cycle", 0),
            "dmas.l3_dma.bandwidth_bytes_per_cycle",
            r"greater than or equal to 0\.001",
        ),
        ("siracusa", _drop("dmas", "l3_dma", "source"), "dmas.l3_dma.source", r"Field required"),
        (
            "siracusa",
            _set("engines", "cluster", "supported_ops", ["*", "Conv"]),
            "engines.cluster.supported_ops",
            r"must be the only entry",
        ),
        ("siracusa", _drop_l3_dma, "memories.L3", r"no engine reads it and no DMA links it"),
        ("siracusa", lambda d: d.__setitem__("clock_hz", 0), "clock_hz", r"greater than 0"),
        ("siracusa", lambda d: d.pop("engines"), "engines", r"Field required"),
        ("siracusa_neureka", _no_cluster, "engines", r"no engine of kind 'cluster'"),
        (
            "siracusa_neureka",
            _set("engines", "neureka", "writes_levels", ["L1", "WMEM"]),
            "engines.neureka.writes_levels",
            r"\['WMEM'\] are weights_only",
        ),
        (
            "siracusa_neureka",
            _set("engines", "neureka", "reads_levels", ["L1"]),
            "engines.neureka",
            r"npu.weight_memory_level 'WMEM' is not in reads_levels",
        ),
        (
            "siracusa_neureka",
            _set("engines", "neureka", "call_overhead_cycles", 10),
            "engines.neureka",
            r"task_setup_cycles \(150\) must equal call_overhead_cycles \(10\)",
        ),
        (
            "siracusa_neureka",
            _set("engines", "cluster", "npu", {"max_stride": 1}),
            "engines.cluster.npu.kernel_sizes",
            r"Field required",
        ),
    ],
)
def test_bad_spec_file_raises_one_error_naming_file_and_field(
    tmp_path: Path, base: str, edit: Callable[[dict[str, Any]], None], field: str, message: str
) -> None:
    data = copy.deepcopy(_raw(base))
    edit(data)
    f = _write(tmp_path, data)
    with pytest.raises(HwSpecError, match=message) as e:
        load_hw(f)
    assert e.value.field == field
    assert e.value.path == str(f)
    assert str(e.value).startswith(f"{f}: {field}: ") or str(e.value).startswith(f"{f}: {field}")


def test_several_field_errors_in_one_message(tmp_path: Path) -> None:
    data = _raw("siracusa")
    _entry(data, "memories", "L1")["size_bytes"] = 0
    _entry(data, "dmas", "cluster_dma")["channels"] = 0
    with pytest.raises(HwSpecError) as e:
        load_hw(_write(tmp_path, data))
    msg = str(e.value)
    assert "memories.L1.size_bytes: Input should be greater than 0" in msg
    assert "dmas.cluster_dma.channels: Input should be greater than or equal to 1" in msg
    assert e.value.field == "memories.L1.size_bytes"


def test_parse_hw_from_a_mapping_and_direct_construction_errors() -> None:
    data = _raw("rv32_mcu")
    assert parse_hw(data) == load_hw("rv32_mcu")
    data["memories"][0]["size_bytes"] = "lots"
    with pytest.raises(HwSpecError, match=r"^<data>: memories.L1.size_bytes: Input should be a valid integer"):
        parse_hw(data)


def test_bundled_name_must_match_file_stem(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import deeploy_tiler.hw.load as hw_mod

    data = _raw("siracusa")
    data["name"] = "other"
    _write(tmp_path, data, "siracusa.yaml")
    monkeypatch.setattr(hw_mod, "hw_specs_dir", lambda: tmp_path)
    assert hw_mod.list_bundled_specs() == ["siracusa"]
    with pytest.raises(HwSpecError, match=r"name: 'other' differs from the file stem 'siracusa'"):
        hw_mod.load_hw("siracusa")
