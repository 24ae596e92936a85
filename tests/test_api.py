from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import deeploy_tiler as dt


def test_load_model_dispatch_and_input_dtypes(model_dirs: dict[str, Path], tmp_path: Path) -> None:
    kws = dt.load_model(model_dirs["MLPerf/KeywordSpotting"] / "network.onnx")
    assert kws.inputs[0].dtype is dt.DType.UINT8  # inputs.npz beside it holds 0..255
    cct = dt.load_model(model_dirs["CCT/Int/ICCT"] / "network.onnx")
    assert cct.inputs[0].dtype is dt.DType.INT8
    assert len(dt.load_model(model_dirs["CCT/Int/ICCT"]).nodes) == len(cct.nodes)  # a model folder works too
    forced = dt.load_model(model_dirs["CCT/Int/ICCT"] / "network.onnx", input_dtypes={"input": dt.DType.INT16})
    assert forced.inputs[0].dtype is dt.DType.INT16
    layer_list = tmp_path / "m.json"
    from deeploy_tiler.frontend import dump_layer_list

    layer_list.write_text(dump_layer_list(kws))
    assert len(dt.load_model(layer_list).nodes) == len(kws.nodes)


def test_bundled_default_is_deterministic_and_runs() -> None:
    g1, g2 = dt.default_model(), dt.default_model()
    assert all(g1.tensors[k].same_as(g2.tensors[k]) for k in g1.tensors)
    out = dt.reference_run(g1, dt.default_inputs())
    (y,) = out.values()
    assert y.shape == (1, 8, 32)
    assert y.min() >= -128 and y.max() <= 127
    # the calibration keeps the network alive: neither all-zero nor saturated everywhere
    assert np.count_nonzero(y) > y.size // 2 and np.mean(np.abs(y) == 128) < 0.25


def test_load_inputs_checks_count(model_dirs: dict[str, Path]) -> None:
    g = dt.load_model(model_dirs["microLlama/INT8/microLlama8"] / "network.onnx")
    with pytest.raises(dt.ModelError, match="arrays for"):
        dt.load_inputs(g, model_dirs["miniMobileNet"] / "inputs.npz")


def test_map_inputs_by_name_else_by_position(tmp_path: Path) -> None:
    a, b = np.arange(3), np.arange(4)
    np.savez(tmp_path / "named.npz", extra=np.zeros(2), y=b, x=a)
    arrays, rule = dt.api.map_inputs(("x", "y"), tmp_path / "named.npz")
    assert rule == "by name" and np.array_equal(arrays["x"], a) and np.array_equal(arrays["y"], b)
    np.savez(tmp_path / "positional.npz", a, b, np.zeros(5))  # more arrays than inputs: the first N
    arrays, rule = dt.api.map_inputs(("x", "y"), tmp_path / "positional.npz")
    assert rule == "by position" and np.array_equal(arrays["x"], a) and np.array_equal(arrays["y"], b)


def test_plan_takes_typed_options_and_keywords() -> None:
    graph = dt.load_model()
    typed = dt.plan(graph, "siracusa", l1=8000, options=dt.SolverOptions(cache=False), hint=False)
    loose = dt.plan(graph, "siracusa", l1=8000, cache=False, hint=False)
    assert typed.to_json() == loose.to_json()
    assert typed.options["cache"] is False and typed.options["hint"] is False
    assert dt.validate(typed, graph, "siracusa") == []
    with pytest.raises(dt.OptionError, match=r"unknown solver option 'grid'; valid solver options: .*grid_limit"):
        dt.plan(graph, "siracusa", l1=8000, grid=5)
    with pytest.raises(dt.OptionError, match="unknown solver option 'bogus'"):
        dt.plan_node(graph, graph.nodes[0].name, "siracusa", bogus=True)
    node = dt.plan_node(graph, graph.nodes[0].name, "siracusa", l1=8000, options=dt.SolverOptions(hint=False))
    assert node == dt.plan_node(graph, graph.nodes[0].name, "siracusa", l1=8000, hint=False)


def test_plan_takes_engine_options() -> None:
    graph = dt.load_model()
    with_wmem = dt.plan(graph, "siracusa_neureka", l1=16_000)
    without = dt.plan(graph, "siracusa_neureka", l1=16_000, engine_options=dt.EngineOptions(weight_memory=False))
    assert without.options["weight_memory"] is False and with_wmem.options["weight_memory"] is True
    assert any(p.level == "WMEM" for p in with_wmem.memory)
    assert not any(p.level == "WMEM" for p in without.memory)
    assert dt.validate(without, graph, "siracusa_neureka") == []
    with pytest.raises(dt.OptionError, match="weight_memory is an option of EngineOptions"):
        dt.plan(graph, "siracusa_neureka", weight_memory=False)


def test_onnxruntime_int8_exactness_is_the_frontends_answer() -> None:
    from deeploy_tiler import api
    from deeploy_tiler.frontend.ort_compare import ort_int8_matmul_is_exact

    assert api.onnxruntime_int8_is_exact() is ort_int8_matmul_is_exact()
