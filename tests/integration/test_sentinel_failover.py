"""A real failover: the primary is SIGKILLed mid-stream and the sentinels promote a
replica, while the three workers run on a ``redis+sentinel://`` URL.

Every item accepted (enqueue with WAIT, as ``newsflow push`` does with
``NEWSFLOW_REDIS_WAIT_REPLICAS=1``) must end up stored, once; the workers must
reconnect by themselves. Two replicas, not one: after the promotion, WAIT needs a
replica of the new primary, or nothing could be accepted any more.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import AsyncMongoClient
from redis.exceptions import RedisError

from newsflow import streams
from newsflow.domain.formats.common import ParsedItem, ParseResult
from newsflow.events import utcnow
from newsflow.runtime.enqueue import ReplicaWait, check, enqueue
from newsflow.runtime.redis_factory import create_redis
from newsflow.runtime.worker import Worker, serve
from newsflow_enrichment.app import create_worker as create_enrichment
from newsflow_enrichment.settings import EnrichmentSettings
from newsflow_ingest.app import create_worker as create_ingest
from newsflow_ingest.settings import IngestSettings
from newsflow_storage.app import create_worker as create_storage
from newsflow_storage.settings import StorageSettings
from newsflow_tools import cli
from tests.helpers import eventually_async
from tests.redis_ha import MASTER, Deployment, deployment

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

ITEMS = 5_000
BATCH = 100
KILL_AFTER = 2_000


@pytest.fixture
def ha(tmp_path: Path) -> Iterator[Deployment]:
    with deployment(tmp_path, replicas=2, sentinels=3) as started:
        yield started


def _items() -> list[ParsedItem]:
    return [
        ParsedItem(
            i + 1,
            {"title": f"Failover story number {i}", "published_at": "2021-02-01", "source": "HA"},
        )
        for i in range(ITEMS)
    ]


def _sentinels_ready(ha: Deployment) -> bool:
    """Every sentinel knows both replicas and the two other sentinels."""
    for sentinel in ha.sentinels:
        client = sentinel.client(decode_responses=True)
        try:
            info: Any = client.sentinel_master(MASTER)
        finally:
            client.close()
        if int(info["num-slaves"]) < 2 or int(info["num-other-sentinels"]) < 2:
            return False
    return True


def _master_port(ha: Deployment) -> int:
    client = ha.sentinels[0].client(decode_responses=True)
    try:
        _, port = client.sentinel_get_master_addr_by_name(MASTER)
    finally:
        client.close()
    return int(port)


async def _promoted(ha: Deployment, old_port: int) -> float:
    """When the sentinels first name another primary."""
    await eventually_async(
        lambda: asyncio.to_thread(lambda: _master_port(ha) != old_port), within=60, interval=0.05
    )
    return time.monotonic()


async def test_every_accepted_item_is_stored_once_across_a_failover(
    ha: Deployment, mongo_server: Any, mongo_db_name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    deadline = time.monotonic() + 30
    while not _sentinels_ready(ha):
        assert time.monotonic() < deadline, "the sentinels never saw the whole deployment"
        await asyncio.sleep(0.2)
    url = ha.sentinel_url
    common: dict[str, Any] = {
        "redis_url": url,
        "mongodb_url": mongo_server.url,
        "mongodb_database": mongo_db_name,
        "poll_ms": 100,
        "reclaim_idle_ms": 1_000,
    }
    workers: list[tuple[Worker, Any]] = [
        create_ingest(IngestSettings(**common, consumer_name="ingest-1")),
        create_enrichment(EnrichmentSettings(**common, consumer_name="enrichment-1")),
        create_storage(StorageSettings(**common, consumer_name="storage-1")),
    ]
    tasks = [asyncio.create_task(serve(w, b)) for w, b in workers]
    redis = create_redis(url)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.url)
    items = mongo[mongo_db_name]["items"]
    accepted: set[str] = set()
    refused = 0
    killed_at: float | None = None
    old_port = ha.primary.port
    try:
        parsed = _items()
        sent = 0
        while sent < ITEMS:
            batch = ParseResult(items=parsed[sent : sent + BATCH])
            try:
                report = await enqueue(
                    redis,
                    check(batch, now=utcnow()),
                    service="publisher",
                    wait=ReplicaWait(1, 1_000),
                )
            except (RedisError, OSError):  # no primary yet: a publisher retries
                refused += 1
                await asyncio.sleep(0.2)
                continue
            if report.unconfirmed:  # written, not confirmed: not accepted, send again
                refused += 1
                continue
            accepted.update(a.item_id for a in report.accepted)
            sent += BATCH
            if sent >= KILL_AFTER and killed_at is None:
                ha.primary.kill()
                killed_at = time.monotonic()
                promotion = asyncio.create_task(_promoted(ha, old_port))
        assert killed_at is not None
        promoted_at = await promotion

        async def all_stored() -> bool:
            return await items.count_documents({}) >= len(accepted)

        await eventually_async(all_stored, within=150, interval=0.5)
        docs = [doc async for doc in items.find({}, {"_id": 1, "copies": 1})]
        stored_ids = {doc["_id"] for doc in docs}
        assert accepted <= stored_ids  # every accepted item is stored ...
        assert len(docs) == len(accepted) == ITEMS  # ... exactly once: one story each,
        assert all(len(doc["copies"]) == 1 for doc in docs)  # holding one copy
        assert not any(t.done() for t in tasks), "a worker gave up instead of reconnecting"

        # Storage announces a story after writing it: the last batch's announcements
        # follow its write by a moment. Every story is announced, none lost in the
        # failover (a lost one would keep the gateway's index from ever seeing it).
        async def all_announced() -> bool:
            return int(await redis.xlen(streams.STORED)) >= ITEMS

        await eventually_async(all_announced, within=30, interval=0.2)
        # The CLI reads the same URL and finds the promoted primary.
        capsys.readouterr()
        assert await asyncio.to_thread(cli.main, ["status", "--redis-url", url]) == 0
        rows = [line.split() for line in capsys.readouterr().out.splitlines()]
        assert int(next(r for r in rows if r[0] == streams.STORED)[1]) >= ITEMS
        read = sum(int(w.metrics.items_in.labels(w.service)._value.get()) for w, _ in workers)
        held = sum([int(await redis.xlen(s)) for s in streams.GROUPS])
        print(
            f"\nfailover: primary killed after {KILL_AFTER} accepted items; a replica was "
            f"promoted within {promoted_at - killed_at:.1f}s; {refused} batches refused "
            f"meanwhile and sent again; {ITEMS} accepted, {len(stored_ids)} stored; "
            f"{read - held} entries redelivered or redone across the three workers"
        )
    finally:
        for worker, _ in workers:
            worker.request_stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        await redis.aclose()
        await mongo.close()
