"""Each stage on its own, and the raw ceilings beneath the stages.

:func:`prepare` runs the pure handlers once over the bench items to get what each
stage reads and writes (the same events the services exchange, byte for byte).
Then:

- :func:`stage_costs` times validation (the ingest handler), tagging (the
  enrichment handler) and storage (the storage handler on the real MongoDB) on
  their own, in this process, with the services' batch size;
- :func:`redis_ceiling` does one stage's Redis work with no framework: XREADGROUP
  of a batch, the onward XADDs and the XACK in one MULTI, as our worker does;
- :func:`mongo_ceiling` has the raw driver insert the same documents, with the
  same indexes, write concern and batch size as the storage service.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pymongo import AsyncMongoClient, WriteConcern

from newsflow.domain.tagging import Tagger
from newsflow.runtime.mongo import ITEM_INDEXES, ITEMS
from newsflow.runtime.redis_factory import create_redis
from newsflow.runtime.worker import Done, Entry
from newsflow_enrichment.handlers import enrich_batch
from newsflow_ingest.handlers import ingest_batch
from newsflow_storage.handlers import store_batch
from newsflow_storage.repository import InMemoryStoryRepository, MongoStoryRepository
from newsflow_tools.bench.pipeline import Progress

Fields = dict[str, Any]
MODEL_STAGE = "tagging, topic model on"
DURABLE = WriteConcern(w="majority", j=True)  # as the storage service writes
T = TypeVar("T")


@dataclass
class Prepared:
    """What each stage reads and writes, for every bench item."""

    ingest_in: list[Fields]
    ingested: list[Fields]
    enriched: list[Fields]
    stored: list[Fields]
    documents: list[dict[str, Any]]

    def stage_io(self, stage: str) -> tuple[list[Fields], list[Fields]]:
        return {
            "ingest": (self.ingest_in, self.ingested),
            "enrichment": (self.ingested, self.enriched),
            "storage": (self.enriched, self.stored),
        }[stage]


def _entries(fields: Sequence[Fields], prefix: str = "1") -> list[Entry]:
    return [
        Entry(id=f"{prefix}-{i}", body=dict(f), fields=f, correlation_id=f"{prefix}-{i}")
        for i, f in enumerate(fields)
    ]


def _outputs(outcomes: Sequence[Any]) -> list[Fields]:
    out: list[Fields] = []
    for outcome in outcomes:
        if not isinstance(outcome, Done) or not outcome.outputs:
            raise RuntimeError(f"a bench item did not pass the stage: {outcome}")
        out.append(outcome.outputs[0].to_fields())
    return out


def _batches(items: Sequence[T], size: int) -> list[Sequence[T]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def prepare(payloads: Sequence[bytes], tagger: Tagger) -> Prepared:
    now = datetime.now(UTC)
    ingest_in = [{"item": p.decode()} for p in payloads]
    ingested = _outputs(ingest_batch(_entries(ingest_in), now=now))
    enriched = _outputs([o for o, _ in enrich_batch(_entries(ingested), tagger)])
    repo = _Keeping()
    stored = _outputs(asyncio.run(_store_all(_entries(enriched), repo)))
    # Every bench item is its own story, so the documents come in item order.
    return Prepared(ingest_in, ingested, enriched, stored, list(repo.docs.values()))


class _Keeping(InMemoryStoryRepository):
    """Keeps the documents as built (no defensive copies: nothing else holds them)."""

    async def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        existed = {d["_id"] for d in docs if d["_id"] in self.docs}
        self.docs.update((d["_id"], d) for d in docs if d["_id"] not in existed)
        return existed


async def _store_all(entries: Sequence[Entry], repo: InMemoryStoryRepository) -> list[Any]:
    return [o for batch in _batches(entries, 100) for o in await store_batch(batch, repo)]


@dataclass(frozen=True)
class StageCost:
    items: int
    seconds: float
    cpu_seconds: float

    def summary(self) -> dict[str, float]:
        return {
            "items": self.items,
            "items_per_second": round(self.items / self.seconds, 1),
            "cpu_seconds_per_1000_items": round(self.cpu_seconds / self.items * 1000, 3),
        }


def _timed(run: Callable[[], Any], items: int) -> StageCost:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return StageCost(items, time.perf_counter() - wall, time.process_time() - cpu)


def stage_costs(
    prepared: Prepared,
    tagger: Tagger,
    mongodb_url: str,
    database: str,
    *,
    batch_size: int,
    storage_items: int,
    model_tagger: Tagger | None = None,
) -> dict[str, StageCost]:
    """Items/s of each stage's handler alone, in batches of ``batch_size``.

    With ``model_tagger``, tagging is timed a second time with the statistical
    topic model on (an enrichment setting, off by default).
    """
    now = datetime.now(UTC)
    ingest = _batches(_entries(prepared.ingest_in), batch_size)
    enrich = _batches(_entries(prepared.ingested), batch_size)
    n = len(prepared.ingest_in)
    costs = {
        "validation": _timed(lambda: [ingest_batch(b, now=now) for b in ingest], n),
        "tagging": _timed(lambda: [enrich_batch(b, tagger) for b in enrich], n),
    }
    if model_tagger is not None:
        costs[MODEL_STAGE] = _timed(lambda: [enrich_batch(b, model_tagger) for b in enrich], n)
    store = _batches(_entries(prepared.enriched[:storage_items]), batch_size)
    costs["storage"] = asyncio.run(_storage_cost(mongodb_url, database, store))
    return costs


async def _storage_cost(mongodb_url: str, database: str, store: list[Sequence[Entry]]) -> StageCost:
    """The storage handler on the real server; connecting and creating the indexes
    are not timed, and every item must be stored."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        collection = client[database][ITEMS]
        await collection.create_indexes(ITEM_INDEXES)
        await client.admin.command("ping")
        repo = MongoStoryRepository(collection.with_options(write_concern=DURABLE))
        wall, cpu = time.perf_counter(), time.process_time()
        outcomes = [o for batch in store for o in await store_batch(batch, repo)]
        cost = StageCost(len(outcomes), time.perf_counter() - wall, time.process_time() - cpu)
    finally:
        await client.close()
    failed = [o for o in outcomes if not isinstance(o, Done)]
    if failed:
        raise RuntimeError(f"the storage stage failed {len(failed)} items: {failed[0]}")
    return cost


