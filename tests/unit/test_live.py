"""The live hub's fan-out, with a fake collection: no Redis, no MongoDB."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from newsflow.events import ItemStored
from newsflow_gateway.live import LiveHub, Subscription
from newsflow_gateway.search.params import parse_text_query
from newsflow_gateway.search.query import Filters, TextQuery


class FakeItems:
    """Answers ``find({"_id": {"$in": ids}})`` from a dict, and counts the queries."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs
        self.queries: list[list[str]] = []

    def find(self, query: dict[str, Any], projection: dict[str, Any]) -> AsyncIterator[Any]:
        ids = list(query["_id"]["$in"])
        self.queries.append(ids)

        async def rows() -> AsyncIterator[dict[str, Any]]:
            for i in ids:
                if i in self.docs:
                    yield self.docs[i]

        return rows()


def stored(item_id: str) -> dict[bytes, bytes]:
    """A ``news:stored`` entry as redis-py returns it (bytes keys)."""
    event = ItemStored(correlation_id="c", item_id=item_id, copy_key="k", revision=1, created=True)
    return {k.encode(): v for k, v in event.to_fields().items()}


async def test_one_query_per_read_stream_order_and_bad_entries_skipped() -> None:
    items = FakeItems(
        {
            "a": {"_id": "a", "title": "A", "topic_ids": ["elections"], "terms": []},
            "b": {"_id": "b", "title": "B", "topic_ids": ["policing"], "terms": ["b"]},
            "c": {"_id": "c", "title": "C", "topic_ids": ["elections"], "terms": []},
        }
    )
    hub = LiveHub(redis=None, items=items)  # type: ignore[arg-type]
    everything = Subscription(filters=Filters(), text=TextQuery())
    elections = Subscription(filters=Filters(topic=["elections"]), text=TextQuery())
    nothing = Subscription(filters=Filters(), text=parse_text_query(".*"))
    hub._subs.update({everything, elections, nothing})
    await hub._dispatch(
        [
            ("1-0", stored("c")),
            ("2-0", {b"event": b"{not json"}),  # malformed: skipped, not fatal
            ("2-1", {b"event": b'{"item_id": "a"}'}),  # not an ItemStored event: skipped
            ("2-2", {b"other": b"x"}),  # no event field: skipped
            ("3-0", stored("gone")),  # announced, but no longer stored
            ("4-0", stored("b")),
            ("5-0", stored("a")),
        ]
    )
    assert len(items.queries) == 1
    assert sorted(items.queries[0]) == ["a", "b", "c", "gone"]

    def drain(sub: Subscription) -> list[tuple[str, str]]:
        out = []
        while not sub.queue.empty():
            entry_id, doc = sub.queue.get_nowait()
            out.append((entry_id, doc.id))
        return out

    assert drain(everything) == [("1-0", "c"), ("4-0", "b"), ("5-0", "a")]
    assert drain(elections) == [("1-0", "c"), ("5-0", "a")]
    assert drain(nothing) == []  # a q with nothing searchable matches nothing, live too
