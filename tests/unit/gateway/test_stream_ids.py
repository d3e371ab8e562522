"""``Last-Event-ID`` is refused with 422 before the stream starts unless it is a
Redis stream id: two unsigned 64-bit integers."""

from __future__ import annotations

import pytest

from newsflow_gateway.live import valid_entry_id
from tests.unit.gateway.conftest import Start, assert_problem

U64_MAX = str(2**64 - 1)


@pytest.mark.parametrize("value", ["0", "0-0", "1526919030474-55", U64_MAX, f"{U64_MAX}-{U64_MAX}"])
def test_stream_ids_are_valid(value: str) -> None:
    assert valid_entry_id(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "1-",
        "-1",
        "1-2-3",
        "18446744073709551616-0",
        "0-18446744073709551616",
        "9" * 300,
        "²-0",
        "١٢-0",
        " 1-0",
    ],
)
def test_other_values_are_not(value: str) -> None:
    assert not valid_entry_id(value)


@pytest.mark.parametrize(
    "value", ["", "garbage", "18446744073709551616-0", "9" * 300, "0-" + "9" * 300, b"\xb2-0"]
)
async def test_stream_refuses_them_before_it_starts(start: Start, value: str | bytes) -> None:
    async with start() as gw:
        response = await gw.client.get("/v1/stream", headers={"Last-Event-ID": value})
        body = assert_problem(response, 422)
        assert body["errors"][0]["field"].lower() == "last-event-id"
