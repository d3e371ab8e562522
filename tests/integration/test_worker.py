"""The worker runtime on a real redis-server: ack, reject, reclaim, dead-letter, group loss."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from newsflow import streams
from newsflow.events import DeadLetter, ItemIngested, ItemRejected, parse_event
from newsflow.runtime.metrics import WorkerMetrics
from newsflow.runtime.redis_factory import create_broker
from newsflow.runtime.worker import Done, Entry, Failed, Outcome, Worker, ensure_group, serve
from newsflow.settings import WorkerSettings
from newsflow_ingest.app import create_worker as create_ingest
from newsflow_ingest.settings import IngestSettings
from tests.helpers import eventually_async

pytestmark = pytest.mark.integration


@asynccontextmanager
async def running(worker: Worker, broker: Any) -> AsyncIterator[asyncio.Task[int]]:
    task = asyncio.create_task(serve(worker, broker))
    try:
        yield task
    finally:
        worker.request_stop()
        assert await asyncio.wait_for(task, 30) == 0


async def events(redis: Redis, stream: str) -> list[dict[str, Any]]:
    return [orjson.loads(f[b"event"]) for _, f in await redis.xrange(stream)]


async def test_ingest_publishes_valid_and_rejects_invalid(redis_url: str) -> None:
    worker, broker = create_ingest(IngestSettings(redis_url=redis_url, consumer_name="t1"))
    redis = Redis.from_url(redis_url)
    # Pushed before the service ever started: the group must start at 0.
    await redis.xadd(
        streams.INGEST, {"item": '{"title": "Early bird", "published_at": "2021-01-07"}'}
    )
    async with running(worker, broker):
        await redis.xadd(streams.INGEST, {"item": '{"title": "Second", "colour": "red"}'})
        await redis.xadd(streams.INGEST, {"item": '{"title": "Third"'})
        await eventually_async(lambda: _len(redis, streams.INGESTED, 1))
        await eventually_async(lambda: _len(redis, streams.REJECTED, 2))
    ingested = [parse_event(ItemIngested, e) for e in await events(redis, streams.INGESTED)]
    assert [e.item.title for e in ingested] == ["Early bird"]
    rejected = [parse_event(ItemRejected, e) for e in await events(redis, streams.REJECTED)]
    assert rejected[0].reason == "colour: unknown field"
    assert orjson.loads(rejected[0].payload) == {"item": '{"title": "Second", "colour": "red"}'}
    assert rejected[1].reason.startswith("item: not valid JSON")
    assert (await redis.xpending(streams.INGEST, "ingest"))["pending"] == 0
    await redis.aclose()


async def _len(redis: Redis, stream: str, n: int) -> bool:
    return int(await redis.xlen(stream)) >= n


def make_worker(redis_url: str, handler: Any, name: str, **settings: Any) -> tuple[Worker, Any]:
    cfg = WorkerSettings(
        redis_url=redis_url, consumer_name=name, reclaim_idle_ms=300, poll_ms=50, **settings
    )
    redis = Redis.from_url(redis_url)
    worker = Worker(
        service="test",
        settings=cfg,
        stream="t:in",
        group="g",
        handler=handler,
        redis=redis,
        metrics=WorkerMetrics("test"),
    )
    broker = create_broker(redis_url)
    worker.register(broker)
    return worker, broker


async def test_poison_entry_is_dead_lettered_and_others_flow(redis_url: str) -> None:
    seen: list[str] = []

    async def handler(entries: Sequence[Entry]) -> Sequence[Outcome]:
        out: list[Outcome] = []
        for e in entries:
            seen.append(e.fields["n"])
            out.append(Failed("boom: poison") if e.fields["n"] == "poison" else Done())
        return out

    worker, broker = make_worker(redis_url, handler, "w1", max_deliveries=3)
    redis = Redis.from_url(redis_url)
    async with running(worker, broker):
        for n in ["a", "poison", "b"]:
            await redis.xadd("t:in", {"n": n})
        await eventually_async(lambda: _len(redis, streams.DEAD, 1), within=15)
        await redis.xadd("t:in", {"n": "c"})
        await eventually_async(lambda: _async_true(seen.count("c") == 1))
    (letter,) = [parse_event(DeadLetter, e) for e in await events(redis, streams.DEAD)]
    assert letter.delivery_count == 3
    assert letter.error == "boom: poison"
    assert letter.fields == {"n": "poison"}
    assert seen.count("poison") == 3
    assert seen.count("a") == seen.count("b") == 1
    assert (await redis.xpending("t:in", "g"))["pending"] == 0
    await redis.aclose()


async def _async_true(value: bool) -> bool:
    return value


async def test_entries_of_a_dead_consumer_are_reclaimed(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    await ensure_group(redis, "t:in", "g")
    await redis.xadd("t:in", {"n": "orphan"})
    # A consumer reads the entry and dies without acking.
    await redis.xreadgroup("g", "dead-consumer", {"t:in": ">"}, count=10)
    handled: list[str] = []

    async def handler(entries: Sequence[Entry]) -> Sequence[Outcome]:
        handled.extend(e.fields["n"] for e in entries)
        return [Done() for _ in entries]

    worker, broker = make_worker(redis_url, handler, "w2")
    async with running(worker, broker):
        await eventually_async(lambda: _async_true(handled == ["orphan"]), within=10)
    assert (await redis.xpending("t:in", "g"))["pending"] == 0
    await redis.aclose()


async def test_group_lost_is_recreated_and_work_goes_on(redis_url: str) -> None:
    handled: list[str] = []

    async def handler(entries: Sequence[Entry]) -> Sequence[Outcome]:
        handled.extend(e.fields["n"] for e in entries)
        return [Done() for _ in entries]

    worker, broker = make_worker(redis_url, handler, "w3")
    redis = Redis.from_url(redis_url)
    async with running(worker, broker) as task:
        await redis.xadd("t:in", {"n": "before"})
        await eventually_async(lambda: _async_true("before" in handled))
        await redis.flushall()  # Redis restarted empty
        await asyncio.sleep(0.5)
        await redis.xadd("t:in", {"n": "after"})
        await eventually_async(lambda: _async_true("after" in handled), within=20)
        assert not task.done()
    await redis.aclose()


async def test_readiness_reports_lag_over_the_limit(redis_url: str) -> None:
    async def handler(entries: Sequence[Entry]) -> Sequence[Outcome]:
        return [Done() for _ in entries]

    worker, _ = make_worker(redis_url, handler, "w4", ready_max_lag=2)
    redis = Redis.from_url(redis_url)
    await ensure_group(redis, "t:in", "g")
    # Not started: the consumer loop is not running yet.
    assert await worker.readiness() == {"consumer": "a subscriber is not running"}
    for n in range(3):
        await redis.xadd("t:in", {"n": str(n)})
    assert (await worker.readiness())["lag"] == "3 entries behind (limit 2)"
    await redis.aclose()
    await worker.redis.aclose()
