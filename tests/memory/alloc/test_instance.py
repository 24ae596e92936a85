from __future__ import annotations

import pytest

from deeploy_tiler.errors import AllocationError
from deeploy_tiler.memory.alloc import Buffer
from deeploy_tiler.memory.alloc.instance import Instance


@pytest.mark.parametrize(
    ("buffers", "capacity", "name", "text"),
    [
        ([Buffer("big", 0, 1, 65)], 64, "big", "exceeds the capacity"),
        ([Buffer("z", 0, 1, 0)], 64, "z", "size must be positive"),
        ([Buffer("neg", 0, 1, -4)], 64, "neg", "size must be positive"),
        ([Buffer("e", 3, 3, 4)], 64, "e", "empty lifetime"),
        ([Buffer("r", 5, 2, 4)], 64, "r", "empty lifetime"),
        ([Buffer("d", 0, 1, 4), Buffer("d", 1, 2, 4)], 64, "d", "duplicate"),
        ([Buffer("a3", 0, 1, 4, alignment=3)], 64, "a3", "power of two"),
        ([Buffer("a0", 0, 1, 4, alignment=0)], 64, "a0", "power of two"),
        ([Buffer("f", 0, 1, 8, fixed_offset=60)], 64, "f", "exceeds the capacity"),
        ([Buffer("m", 0, 1, 8, alignment=8, fixed_offset=4)], 64, "m", "multiple of its alignment"),
        ([Buffer("p", 0, 4, 8, fixed_offset=0), Buffer("q", 2, 6, 8, fixed_offset=4)], 64, "q", "overlap"),
    ],
)
def test_bad_input_names_the_buffer(buffers: list[Buffer], capacity: int, name: str, text: str) -> None:
    with pytest.raises(AllocationError, match=text) as ei:
        Instance.build(buffers, capacity)
    assert ei.value.buffer == name
    assert name in str(ei.value)


def test_fixed_offsets_that_do_not_collide_are_fine() -> None:
    Instance.build(
        [
            Buffer("p", 0, 4, 8, fixed_offset=0),
            Buffer("q", 4, 6, 8, fixed_offset=0),
            Buffer("r", 0, 6, 8, fixed_offset=8),
        ],
        16,
    )


def test_bad_capacity() -> None:
    with pytest.raises(AllocationError, match="capacity"):
        Instance.build([], 0)


def test_gcd_scaling() -> None:
    inst = Instance.build([Buffer("a", 0, 2, 1024), Buffer("b", 1, 3, 3072, alignment=2048)], 10_000)
    assert inst.unit == 1024
    assert inst.size_u.tolist() == [1, 3] and inst.align_u.tolist() == [1, 2]
    assert inst.capacity_u == 9
    assert inst.to_offsets([0, 2]) == {"a": 0, "b": 2048}
