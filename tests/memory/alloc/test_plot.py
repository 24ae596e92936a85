"""memory.alloc.plot: the memory-map figure's format by suffix, its labels and title, and the typed error."""

from __future__ import annotations

from pathlib import Path

import pytest

from deeploy_tiler import api
from deeploy_tiler.errors import AllocationError
from deeploy_tiler.memory.alloc import Buffer
from deeploy_tiler.memory.alloc.plot import memory_map_figure

BUFFERS = [Buffer("b1", 0, 3, 4), Buffer("b2", 3, 9, 4), Buffer("b3", 0, 9, 4), Buffer("zz_last", 9, 21, 4)]


def test_svg_labels_each_placed_buffer_and_titles_the_peak(tmp_path: Path) -> None:
    result = api.allocate(BUFFERS, 12)
    assert result.solved
    path = memory_map_figure(BUFFERS, result, tmp_path / "sub" / "m.svg")
    assert path == tmp_path / "sub" / "m.svg"
    text = path.read_text()
    assert text.lstrip().startswith("<?xml") and "<svg" in text
    for b in BUFFERS:
        assert f"<!-- {b.id} -->" in text  # matplotlib names each text element in a comment
    assert f"4 buffers, peak {result.peak} B of 12 B ({result.strategy})" in text
    assert "capacity 12 B" in text


def test_labels_off_and_custom_title(tmp_path: Path) -> None:
    result = api.allocate(BUFFERS, 12)
    text = memory_map_figure(BUFFERS, result, tmp_path / "m.svg", labels=False, title="my map").read_text()
    assert "<!-- zz_last -->" not in text and "<!-- my map -->" in text


def test_png_by_suffix(tmp_path: Path) -> None:
    path = memory_map_figure(BUFFERS, api.allocate(BUFFERS, 12), tmp_path / "m.PNG")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_other_suffix_is_an_allocation_error(tmp_path: Path) -> None:
    with pytest.raises(AllocationError, match=r"m\.jpg: memory map figures are written as \.png or \.svg, not \.jpg"):
        memory_map_figure(BUFFERS, api.allocate(BUFFERS, 12), tmp_path / "m.jpg")
    with pytest.raises(AllocationError, match=r"not no suffix"):
        memory_map_figure(BUFFERS, api.allocate(BUFFERS, 12), tmp_path / "m")
