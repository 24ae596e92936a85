from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from deeploy_tiler.errors import AllocationError
from deeploy_tiler.memory.alloc import Buffer, capacity_from_name, read_csv, write_csv

from .conftest import buffer_lists


@given(buffer_lists(max_buffers=8))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_round_trip(tmp_path: Path, bufs: list[Buffer]) -> None:
    p = tmp_path / "case.4096.csv"
    write_csv(p, bufs)
    got = read_csv(p)
    assert list(got.buffers) == bufs and got.capacity == 4096 and got.offsets is None
    offs = {b.id: 3 * k for k, b in enumerate(bufs)}
    write_csv(p, bufs, offs)
    got = read_csv(p)
    assert list(got.buffers) == bufs and got.offsets == offs


def test_reads_the_readme_example(tmp_path: Path) -> None:
    p = tmp_path / "input.12.csv"
    p.write_text("id,lower,upper,size\nb1,0,3,4\nb2,3,9,4\nb3,0,9,4\nb4,9,21,4\nb5,0,21,4\n")
    got = read_csv(p)
    assert got.capacity == 12 and [b.id for b in got.buffers] == ["b1", "b2", "b3", "b4", "b5"]
    assert got.buffers[3] == Buffer("b4", 9, 21, 4)


def test_capacity_from_name() -> None:
    assert capacity_from_name("x/A.1048576.csv") == 1048576
    assert capacity_from_name("plain.csv") is None


def test_bad_files(tmp_path: Path) -> None:
    p = tmp_path / "bad.csv"
    p.write_text("id,lower,size\n1,0,3\n")
    with pytest.raises(AllocationError, match="upper"):
        read_csv(p)
    p.write_text("id,lower,upper,size\nq,0,x,3\n")
    with pytest.raises(AllocationError, match="'q'") as ei:
        read_csv(p)
    assert ei.value.buffer == "q"
    with pytest.raises(AllocationError, match="cannot read"):
        read_csv(tmp_path / "missing.csv")


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (b"id,lower,upper,size\n\xe9,0,2,4\n", r"not a UTF-8 text file"),
        (b"id,lower,upper,size\na,3,1,4\n", r"buffer 'a': lifetime \[3, 1\) is empty or negative"),
        (b"id,lower,upper,size\na,-1,1,4\n", r"buffer 'a': lower -1 is outside \[0, 2\*\*40\]"),
        (b"id,lower,upper,size,color\na,0,1,4,red\n", r"unknown or repeated column\(s\) color"),
        (b"id,lower,upper,size\na,0,1,4,9\n", r"buffer 'a': 4 columns expected"),
        (b"id,lower,upper,size\na,0,1,4\na,1,2,4\n", r"buffer id 'a' is empty or repeated"),
        (b"id,lower,upper,size\na,0,1,1e3\n", r"size '1e3' is not an integer"),
    ],
)
def test_malformed_files_name_the_rule(tmp_path: Path, data: bytes, match: str) -> None:
    p = tmp_path / "bad.csv"
    p.write_bytes(data)
    with pytest.raises(AllocationError, match=match):
        read_csv(p)
