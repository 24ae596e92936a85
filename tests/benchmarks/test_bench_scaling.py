"""The scaling benchmark's CI form: its models are what it says, and its short run plans validly."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_scaling", ROOT / "benchmarks" / "bench_scaling.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules["bench_scaling"] = mod
    spec.loader.exec_module(mod)
    return mod


def test_stacked_decoder_repeats_the_layer() -> None:
    b = _bench()
    one, three = b.stacked_decoder(1), b.stacked_decoder(3)
    assert len(three.nodes) == 3 * len(one.nodes)
    assert [n.op_type for n in three.nodes] == [n.op_type for n in one.nodes] * 3
    assert three.input_names == one.input_names and three.output_names == one.output_names


def test_cnn_layers_are_distinct_subproblems() -> None:
    b = _bench()
    g = b.distinct_cnn(60)
    pairs = [(g.tensors[n.inputs[1]].shape[1], g.tensors[n.inputs[1]].shape[0]) for n in g.nodes]
    assert len(g.nodes) == 60 and len(set(pairs)) == 60


def test_fitted_exponent_recovers_a_power_law() -> None:
    b = _bench()
    assert b.fitted_exponent([10, 20, 40, 80], [0.1 * n**1.5 for n in (10, 20, 40, 80)]) == pytest.approx(1.5)


def test_short_run_plans_and_validates(capsys: pytest.CaptureFixture[str]) -> None:
    b = _bench()
    assert b.main(["--short"]) == 0
    out = capsys.readouterr().out
    assert "| decoder | 2 | 52 |" in out and "| cnn | 20 | 20 |" in out and "plan exponent" in out
