"""Random valid networks, differential: plan -> validate -> emit -> host build and run, element by element
against the reference interpreter (an infeasible budget is a typed answer, not a failure)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from deeploy_tiler.emitter import toolchain_available

from .conftest import PROFILE
from .harness import Worker
from .strategies import valid_case

_SETTINGS = settings.get_profile(f"fuzz-{PROFILE}-valid")


@pytest.mark.skipif(not toolchain_available("host"), reason="no host C compiler")
def test_random_networks_are_bit_exact(worker: Worker) -> None:
    seen: list[str] = []

    @_SETTINGS
    @given(case=valid_case())
    def check(case: dict[str, Any]) -> None:
        outcome, detail = worker.run(case, timeout=120)
        seen.append(outcome)
        assert outcome in ("valid", "infeasible"), f"{outcome}: {detail}\ncase: {str(case)[:600]}"

    check()
    assert "valid" in seen, f"no random network was planned and run: {seen}"
