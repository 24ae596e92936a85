"""Hypothesis profiles of the fuzz suite and the shared worker.

"ci" (default): 10 examples per entry point and 3 valid networks, about 30 s in all. "long": by hand, with
`DEEPLOY_TILER_FUZZ=long` (or run `benchmarks/fuzz_long.py`, which prints the counts per outcome).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, Phase, settings

from .harness import Worker

_COMMON = {
    "deadline": None,
    "database": None,
    "derandomize": True,
    "phases": (Phase.explicit, Phase.generate),
    "suppress_health_check": list(HealthCheck),
}
settings.register_profile("fuzz-ci", max_examples=10, **_COMMON)
settings.register_profile("fuzz-ci-valid", max_examples=3, **_COMMON)
settings.register_profile("fuzz-long", max_examples=300, **_COMMON)
settings.register_profile("fuzz-long-valid", max_examples=1000, **_COMMON)

PROFILE = "long" if os.environ.get("DEEPLOY_TILER_FUZZ") == "long" else "ci"


@pytest.fixture(scope="module")
def worker() -> Iterator[Worker]:
    w = Worker()
    yield w
    w.close()
