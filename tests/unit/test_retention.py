"""The retention floor: below the window and below every group's oldest need."""

from __future__ import annotations

import pytest

from newsflow import streams
from newsflow.runtime.retention import GroupPosition, StreamId, floor, window_floor

DAY_MS = 86_400_000
NOW = 100 * DAY_MS


def group(name: str, last: str, pending: str | None = None) -> GroupPosition:
    return GroupPosition(
        name, StreamId.parse(last), StreamId.parse(pending) if pending is not None else None
    )


def test_ids_order_as_redis_orders_them() -> None:
    assert StreamId.parse("5-10") > StreamId.parse("5-9")
    assert StreamId.parse("6-0") > StreamId.parse("5-99")
    assert StreamId.parse(b"7-3").successor() == StreamId(7, 4)
    assert str(StreamId.parse("12")) == "12-0"


def test_without_groups_the_window_alone_decides() -> None:
    assert floor([], NOW, 7 * 86_400) == StreamId(NOW - 7 * DAY_MS, 0)


def test_a_group_that_read_everything_leaves_the_window_in_charge() -> None:
    assert floor([group("g", f"{NOW}-5")], NOW, 86_400) == window_floor(NOW, 86_400)


def test_an_undelivered_entry_holds_the_floor_just_after_the_last_delivered() -> None:
    last = f"{NOW - 3 * DAY_MS}-4"
    assert floor([group("stopped", last)], NOW, 86_400) == StreamId(NOW - 3 * DAY_MS, 5)


def test_a_pending_entry_holds_the_floor_at_itself() -> None:
    pending = f"{NOW - 5 * DAY_MS}-0"
    positions = [group("g", f"{NOW - DAY_MS}-0", pending)]
    assert floor(positions, NOW, 86_400) == StreamId(NOW - 5 * DAY_MS, 0)


def test_the_slowest_of_several_groups_wins() -> None:
    positions = [
        group("fast", f"{NOW}-0"),
        group("slow", f"{NOW - 2 * DAY_MS}-7"),
        group("stuck", f"{NOW}-0", f"{NOW - 4 * DAY_MS}-2"),
    ]
    assert floor(positions, NOW, 86_400) == StreamId(NOW - 4 * DAY_MS, 2)


def test_a_group_that_never_read_protects_the_whole_stream() -> None:
    assert floor([group("new", "0-0")], NOW, 1) == StreamId(0, 1)


def test_a_window_longer_than_the_clock_trims_nothing() -> None:
    assert floor([], 1_000, 7 * 86_400) == StreamId(0, 0)


def test_dead_letters_are_never_trimmed_and_every_other_stream_is() -> None:
    trimmed = {s for names in streams.TRIMMED_BY.values() for s in names}
    assert streams.DEAD in streams.NEVER_TRIMMED
    assert trimmed == set(streams.ALL_STREAMS) - set(streams.NEVER_TRIMMED)
    for stream, service in streams.GROUPS.items():
        assert stream in streams.TRIMMED_BY[service]  # each worker trims its own input


@pytest.mark.parametrize("window_s", [0.001, 1, 86_400])
def test_the_floor_never_passes_the_window(window_s: float) -> None:
    assert floor([group("g", f"{NOW}-0")], NOW, window_s) <= window_floor(NOW, window_s)
