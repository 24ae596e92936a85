from __future__ import annotations

from deeploy_tiler.memory.alloc import Buffer, live_profile, lower_bound, max_live


def test_max_live_and_time() -> None:
    bufs = [Buffer("a", 0, 4, 10), Buffer("b", 2, 6, 5), Buffer("c", 4, 8, 20)]
    lb = max_live(bufs)
    assert (lb.bytes, lb.time) == (25, 4)
    assert set(lb.live) == {"b", "c"}
    assert live_profile(bufs) == [(0, 10), (2, 15), (4, 25), (6, 20), (8, 0)]


def test_half_open_ends_do_not_add_up() -> None:
    assert max_live([Buffer("a", 0, 2, 7), Buffer("b", 2, 4, 7)]).bytes == 7


def test_empty_and_fixed() -> None:
    assert max_live([]).bytes == 0
    assert lower_bound([Buffer("a", 0, 1, 4, fixed_offset=12), Buffer("b", 0, 1, 4)]) == 16
