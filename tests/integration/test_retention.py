"""Retention on a real redis-server: streams stay bounded, and nothing a group has
not consumed is trimmed, even while one group is stopped."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from newsflow import streams
from newsflow.events import ItemStored
from newsflow.runtime.mongo import ITEMS
from newsflow.runtime.redis_factory import create_redis
from newsflow.runtime.retention import last_passes, run_pass, trim, trimmer_for
from newsflow.runtime.worker import serve
from newsflow_gateway.app import create_app
from newsflow_gateway.settings import GatewaySettings
from newsflow_ingest.app import create_worker
from newsflow_ingest.settings import IngestSettings
from newsflow_tools.status import collect, print_status
from tests.helpers import eventually_async
from tests.unit.gateway.fakes import Fakes
from tests.unit.gateway.test_index_service import snapshot, story

pytestmark = pytest.mark.integration

STREAM = streams.INGESTED
ROUNDS = 100
PER_ROUND = 1_000  # 100,000 entries in all
#: Rounds during which the second group does not read at all.
STOPPED = range(30, 70)


async def _read(redis: Redis, group: str, count: int) -> list[tuple[str, dict[Any, Any]]]:
    reply: Any = await redis.xreadgroup(group, "c", {STREAM: ">"}, count=count)
    return [(i.decode(), f) for i, f in reply[0][1]] if reply else []


async def test_streams_stay_bounded_and_a_stopped_group_loses_nothing(redis_url: str) -> None:
    redis = create_redis(redis_url)
    try:
        for group in ("enrichment", "audit"):
            await redis.xgroup_create(STREAM, group, id="0", mkstream=True)
        added: list[str] = []
        audit_seen: list[str] = []
        audit_unacked: list[str] = []
        longest, peak_memory = 0, 0
        lengths_while_both_read: list[int] = []
        for round_ in range(ROUNDS):
            pipe = redis.pipeline(transaction=False)
            for n in range(PER_ROUND):
                pipe.xadd(STREAM, {"event": f"{round_}:{n}"})
            added += [i.decode() for i in await pipe.execute()]
            # The first group keeps up: it reads and acks everything.
            done = [i for i, _ in await _read(redis, "enrichment", 10 * PER_ROUND)]
            await redis.xack(STREAM, "enrichment", *done)
            if round_ not in STOPPED:
                # The second acks last round's entries and leaves this round's pending.
                if audit_unacked:
                    await redis.xack(STREAM, "audit", *audit_unacked)
                rows = await _read(redis, "audit", ROUNDS * PER_ROUND)
                assert all(fields for _, fields in rows), "an entry came back without its data"
                audit_unacked = [i for i, _ in rows]
                audit_seen += audit_unacked
            result = await trim(redis, STREAM, window_s=0.001)
            assert result is not None
            length = int(await redis.xlen(STREAM))
            longest = max(longest, length)
            peak_memory = max(peak_memory, int(await redis.memory_usage(STREAM, samples=0)))
            if round_ not in STOPPED and round_ - 1 not in STOPPED and round_ > 0:
                lengths_while_both_read.append(length)
            if round_ in STOPPED:
                assert result.held_by == "audit"
                first: Any = await redis.xrange(STREAM, count=1)
                # Everything the stopped group has not acknowledged is still there.
                assert first[0][0].decode() <= audit_unacked[0]
        # Pending entries of the stopped group still read with their data after the trims.
        pending: Any = await redis.xreadgroup("audit", "c", {STREAM: "0"}, count=PER_ROUND)
        assert [i.decode() for i, f in pending[0][1] if f] == audit_unacked
        await redis.xack(STREAM, "audit", *audit_unacked)
        # It saw every entry once, in order: none was trimmed before it read it.
        assert audit_seen == added
        assert len(added) == ROUNDS * PER_ROUND
        final = await trim(redis, STREAM, window_s=0.001)
        assert final is not None
        end_length = int(await redis.xlen(STREAM))
        end_memory = int(await redis.memory_usage(STREAM, samples=0))
        print(
            f"\nretention: {len(added)} entries; longest {longest} (second group stopped "
            f"{len(STOPPED)} rounds); at most {max(lengths_while_both_read)} while both read; "
            f"{end_length} at the end; stream memory peak {peak_memory} B, end {end_memory} B"
        )
        # Bounded: while both groups read, the stream holds about two rounds (the
        # pending one and one approximate-trim node of slack), never the 100,000.
        assert max(lengths_while_both_read) <= 3 * PER_ROUND
        assert longest >= len(STOPPED) * PER_ROUND  # the stopped group held it back
        assert end_length <= 200
        assert end_memory * 20 < peak_memory
    finally:
        await redis.aclose()


async def test_nothing_younger_than_the_window_is_trimmed(redis_url: str) -> None:
    redis = create_redis(redis_url)
    try:
        await redis.xgroup_create(STREAM, "enrichment", id="0", mkstream=True)
        pipe = redis.pipeline(transaction=False)
        for n in range(5_000):
            pipe.xadd(STREAM, {"event": str(n)})
        await pipe.execute()
        rows: Any = await redis.xreadgroup("enrichment", "c", {STREAM: ">"}, count=10_000)
        await redis.xack(STREAM, "enrichment", *[i for i, _ in rows[0][1]])
        result = await trim(redis, STREAM, window_s=3600)
        assert result is not None
        assert result.trimmed == 0
        assert result.held_by is None
        assert await redis.xlen(STREAM) == 5_000
        # The same entries, seen from an hour later, are all outside the window.
        later = await trim(redis, STREAM, window_s=3600, now_ms=int(time.time() * 1000) + 3_700_000)
        assert later is not None
        assert later.trimmed >= 4_900
    finally:
        await redis.aclose()


async def test_a_stream_without_groups_is_bounded_by_the_window_alone(redis_url: str) -> None:
    redis = create_redis(redis_url)
    try:
        pipe = redis.pipeline(transaction=False)
        for n in range(2_000):
            pipe.xadd(streams.STORED, {"event": str(n)})
        await pipe.execute()
        future = int(time.time() * 1000) + 10_000
        result = await trim(redis, streams.STORED, window_s=1, now_ms=future)
        assert result is not None
        assert result.trimmed >= 1_900
        assert await trim(redis, "news:none", window_s=1) is None
        with pytest.raises(ValueError, match="never trimmed"):
            await trim(redis, streams.DEAD, window_s=1)
    finally:
        await redis.aclose()


async def test_one_replica_trims_per_interval_and_leaves_a_record(redis_url: str) -> None:
    redis = create_redis(redis_url)
    try:
        await redis.xadd(streams.INGEST, {"item": "{}"})
        names = streams.TRIMMED_BY["ingest"]
        first = await run_pass(redis, names, window_s=60, interval_s=60, owner="a")
        second = await run_pass(redis, names, window_s=60, interval_s=60, owner="b")
        assert [r.stream for r in first] == [streams.INGEST]  # news:rejected does not exist
        assert second == []  # the lock of the first pass is still held
        record = (await last_passes(redis, list(streams.ALL_STREAMS)))[streams.INGEST]
        assert record.trimmed == 0
        assert record.total == 0
        assert record.at_ms > 0
        assert set(await last_passes(redis, list(streams.ALL_STREAMS))) == {streams.INGEST}
    finally:
        await redis.aclose()


async def test_a_running_ingest_worker_trims_its_streams_and_shows_it(redis_url: str) -> None:
    settings = IngestSettings(
        redis_url=redis_url, retention_window_s=0.001, retention_interval_s=0.1, poll_ms=50
    )
    worker, broker = create_worker(settings)
    redis = create_redis(redis_url)
    try:
        pipe = redis.pipeline(transaction=False)
        for n in range(1_000):  # not items: ingest rejects each onto news:rejected
            pipe.xadd(streams.INGEST, {"item": f'{{"n": {n}}}'})
        await pipe.execute()
        async with trimmer_for(worker).running():
            task = asyncio.create_task(serve(worker, broker))

            async def trimmed() -> bool:
                passes = await last_passes(redis, [streams.INGEST, streams.REJECTED])
                return all(p.total >= 900 for p in passes.values()) and len(passes) == 2

            await eventually_async(trimmed, within=30)
            worker.request_stop()
            assert await asyncio.wait_for(task, 30) == 0
        metrics = worker.metrics.render().decode()
        assert 'newsflow_stream_trimmed_total{stream="news:ingest"}' in metrics
        assert await redis.xlen(streams.INGEST) < 100
        out = io.StringIO()
        print_status(await collect(redis), out)
        lines = {line.split()[0]: line for line in out.getvalue().splitlines() if "  news:" in line}
        assert "removed" in lines[streams.INGEST]
        assert "removed" in lines[streams.REJECTED]
        assert "no trim pass yet" in lines[streams.STORED]
        assert "never trimmed" in lines[streams.DEAD]
    finally:
        await redis.aclose()


async def test_a_gateway_whose_position_was_trimmed_rebuilds_from_the_record(
    redis_url: str, tmp_path: Path
) -> None:
    """news:stored has no group; the window alone bounds it, and the index copes."""
    fakes = Fakes()
    fakes.redis = create_redis(redis_url)  # type: ignore[assignment]
    settings = GatewaySettings(index_dir=tmp_path / "index")

    async def announce(doc: dict[str, Any]) -> str:
        event = ItemStored(
            correlation_id="c", item_id=doc["_id"], copy_key="k", revision=1, created=True,
            story=snapshot(doc),
        )  # fmt: skip
        raw = await fakes.redis.xadd(streams.STORED, event.to_fields())  # type: ignore[arg-type]
        return str(raw.decode())

    async def stories_after(announced: str | None = None) -> int:
        app = create_app(settings, clients=fakes.clients)
        async with app.router.lifespan_context(app):
            search = app.state.gateway.search

            async def settled() -> bool:
                status = search.status()
                at = announced is None or search.position() == announced
                return bool(at and status["state"] == "ready")

            await eventually_async(settled, within=30)
            return int(search.status()["stories"])

    first = story(0)
    await fakes.mongo.db[ITEMS].insert_one(first)
    assert await stories_after(await announce(first)) == 1
    # While the gateway is away: two stories are stored and announced, then so many
    # announcements that trimming past the window removes the two and the position.
    for n in (1, 2):
        await fakes.mongo.db[ITEMS].insert_one(story(n))
        await announce(story(n))
    for _ in range(300):
        await announce(first)
    result = await trim(
        fakes.redis, streams.STORED, window_s=1, now_ms=int(time.time() * 1000) + 10_000
    )
    assert result is not None
    assert result.trimmed >= 200
    await fakes.mongo.db[ITEMS].insert_one(story(3))
    # Following the stream alone would give stories 0 and 3; the rebuild gives all four.
    assert await stories_after(await announce(story(3))) == 4


async def test_a_backlog_waits_for_a_service_that_has_not_made_its_group_yet(
    redis_url: str,
) -> None:
    redis = create_redis(redis_url)
    try:
        pipe = redis.pipeline(transaction=False)
        for n in range(2_000):
            pipe.xadd(streams.INGEST, {"item": str(n)})
        await pipe.execute()
        future = int(time.time() * 1000) + 3_600_000
        result = await trim(redis, streams.INGEST, window_s=1, now_ms=future)
        assert result is not None
        assert result.trimmed == 0
        assert result.held_by == "ingest"  # the group ingest will make at id 0
        assert await redis.xlen(streams.INGEST) == 2_000
    finally:
        await redis.aclose()
