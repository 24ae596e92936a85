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


@pytest.mark.parametrize(("n", "d"), [(0, 1), (1, 1), (7, 2), (8, 2), (9, 4), (-5, 4), (10**30 + 1, 10**15)])
def test_ceil_div_is_exact(n: int, d: int) -> None:
    q = ceil_div(n, d)
    assert (q - 1) * d < n <= q * d  # the defining inequality, exact even where n / d rounds as a float


def test_align_up_and_arrays() -> None:
    assert [align_up(n, 8) for n in (0, 1, 8, 9, 31)] == [0, 8, 8, 16, 32]
    arr = np.array([0, 1, 8, 9, 31], dtype=np.int64)
    assert align_up(arr, 8).tolist() == [0, 8, 8, 16, 32]
    assert ceil_div(arr, 4).tolist() == [0, 1, 2, 3, 8]


@pytest.mark.parametrize("d", [0, -3])
def test_ceil_div_rejects_non_positive_divisors(d: int) -> None:
    with pytest.raises(ValueError, match="positive divisor"):
        ceil_div(5, d)