async def redis_ceiling(
    redis_url: str, stage: str, prepared: Prepared, *, batch_size: int
) -> float:
    """Items/s of one stage's Redis work done raw: read a batch from the group,
    XADD each onward event and XACK the batch in one MULTI/EXEC."""
    inputs, outputs = prepared.stage_io(stage)
    source, sink, group = f"bench:raw:{stage}:in", f"bench:raw:{stage}:out", "raw"
    redis = create_redis(redis_url)
    try:
        await redis.delete(source, sink)
        for batch in _batches(inputs, 1000):
            pipe = redis.pipeline(transaction=False)
            for fields in batch:
                pipe.xadd(source, fields)  # type: ignore[arg-type]
            await pipe.execute()
        await redis.xgroup_create(source, group, id="0")
        done, started = 0, time.perf_counter()
        while done < len(inputs):
            rows: Any = await redis.xreadgroup(group, "c1", {source: ">"}, count=batch_size)
            ids = [entry_id for _, entries in rows for entry_id, _ in entries]
            pipe = redis.pipeline(transaction=True)
            for k in range(done, done + len(ids)):
                pipe.xadd(sink, outputs[k])  # type: ignore[arg-type]
            pipe.xack(source, group, *ids)
            await pipe.execute()
            done += len(ids)
        rate = done / (time.perf_counter() - started)
        await redis.delete(source, sink)
        return rate
    finally:
        await redis.aclose()


async def mongo_ceiling(
    mongodb_url: str,
    database: str,
    documents: Sequence[dict[str, Any]],
    *,
    batch_size: int,
    progress: Progress | None = None,
) -> float:
    """Docs/s of the raw driver inserting the stored documents, batch by batch."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        await client.drop_database(database)
        collection = client[database][ITEMS]
        await collection.create_indexes(ITEM_INDEXES)
        collection = collection.with_options(write_concern=DURABLE)
        batches = _batches([dict(d) for d in documents], batch_size)
        started, done = time.perf_counter(), 0
        for batch in batches:
            await collection.insert_many(list(batch), ordered=False)
            done += len(batch)
            if progress:
                progress(done, len(documents))
        return len(documents) / (time.perf_counter() - started)
    finally:
        await client.close()
