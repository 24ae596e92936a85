"""Budget grids and spec overrides from text."""

from __future__ import annotations

import pytest

from deeploy_tiler.explore import grid

KiB = 1024


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64000", [64000]),
        ("32KiB,16KiB,16KiB", [16 * KiB, 32 * KiB]),
        ("16KiB..256KiB", [16 * KiB, 32 * KiB, 64 * KiB, 128 * KiB, 256 * KiB]),
        ("16KiB..100KiB", [16 * KiB, 32 * KiB, 64 * KiB, 100 * KiB]),
        ("16KiB..16KiB", [16 * KiB]),
        ("1000..2000:x1.5", [1000, 1500, 2000]),
        ("8KiB..24KiB:+8KiB", [8 * KiB, 16 * KiB, 24 * KiB]),
        ("8KiB..20KiB:+8KiB", [8 * KiB, 16 * KiB, 20 * KiB]),
        ("1KiB, 4KiB..8KiB", [1 * KiB, 4 * KiB, 8 * KiB]),
    ],
)
def test_parse_grid(text: str, expected: list[int]) -> None:
    assert grid.parse_grid(text) == expected


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "empty"),
        (" , ", "empty"),
        ("16KiB,", "empty item"),
        ("256KiB..16KiB", "reversed"),
        ("16KiB..64KiB:x1", "factor must be > 1"),
        ("16KiB..64KiB:+0", "step must be positive"),
        ("16KiB..64KiB:fast", "not a factor"),
        ("0", "0 B"),
        ("0..1KiB", "cannot start at 0"),
        ("1..1GiB:+1", "more than"),
        ("64 parsecs", "not a byte size"),
    ],
)
def test_parse_grid_rejects(text: str, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        grid.parse_grid(text)


def test_parse_overrides() -> None:
    assert grid.parse_overrides([]) == [{}]
    assert grid.parse_overrides(["clock_hz=360e6, memories.L1.size_bytes=128KiB"]) == [
        {"clock_hz": 360_000_000, "memories.L1.size_bytes": 128 * KiB}
    ]
    variants = grid.parse_overrides(["clock_hz=100000000|200000000", "memories.L1.banks=16"])
    assert variants == [
        {"clock_hz": 100_000_000, "memories.L1.banks": 16},
        {"clock_hz": 200_000_000, "memories.L1.banks": 16},
    ]
    assert grid.parse_overrides(["energy_pj_per_cycle=1.5,memories.L1.weights_only=false"]) == [
        {"energy_pj_per_cycle": 1.5, "memories.L1.weights_only": False}
    ]
    for bad in ("clock_hz", "=3", "clock_hz="):
        with pytest.raises(ValueError, match="path=value"):
            grid.parse_overrides([bad])
