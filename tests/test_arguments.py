"""Checks at the door of the public functions: wrong argument types and ranges are OptionErrors naming
the argument, before any work."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import deeploy_tiler as dt
from deeploy_tiler.arguments import check_budget, check_output_dir, check_output_file
from deeploy_tiler.errors import OptionError
from deeploy_tiler.memory.alloc import Buffer


@pytest.fixture(scope="module")
def graph() -> dt.Graph:
    return dt.default_model()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"l1": "64KiB"}, r"l1 must be an int number of bytes, got the string '64KiB'"),
        ({"l1": 1.5}, r"l1 must be an int, got float 1.5"),
        ({"l1": True}, r"l1 must be an int, got bool"),
        ({"l1": 0}, r"l1 must be >= 1"),
        ({"l2": 10**30}, r"l2 must be <= 1099511627776"),
        ({"double_buffer": 1}, r"double_buffer must be True or False"),
        ({"engine": 3}, r"engine must be a str"),
        ({"bogus": 1}, r"unknown solver option\(s\) bogus; known: time_limit_s"),
        ({"workers": "2"}, r"workers must be an int"),
        ({"time_limit_s": -1.0}, r"time_limit_s must be a number in \(0, 86400.0\]"),
        ({"workers": 0}, r"workers must be >= 1"),
        ({"grid_limit": 10**9}, r"grid_limit must be <= 10000000"),
    ],
)
def test_plan_arguments(graph: dt.Graph, kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(OptionError, match=match) as info:
        dt.plan(graph, "siracusa", **kwargs)
    assert info.value.field == next(iter(kwargs))


def test_plan_other_arguments(graph: dt.Graph) -> None:
    with pytest.raises(OptionError, match="hw must be a HwSpec or str or Path, got int"):
        dt.plan(graph, 3)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="graph must be a Graph, got dict"):
        dt.plan({}, "siracusa")  # type: ignore[arg-type]
    with pytest.raises(dt.ModelError, match="has no node 'nope'"):
        dt.plan_node(graph, "nope", "siracusa")


def test_allocate_arguments() -> None:
    bufs = [Buffer("a", 0, 2, 8)]
    with pytest.raises(OptionError, match="capacity must be an int"):
        dt.allocate(bufs, 64.0)  # type: ignore[arg-type]
    with pytest.raises(OptionError, match="time_limit must be a number of seconds"):
        dt.allocate(bufs, 64, time_limit=float("nan"))
    with pytest.raises(OptionError, match="seed must be >= 0"):
        dt.allocate(bufs, 64, seed=-1)


def test_layer_list_and_plan_json_errors_are_typed() -> None:
    with pytest.raises(dt.LayerListError, match=r"invalid layer list: name: Field required"):
        dt.graph_from_layer_list({})
    with pytest.raises(dt.LayerListError, match="Invalid JSON"):
        dt.graph_from_layer_list("{")
    with pytest.raises(dt.LayerListError, match="got int"):
        dt.graph_from_layer_list(3)  # type: ignore[arg-type]
    with pytest.raises(dt.PlanError, match=r"invalid plan JSON: .*model: Field required"):
        dt.Plan.from_json("{}")
    with pytest.raises(dt.PlanError, match="invalid plan JSON"):
        dt.Plan.from_json("not json")


def test_budget_none_is_the_default() -> None:
    assert check_budget(None, "l1") is None and check_budget(64_000, "l1") == 64_000


def test_output_paths(tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    with pytest.raises(OptionError, match="is a folder, not a file"):
        check_output_file(tmp_path, "--json")
    with pytest.raises(OptionError, match=r"lies below .*afile, which is not a folder"):
        check_output_file(f / "x.json", "--json")
    with pytest.raises(OptionError, match="does not exist"):
        check_output_file(tmp_path / "missing" / "x.json", "--json")
    with pytest.raises(OptionError, match="is a file, not a folder"):
        check_output_dir(f, "--out")
    with pytest.raises(OptionError, match="lies below"):
        check_output_dir(f / "sub" / "deeper", "--out")
    assert check_output_file(tmp_path / "new.json", "--json") == tmp_path / "new.json"
    assert check_output_dir(tmp_path / "a" / "b", "--out") == tmp_path / "a" / "b"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(tmp_path: Path) -> None:
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(OptionError, match="not writable"):
        check_output_file(ro / "x.json", "--json")


def test_emit_checks_out_dir_first(graph: dt.Graph, tmp_path: Path) -> None:
    f = tmp_path / "afile"
    f.write_text("x")
    plan = dt.plan(graph, "siracusa")
    with pytest.raises(OptionError, match=r"out_dir: .* is a file"):
        dt.emit(plan, graph, "siracusa", f)
