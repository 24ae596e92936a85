"""emitter/loops.py: folding schedule records into nested affine loops, exactly."""

from __future__ import annotations

from deeploy_tiler.emitter.loops import Leaf, Loop, Record, affine_expr, count_items, expand, fold


def _tiles(n: int, step: int, last: int) -> list[Record]:
    """A 1-D tiling: a start, a wait and a compute per tile; the last tile moves `last` bytes."""
    out: list[Record] = []
    for t in range(n):
        nbytes = step if t < n - 1 else last
        out += [(("start", "src"), (t, t * step, nbytes)), (("wait",), (t,)), (("step",), (t,))]
    return out


def test_a_regular_tiling_becomes_one_loop_and_the_partial_tile_stays_apart() -> None:
    records = _tiles(100, 64, 20)
    program = fold(records)
    assert expand(program) == records
    assert isinstance(program[0], Loop) and program[0].count == 99
    assert [x.shape for x in program[1:] if isinstance(x, Leaf)] == [("start", "src"), ("wait",), ("step",)]
    first = program[0].body[0]
    assert isinstance(first, Leaf) and first.base == (0, 0, 64) and first.coefs == ((1, 64, 0),)


def test_a_two_level_tiling_with_border_tiles_folds_into_nested_loops() -> None:
    # rows of 7 tiles, the last one partial, each row preceded by a reload: 6 rows
    records: list[Record] = []
    for r in range(6):
        records.append((("load",), (r * 1000,)))
        for c in range(7):
            records.append((("tile",), (r * 1000 + c * 10, 10 if c < 6 else 3)))
    program = fold(records)
    assert expand(program) == records
    assert len(program) == 1 and isinstance(program[0], Loop) and program[0].count == 6
    assert count_items(program) < 8 < len(records)


def test_irregular_records_stay_single_and_the_expansion_is_exact() -> None:
    records: list[Record] = [(("a",), (v,)) for v in (1, 4, 9, 16, 25)] + [(("b",), ())]
    program = fold(records)
    assert expand(program) == records
    assert all(isinstance(x, Leaf) for x in program)


def test_affine_expressions_leave_zero_terms_out() -> None:
    assert affine_expr(64, [("k0", 128), ("k1", 0)]) == "64 + 128*k0"
    assert affine_expr(0, [("k0", 1), ("k1", -3)]) == "k0 - 3*k1"
    assert affine_expr(0, [("k0", -1)]) == "-k0"
    assert affine_expr(7, []) == "7"
    assert affine_expr(5, [("k0", 0)]) == "5"
