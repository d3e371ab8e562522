"""Redis reply values as text, and the stream-id check that keeps bad ids from Redis."""

from __future__ import annotations

import pytest

from newsflow.runtime.codec import is_stream_id, text


def test_text() -> None:
    assert text(b"news:dead") == "news:dead"
    assert text("1-0") == "1-0"
    assert text(7) == "7"


@pytest.mark.parametrize("value", ["0-0", "1700000000000-0", f"{2**64 - 1}-{2**64 - 1}"])
def test_stream_ids(value: str) -> None:
    assert is_stream_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "1700000000000",
        "-",
        "+",
        "1-",
        "-1",
        "1-0 ",
        "(1-0",
        "1-0-0",
        "١-٠",
        f"{2**64}-0",
        "1-" + "9" * 300,
    ],
)
def test_not_stream_ids(value: str) -> None:
    assert not is_stream_id(value)
