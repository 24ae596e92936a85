"""cli.common: the exit-code contract, the one-line failure and the size option."""

from __future__ import annotations

import pytest
import typer

from deeploy_tiler.cli import common


def test_exit_codes_are_the_documented_contract() -> None:
    assert (common.EXIT_OK, common.EXIT_INTERNAL, common.EXIT_BAD_INPUT) == (0, 1, 2)
    assert (common.EXIT_INFEASIBLE, common.EXIT_CHECK_FAILED, common.EXIT_INTERRUPTED) == (3, 4, 130)


def test_fail_prints_one_line_to_stderr_and_exits(capsys: pytest.CaptureFixture[str]) -> None:
    long = "x" * 300 + " [not markup]"
    with pytest.raises(typer.Exit) as info:
        common.fail(long, common.EXIT_CHECK_FAILED)
    assert info.value.exit_code == 4
    out, err = capsys.readouterr()
    assert out == ""
    assert err == f"error: {long}\n"  # one line, not wrapped, brackets kept


def test_size_option_parses_units_and_fails_with_the_option_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert common.size_option(None, "--l1") is None
    assert common.size_option("64KiB", "--l1") == 65536
    assert common.size_option("1000", "--l1") == 1000
    with pytest.raises(typer.Exit) as info:
        common.size_option("lots", "--l1")
    assert info.value.exit_code == common.EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert err.startswith("error: --l1: ") and err.count("\n") == 1
