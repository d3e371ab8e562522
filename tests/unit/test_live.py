"""The live hub: commits of the search index fanned out to each client's query,
matched by the index itself; replay from ``Last-Event-ID``; slow clients ended.

A real (temporary) Tantivy index and fakeredis: no servers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import fakeredis
import pytest

from newsflow import streams
from newsflow.events import ItemStored
from newsflow_gateway import live
from newsflow_gateway.index.index import SearchHit, SearchIndex
from newsflow_gateway.index.query import parse
from newsflow_gateway.live import LiveHub, Subscription
from newsflow_gateway.search.backend import SearchFilters, StoryQuery
from tests.unit.index.conftest import make_story


class IndexMatcher:
    """The hub's view of the search engine, over a real index."""

    def __init__(self, index: SearchIndex) -> None:
        self.index = index
        self.calls = 0

    async def matching(self, ids: Sequence[str], query: StoryQuery) -> list[SearchHit]:
        self.calls += 1
        if query.nothing:
            return []
        return self.index.matching(list(ids), query.text, query.filters)

    def position(self) -> str | None:
        return self.index.position()


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    ix = SearchIndex.open_or_create(tmp_path / "index")
    ix.apply(
        [
            make_story("a", "Elections observed in Albania", topics=["elections"]),
            make_story("b", "Policing seminar", topics=["policing"]),
            make_story("c", "Election day", topics=["elections"]),
        ]
    )
    ix.commit(None)
    yield ix
    ix.close()


def drain(sub: Subscription) -> list[tuple[str, str]]:
    out = []
    while not sub.queue.empty():
        item = sub.queue.get_nowait()
        assert item is not None
        out.append((item[0], item[1].id))
    return out


async def test_each_client_gets_its_matches_in_stream_order(index: SearchIndex) -> None:
    matcher = IndexMatcher(index)
    hub = LiveHub(redis=None, search=matcher)  # type: ignore[arg-type]
    everything = Subscription(StoryQuery())
    elections = Subscription(StoryQuery(filters=SearchFilters(topic=["elections"])))
    words = Subscription(StoryQuery(text=parse("election -albania")))
    nothing = Subscription(StoryQuery(nothing=True))
    hub._subs.update({everything, elections, words, nothing})
    await hub._dispatch([("1-0", "c"), ("3-0", "gone"), ("4-0", "b"), ("5-0", "a")])
    assert drain(everything) == [("1-0", "c"), ("4-0", "b"), ("5-0", "a")]
    assert drain(elections) == [("1-0", "c"), ("5-0", "a")]
    assert drain(words) == [("1-0", "c")]  # stemmed: "election" finds "Election"
    assert drain(nothing) == []
    assert matcher.calls == 4  # one search per client per commit


async def test_commits_without_clients_cost_nothing(index: SearchIndex) -> None:
    matcher = IndexMatcher(index)
    hub = LiveHub(redis=None, search=matcher)  # type: ignore[arg-type]
    hub.committed([("1-0", "a")], "1-0")
    assert hub._commits.empty()


def test_a_client_too_slow_for_its_queue_is_ended(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "QUEUE_SIZE", 2)
    sub = Subscription(StoryQuery())
    hit = SearchHit("a", {})
    for n in range(3):
        sub.offer((f"{n}-0", hit))
    assert sub.queue.get_nowait() is None  # queued matches dropped, the stream ends


def stored(item_id: str) -> dict[str, Any]:
    event = ItemStored(correlation_id="c", item_id=item_id, copy_key="k", revision=1, created=True)
    return dict(event.to_fields())


async def test_replay_then_live_without_gaps_or_repeats(index: SearchIndex) -> None:
    redis = fakeredis.FakeAsyncRedis()
    ids = [await redis.xadd(streams.STORED, stored(i)) for i in ("a", "b", "c")]
    ids.append(await redis.xadd(streams.STORED, stored("b")))  # b revised: replayed once
    first, second, third, fourth = (i.decode() for i in ids)
    index.commit(fourth)  # the index holds all of them
    hub = LiveHub(redis=redis, search=IndexMatcher(index))
    await hub.start()
    try:
        sub = Subscription(StoryQuery())
        got: list[tuple[str, str]] = []

        async def follow() -> None:
            async for entry_id, hit in hub.follow(sub, first):
                got.append((entry_id, hit.id))
                if len(got) == 3:
                    return

        task = asyncio.create_task(follow())
        await asyncio.sleep(0.05)
        # A commit that repeats what was replayed, then a new one.
        hub.committed([(third, "c"), ("9999999999999-0", "a")], "9999999999999-0")
        await asyncio.wait_for(task, 5)
        assert got == [(second, "b"), (third, "c"), ("9999999999999-0", "a")]
    finally:
        await hub.stop()


async def test_a_client_whose_query_fails_is_ended_and_the_others_still_served(
    index: SearchIndex,
) -> None:
    class Failing(IndexMatcher):
        async def matching(self, ids: Sequence[str], query: StoryQuery) -> list[SearchHit]:
            if query.text is not None:
                raise ValueError("zq* matches too many words")
            return await super().matching(ids, query)

    hub = LiveHub(redis=None, search=Failing(index))  # type: ignore[arg-type]
    broken = Subscription(StoryQuery(text=parse("zq*")))
    fine = Subscription(StoryQuery(filters=SearchFilters(topic=["elections"])))
    hub._subs.update({broken, fine})
    await hub._dispatch([("1-0", "c"), ("2-0", "a")])
    assert drain(fine) == [("1-0", "c"), ("2-0", "a")]
    assert broken.queue.get_nowait() is None  # its stream ends; it reconnects and is told


async def test_an_id_beyond_the_stream_resumes_from_now(index: SearchIndex) -> None:
    redis = fakeredis.FakeAsyncRedis()
    first = (await redis.xadd(streams.STORED, stored("a"))).decode()
    index.commit(first)
    hub = LiveHub(redis=redis, search=IndexMatcher(index))
    assert await hub.resume_point(None) == first
    assert await hub.resume_point("0") == "0"
    assert await hub.resume_point(first) == first
    assert await hub.resume_point("18446744073709551615-18446744073709551615") == first
