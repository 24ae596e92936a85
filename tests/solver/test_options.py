"""Solver options: typed keywords, the raw CP-SAT parameter pass-through, and model dumps with readable
variable names."""

from __future__ import annotations

from pathlib import Path

import pytest
from google.protobuf import text_format
from ortools.sat import cp_model_pb2

import deeploy_tiler as dt
from deeploy_tiler.solver.options import (
    EngineOptions,
    OptionError,
    SolverOptions,
    apply_raw_parameters,
    cp_solver,
)
from tests.solver.graphs import conv


def test_unknown_keywords_are_named_with_the_valid_ones() -> None:
    with pytest.raises(OptionError, match=r"unknown solver option 'bogus'; valid solver options: time_limit_s, ") as e:
        SolverOptions.from_keywords(bogus=1)
    assert e.value.field == "bogus" and isinstance(e.value, dt.DeeployTilerError)
    with pytest.raises(OptionError, match=r"weight_memory is an option of EngineOptions"):
        SolverOptions.from_keywords(weight_memory=False)
    with pytest.raises(OptionError, match=r"unknown engine option 'hint'.*hint is an option of SolverOptions"):
        EngineOptions.from_keywords(hint=False)
    base = SolverOptions(cache=False)
    assert SolverOptions.from_keywords(base, hint=False) == SolverOptions(cache=False, hint=False)
    assert SolverOptions.from_keywords(base) is base


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [({"workers": 0}, "workers"), ({"time_limit_s": 0}, "time_limit_s"), ({"grid_limit": -1}, "grid_limit")],
)
def test_invalid_values_are_typed_errors(kwargs: dict[str, int], option: str) -> None:
    with pytest.raises(OptionError) as e:
        SolverOptions(**kwargs)  # type: ignore[arg-type]
    assert e.value.field == option and isinstance(e.value, ValueError)
    with pytest.raises(OptionError, match="handover_cycles"):
        EngineOptions(handover_cycles=-1)


def test_raw_cp_sat_parameters_text_or_mapping() -> None:
    text = SolverOptions(cp_sat_parameters="num_workers: 3   linearization_level: 2")
    mapping = SolverOptions(cp_sat_parameters={"linearization_level": 2, "num_workers": 3})
    assert text == mapping and hash(text) == hash(mapping)  # canonical text: part of the solve cache key
    solver = cp_solver(text)
    assert solver.parameters.num_workers == 1  # the option-derived value first ...
    apply_raw_parameters(solver, text)
    assert solver.parameters.num_workers == 3 and solver.parameters.linearization_level == 2  # ... then raw
    assert "cp_sat_parameters" not in SolverOptions().to_dict() and "dump_dir" not in SolverOptions().to_dict()
    assert text.to_dict()["cp_sat_parameters"] == text.cp_sat_text
    with pytest.raises(OptionError, match=r"cp_sat_parameters.*no_such_knob"):
        SolverOptions(cp_sat_parameters="no_such_knob: 1")
    with pytest.raises(OptionError, match="CP-SAT has no parameter 'no_such_knob'"):
        SolverOptions(cp_sat_parameters={"no_such_knob": 1})
    with pytest.raises(OptionError, match="num_workers"):
        SolverOptions(cp_sat_parameters={"num_workers": "many"})


def test_raw_parameters_reach_the_solve_and_the_plan_records_them() -> None:
    graph = dt.load_model()
    plan = dt.plan(graph, "siracusa", l1=8000, cp_sat_parameters="random_seed: 7 symmetry_level: 0")
    assert dt.validate(plan, graph, "siracusa") == []
    assert plan.options["cp_sat_parameters"] == "random_seed: 7 symmetry_level: 0"
    assert "cp_sat_parameters" not in dt.plan(graph, "siracusa", l1=8000).options


def test_dump_writes_each_solved_model_with_readable_names(tmp_path: Path) -> None:
    graph = conv(16, 32, 16, 16, 3, 1, 1)
    opts = SolverOptions(early_exit=False, hint=False, dump_dir=tmp_path / "models")
    dumped = dt.plan_node(graph, "n", "siracusa", l1=12_000, options=opts)
    plain = dt.plan_node(graph, "n", "siracusa", l1=12_000, early_exit=False, hint=False)
    assert dumped.model_dump_json() == plain.model_dump_json()  # a diagnostic: the plan does not change
    (path,) = (tmp_path / "models").iterdir()
    assert path.name == "n.pb.txt"
    proto = text_format.Parse(path.read_text(), cp_model_pb2.CpModelProto())
    names = [v.name for v in proto.variables]
    assert len(names) == dumped.solve.num_variables
    assert any(n.startswith("tile[dim1]=") for n in names)  # the output-channel tile candidates
    assert "total_scaled_cycles" in names and "l1_bytes" in names
    assert any(n.startswith(("tiles[", "factor[")) for n in names)
    assert {"dbuf[input in0]", "dbuf[output y]"} & set(names), names  # buffers named by role and tensor
    unnamed = [v for v in proto.variables if not v.name]
    assert all(len(v.domain) == 2 and v.domain[0] == v.domain[1] for v in unnamed)  # only fixed constants


def test_engine_choice_model_is_dumped(tmp_path: Path) -> None:
    graph = dt.load_model()
    dt.plan(graph, "siracusa_neureka", l1=16_000, dump_dir=tmp_path)
    files = {p.name for p in tmp_path.iterdir()}
    assert "engine_choice.pb.txt" in files
    proto = text_format.Parse((tmp_path / "engine_choice.pb.txt").read_text(), cp_model_pb2.CpModelProto())
    assert any(v.name.startswith("pick[node ") for v in proto.variables)
