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
