from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler.errors import AllocationError
from deeploy_tiler.memory.alloc import Buffer, allocate, memory_map_figure, summary_text

BUFS = [Buffer("a", 0, 4, 8), Buffer("b", 2, 6, 8), Buffer("c", 4, 8, 8)]


def test_summary_text_mentions_the_essentials() -> None:
    r = allocate(BUFS, 16)
    text = summary_text(r)
    assert "fits" in text and "16 B" in text and "optimal" in text and r.strategy in text
    over = allocate(BUFS, 100, strategy="greedy")
    assert "lower bound" in summary_text(over)
    assert "DOES NOT FIT" in summary_text(
        allocate([Buffer("p", 0, 2, 1, fixed_offset=1), Buffer("x", 0, 2, 3)], 4, strategy="search")
    )


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_memory_map_figure(tmp_path: Path, suffix: str) -> None:
    r = allocate(BUFS, 16)
    out = memory_map_figure(BUFS, r, tmp_path / f"map{suffix}")
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG") if suffix == ".png" else b"<svg" in data[:2000]


def test_memory_map_rejects_other_formats(tmp_path: Path) -> None:
    with pytest.raises(AllocationError, match=r"png or \.svg"):
        memory_map_figure(BUFS, allocate(BUFS, 16), tmp_path / "map.pdf")
