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
