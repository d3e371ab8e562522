"""The worker runtime on a real redis-server: ack, reject, reclaim, dead-letter, group loss."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis

from newsflow import streams
from newsflow.domain.normalise import normalise
from newsflow.events import DeadLetter, ItemIngested, ItemRejected, parse_event
from newsflow.runtime.entries import fields_from_base64
from newsflow.runtime.metrics import WorkerMetrics
from newsflow.runtime.redis_factory import create_broker
from newsflow.runtime.worker import Done, Entry, Failed, Outcome, Worker, ensure_group, serve
from newsflow.settings import WorkerSettings
from newsflow_enrichment.app import create_worker as create_enrichment
from newsflow_enrichment.settings import EnrichmentSettings
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


# -- entries we cannot decode ---------------------------------------------------


#: Entries no stage can read, keyed by what is wrong with them.
UNDECODABLE_INGEST: dict[str, dict[bytes, bytes]] = {
    "binary item": {b"item": b"\xff\xfe\x00\x80binary"},
    "bad UTF-8 in JSON": {b"item": b'{"title": "Bad \xc3\x28"}'},
    "bad UTF-8 field name": {b"\xffitem": b'{"title": "x"}'},
    "no item field": {b"title": b"A story without its item field"},
    "broken envelope": {b"__data__": b"\x89BIN\r\n\x1a\n\x00\x01\xff\xff"},
}


async def test_undecodable_ingest_entries_are_rejected_and_the_batch_flows(
    redis_url: str,
) -> None:
    worker, broker = create_ingest(
        IngestSettings(redis_url=redis_url, consumer_name="u1", poll_ms=50, reclaim_idle_ms=60_000)
    )
    redis = Redis.from_url(redis_url)
    await ensure_group(redis, streams.INGEST, "ingest")
    ids: dict[str, bytes] = {}
    # One batch: valid items around every kind of undecodable entry.
    await redis.xadd(streams.INGEST, {"item": '{"title": "Valid before"}'})
    for name, fields in UNDECODABLE_INGEST.items():
        ids[name] = await redis.xadd(streams.INGEST, fields)  # type: ignore[arg-type]
    await redis.xadd(streams.INGEST, {"item": '{"title": "Valid after"}'})
    async with running(worker, broker):
        # Promptly: the reclaimer would only act after 60 s.
        await eventually_async(lambda: _len(redis, streams.INGESTED, 2), within=10)
        await eventually_async(
            lambda: _len(redis, streams.REJECTED, len(UNDECODABLE_INGEST)), within=10
        )
        await eventually_async(lambda: _no_pending(redis, streams.INGEST, "ingest"), within=10)
    ingested = [parse_event(ItemIngested, e) for e in await events(redis, streams.INGESTED)]
    assert sorted(e.item.title for e in ingested) == ["Valid after", "Valid before"]
    rejected = {
        r.ingest_entry_id: r
        for r in (parse_event(ItemRejected, e) for e in await events(redis, streams.REJECTED))
    }
    for name, fields in UNDECODABLE_INGEST.items():
        event = rejected[ids[name].decode()]
        assert event.source_stream == streams.INGEST, name
        assert event.reason, name
        assert event.payload_base64 is not None, name
        assert fields_from_base64(event.payload_base64) == fields, name
    assert "UTF-8" in rejected[ids["binary item"].decode()].reason
    assert "item" in rejected[ids["no item field"].decode()].reason
    text = worker.metrics.render().decode()
    assert 'newsflow_items_rejected_total{service="ingest"} 5.0' in text
    assert await redis.xlen(streams.DEAD) == 0
    await redis.aclose()


async def _no_pending(redis: Redis, stream: str, group: str) -> bool:
    return int((await redis.xpending(stream, group))["pending"]) == 0


UNDECODABLE_EVENTS: dict[str, dict[bytes, bytes]] = {
    "binary event": {b"event": b"\xff\xfe\x00\x80binary"},
    "bad UTF-8 in JSON": {b"event": b'{"item": "Bad \xc3\x28"}'},
    "no event field": {b"item": b'{"title": "x"}'},
    "invalid JSON": {b"event": b'{"item": '},
}


async def test_undecodable_events_are_rejected_at_enrichment(redis_url: str) -> None:
    worker, broker = create_enrichment(
        EnrichmentSettings(
            redis_url=redis_url, consumer_name="u2", poll_ms=50, reclaim_idle_ms=60_000
        )
    )
    redis = Redis.from_url(redis_url)
    await ensure_group(redis, streams.INGESTED, "enrichment")
    item = normalise({"title": "A valid story"}, now=datetime.now(UTC))
    good = ItemIngested(correlation_id="1-0", item=item, ingest_entry_id="1-0")
    ids: dict[str, bytes] = {}
    for name, fields in UNDECODABLE_EVENTS.items():
        ids[name] = await redis.xadd(streams.INGESTED, fields)  # type: ignore[arg-type]
    await redis.xadd(streams.INGESTED, good.to_fields())  # type: ignore[arg-type]
    async with running(worker, broker):
        await eventually_async(lambda: _len(redis, streams.ENRICHED, 1), within=10)
        await eventually_async(
            lambda: _len(redis, streams.REJECTED, len(UNDECODABLE_EVENTS)), within=10
        )
        await eventually_async(
            lambda: _no_pending(redis, streams.INGESTED, "enrichment"), within=10
        )
    rejected = {
        r.ingest_entry_id: r
        for r in (parse_event(ItemRejected, e) for e in await events(redis, streams.REJECTED))
    }
    for name, fields in UNDECODABLE_EVENTS.items():
        event = rejected[ids[name].decode()]
        assert event.service == "enrichment", name
        assert event.source_stream == streams.INGESTED, name
        assert event.payload_base64 is not None, name
        assert fields_from_base64(event.payload_base64) == fields, name
    assert "not valid JSON" in rejected[ids["invalid JSON"].decode()].reason
    text = worker.metrics.render().decode()
    assert 'newsflow_items_rejected_total{service="enrichment"} 4.0' in text
    assert await redis.xlen(streams.DEAD) == 0
    await redis.aclose()


async def test_faststream_envelope_is_still_read_at_ingest(redis_url: str) -> None:
    """The worker reads entries itself now; FastStream's own publishers still get in."""
    worker, broker = create_ingest(
        IngestSettings(redis_url=redis_url, consumer_name="u3", poll_ms=50)
    )
    redis = Redis.from_url(redis_url)
    async with running(worker, broker):
        await eventually_async(lambda: _async_true(all(sub.running for sub in broker.subscribers)))
        await broker.publish({"title": "Sent through FastStream"}, stream=streams.INGEST)
        await eventually_async(lambda: _len(redis, streams.INGESTED, 1), within=10)
    (event,) = [parse_event(ItemIngested, e) for e in await events(redis, streams.INGESTED)]
    assert event.item.title == "Sent through FastStream"
    assert await redis.xlen(streams.REJECTED) == 0
    await redis.aclose()
