"""Spec fields within physical ranges: sizes, rates and counts that would overflow the CP-SAT models are
HwSpecErrors naming the dotted field; YAML syntax errors fit on one line."""

from __future__ import annotations

import pytest

from deeploy_tiler.errors import HwSpecError
from deeploy_tiler.hw import load_hw, parse_hw_yaml


@pytest.mark.parametrize(
    ("override", "match"),
    [
        (
            {"memories.L2.size_bytes": 10**30},
            r"memories\.L2\.size_bytes: Input should be less than or equal to 2?1099511627776",
        ),
        (
            {"dmas.cluster_dma.bandwidth_bytes_per_cycle": 1e308},
            r"dmas\.cluster_dma\.bandwidth_bytes_per_cycle: .*1000000",
        ),
        ({"engines.cluster.cores": 10**12}, r"engines\.cluster\.cores: Input should be less than or equal to 4096"),
        ({"clock_hz": 10**15}, r"clock_hz: Input should be less than or equal to"),
        ({"engines.cluster.peak_macs_per_cycle.int8": 1e300}, r"MAC rates must be within \[0\.001, 1e\+06\]"),
        ({"memories.L1.alignment_bytes": 2**30}, r"memories\.L1\.alignment_bytes"),
        ({"dmas.cluster_dma.bandwidth_bytes_per_cycle": 1e-300}, r"greater than or equal to 0\.001"),
        ({"engines.cluster.elementwise_ops_per_cycle": 1e-300}, r"greater than or equal to 0\.001"),
    ],
)
def test_out_of_range_fields(override: dict[str, object], match: str) -> None:
    with pytest.raises(HwSpecError, match=match):
        load_hw("siracusa").with_overrides(override)


def test_npu_weight_memory_must_be_weights_only() -> None:
    with pytest.raises(HwSpecError, match=r"engines\.neureka\.npu\.weight_memory_level: 'WMEM' must be a weights_only"):
        load_hw("siracusa_neureka").with_overrides({"memories.WMEM.weights_only": False})


@pytest.mark.parametrize("text", ["a: [1,\n", "a: b: c\n", "x:\n  - 1\n - 2\n", "\tname: x\n"])
def test_yaml_syntax_errors_are_one_line(text: str) -> None:
    with pytest.raises(HwSpecError, match=r"invalid YAML: line \d+, column \d+: ") as info:
        parse_hw_yaml(text, source="s.yaml")
    assert "\n" not in str(info.value)


def test_load_hw_argument_type() -> None:
    with pytest.raises(HwSpecError, match="a hw spec is a bundled name or a YAML path, got int"):
        load_hw(3)  # type: ignore[arg-type]
