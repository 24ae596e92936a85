import numpy as np
import pytest

from deeploy_tiler.units import align_up, ceil_div, format_bytes, parse_bytes


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("64000", 64000),
        ("64KiB", 65536),
        ("64kB", 64000),
        ("1MiB", 1048576),
        ("1.5KiB", 1536),
        (" 8 kib ", 8192),
        (12, 12),
    ],
)
def test_parse(text: str, value: int) -> None:
    assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["", "64 parsecs", "-1", "1.3B", "KiB"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="byte size"):
        parse_bytes(text)


def test_format() -> None:
    assert format_bytes(512) == "512 B" and format_bytes(2048) == "2.0 KiB" and format_bytes(2 * 1024**2) == "2.00 MiB"


@pytest.mark.parametrize(
    ("a", "b", "q"),
    [(0, 4, 0), (1, 4, 1), (4, 4, 1), (5, 4, 2), (7, 1, 7), (-1, 4, 0), (-5, 4, -1), (10**20 + 1, 10**10, 10**10 + 1)],
)
def test_ceil_div(a: int, b: int, q: int) -> None:
    assert ceil_div(a, b) == q
    assert (q - 1) * b < a <= q * b  # the defining property, checked independently of the formula


@pytest.mark.parametrize(
    ("n", "a", "up"), [(0, 64, 0), (1, 64, 64), (64, 64, 64), (65, 64, 128), (13, 1, 13), (5, 3, 6)]
)
def test_align_up(n: int, a: int, up: int) -> None:
    assert align_up(n, a) == up
    assert up % a == 0 and n <= up < n + a


@pytest.mark.parametrize("b", [0, -4])
def test_rounding_rejects_non_positive_divisor(b: int) -> None:
    with pytest.raises(ValueError, match="divisor must be positive"):
        ceil_div(3, b)
    with pytest.raises(ValueError, match="divisor must be positive"):
        align_up(3, b)


def test_rounding_over_int64_arrays() -> None:
    """The same rounding elementwise (the cost model aligns whole grids of slot sizes at once)."""
    arr = np.array([0, 1, 8, 9, 31, -5], dtype=np.int64)
    assert align_up(arr, 8).tolist() == [align_up(int(n), 8) for n in arr] == [0, 8, 8, 16, 32, 0]
    assert ceil_div(arr, 4).tolist() == [ceil_div(int(n), 4) for n in arr] == [0, 1, 2, 3, 8, -1]


@pytest.mark.parametrize(
    ("text", "value"),
    [("1099511627776", 2**40), ("1024GiB", 2**40), ("0.5KiB", 512), ("1.000000000000000000001kB", None)],
)
def test_parse_is_exact(text: str, value: int | None) -> None:
    # No float round trip: 1.000000000000000000001 kB is not a whole number of bytes.
    if value is None:
        with pytest.raises(ValueError, match="whole number"):
            parse_bytes(text)
    else:
        assert parse_bytes(text) == value


@pytest.mark.parametrize("text", ["1099511627777", "1025GiB", "9" * 30, 2**40 + 1])
def test_parse_rejects_sizes_beyond_max(text: str | int) -> None:
    with pytest.raises(ValueError, match="exceeds the largest supported size"):
        parse_bytes(text)


@pytest.mark.parametrize("value", [1.5, True, None, [64]])
def test_parse_rejects_other_types(value: object) -> None:
    with pytest.raises(ValueError, match="not a byte size"):
        parse_bytes(value)  # type: ignore[arg-type]
