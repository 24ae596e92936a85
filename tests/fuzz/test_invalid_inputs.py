"""Mutated invalid inputs of every entry point: a typed error or a valid result, never an untyped
exception, a traceback, a multi-line CLI error, a hang (10 s) or more than 1 GiB."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings

from .conftest import PROFILE
from .harness import Worker
from .invalid import ENTRY_POINTS, invalid_case

_SETTINGS = settings.get_profile(f"fuzz-{PROFILE}")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_invalid_input_is_typed(entry: str, worker: Worker) -> None:
    seen: list[str] = []

    @_SETTINGS
    @given(case=invalid_case(entry))
    def check(case: dict[str, Any]) -> None:
        outcome, detail = worker.run(case)
        seen.append(outcome)
        assert outcome in ("typed", "valid"), f"{entry}: {outcome}: {detail}\ncase: {str(case)[:600]}"

    check()
    assert seen, "no case ran"
