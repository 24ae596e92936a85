"""Shared fixtures of the allocator tests: the MiniMalloc challenging instances and small generators."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import strategies as st

from deeploy_tiler.memory.alloc import Buffer

REPO = Path(__file__).resolve().parents[3]


def minimalloc_dir() -> Path | None:
    """The data folder (env ``DEEPLOY_TILER_MINIMALLOC_DIR`` or ``../shared/data/minimalloc-challenging``)."""
    env = os.environ.get("DEEPLOY_TILER_MINIMALLOC_DIR")
    d = Path(env) if env else REPO.parent / "shared" / "data" / "minimalloc-challenging"
    return d if (d / "A.1048576.csv").is_file() else None


@pytest.fixture(scope="session")
def challenging_dir() -> Path:
    d = minimalloc_dir()
    if d is None:
        msg = (
            "MiniMalloc challenging instances not found: set DEEPLOY_TILER_MINIMALLOC_DIR or place them "
            "in ../shared/data/minimalloc-challenging"
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return d


@st.composite
def buffer_lists(
    draw: st.DrawFn, max_buffers: int = 12, max_time: int = 12, max_size: int = 16, aligned: bool = False
) -> list[Buffer]:
    n = draw(st.integers(0, max_buffers))
    out = []
    for i in range(n):
        s = draw(st.integers(0, max_time - 1))
        e = draw(st.integers(s + 1, max_time))
        size = draw(st.integers(1, max_size))
        a = draw(st.sampled_from([1, 2, 4, 8])) if aligned else 1
        out.append(Buffer(f"b{i}", s, e, size, a))
    return out
