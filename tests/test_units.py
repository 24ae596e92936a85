import pytest

from deeploy_tiler.units import format_bytes, parse_bytes


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
