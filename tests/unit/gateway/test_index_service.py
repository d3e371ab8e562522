"""The gateway's index service in-process (fakeredis, the fake store, a real index):
what it applies from news:stored, what it rebuilds from the record, and when.

The same behaviours against real servers and processes, with SIGKILL, are in
``tests/integration/test_search_index.py``.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from newsflow import streams
from newsflow.events import ItemStored
from newsflow.runtime.mongo import ITEMS
from tests.unit.gateway.conftest import Gateway, Start
from tests.unit.gateway.fakes import Fakes


def story(n: int, version: int = 1, **fields: Any) -> dict[str, Any]:
    when = datetime(2021, 1, n + 1, tzinfo=UTC)
    return {
        "_id": f"{n:032x}",
        "_v": version,
        "title": f"Story {n} version {version} about elections",
        "published_at": when,
        "sort_at": when,
        "topic_ids": ["elections"],
        "topics": [{"id": "elections", "name": "Elections", "source": "inferred", "confidence": 1}],
        **fields,
    }


def snapshot(doc: dict[str, Any]) -> dict[str, Any]:
    """As storage announces it: times as ISO text."""
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in doc.items()}


async def announce(gw: Gateway, doc: dict[str, Any] | None, item_id: str = "") -> str:
    event = ItemStored(
        correlation_id=uuid.uuid4().hex,
        item_id=doc["_id"] if doc else item_id,
        copy_key="k",
        revision=1,
        created=True,
        story=snapshot(doc) if doc else None,
    )
    raw = await gw.fakes.redis.xadd(streams.STORED, event.to_fields())  # type: ignore[arg-type]
    return raw.decode()


async def committed(gw: Gateway, position: str) -> None:
    search = gw.app.state.gateway.search
    for _ in range(500):
        if search.position() == position and search.status()["state"] == "ready":
            return
        await asyncio.sleep(0.01)
    raise AssertionError(search.status())


async def titles(gw: Gateway, **params: Any) -> list[str]:
    response = await gw.client.get("/v1/items", params=params)
    assert response.status_code == 200, response.text
    return [i["title"] for i in response.json()["items"]]


async def test_snapshots_are_applied_and_the_newest_version_wins(start: Start) -> None:
    async with start() as gw:
        await announce(gw, story(1, 2))
        last = await announce(gw, story(1, 1))  # an older version, announced late
        await committed(gw, last)
        assert await titles(gw) == ["Story 1 version 2 about elections"]
        assert gw.fakes.mongo.db[ITEMS].docs == {}  # from the snapshots alone


async def test_an_announcement_without_a_story_is_read_from_the_record(start: Start) -> None:
    async with start() as gw:
        await gw.fakes.mongo.db[ITEMS].insert_one(story(2))
        last = await announce(gw, None, item_id=f"{2:032x}")
        await committed(gw, last)
        assert await titles(gw, q="elections") == ["Story 2 version 1 about elections"]


async def test_a_fresh_index_is_built_from_the_record_before_it_is_ready(start: Start) -> None:
    fakes = Fakes()
    for n in range(5):
        await fakes.mongo.db[ITEMS].insert_one(story(n))
    async with start(fakes=fakes, index_rebuild_batch=2) as gw:
        status = gw.app.state.gateway.search.status()
        assert (status["state"], status["stories"]) == ("ready", 5)
        assert len(await titles(gw)) == 5


async def test_a_redis_that_lost_news_stored_makes_the_index_rebuild(start: Start) -> None:
    fakes = Fakes()
    async with start(fakes=fakes) as gw:
        await gw.store(story(0))  # read from the stream: the index has a position
    # Redis restarts empty; meanwhile stories were stored whose announcements are
    # lost, and a new stream starts after the index's position.
    await fakes.redis.flushall()
    for n in (1, 2):
        await fakes.mongo.db[ITEMS].insert_one(story(n))
    new = {n: story(n) for n in (3, 4)}
    async with start(fakes=fakes) as gw:
        for doc in new.values():
            await fakes.mongo.db[ITEMS].insert_one(doc)
            last = await announce(gw, doc)
        await committed(gw, last)
        assert len(await titles(gw)) == 5
