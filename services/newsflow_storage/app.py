"""Builds the storage worker: MongoDB client, repository and handler."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.redis import RedisBroker
from pymongo import WriteConcern

from newsflow import streams
from newsflow.runtime.mongo import ITEMS, create_mongo_client, ensure_indexes
from newsflow.runtime.worker import Entry, Outcome, TransientError, Worker, build_worker
from newsflow_storage.handlers import TRANSIENT, store_batch
from newsflow_storage.repository import MongoStoryRepository
from newsflow_storage.settings import StorageSettings

SERVICE = "storage"


def create_worker(settings: StorageSettings) -> tuple[Worker, RedisBroker]:
    client = create_mongo_client(settings.mongodb_url)
    db = client[settings.mongodb_database]
    # An ack must mean "durably stored": wait for the journal (and a majority, on a
    # replica set) before storage acknowledges the entry.
    durable = WriteConcern(w="majority", j=True)
    repo = MongoStoryRepository(db[ITEMS].with_options(write_concern=durable))
    indexes_ready = False

    async def handle(entries: Sequence[Entry]) -> Sequence[Outcome]:
        nonlocal indexes_ready
        if not indexes_ready:
            try:
                await ensure_indexes(db)
            except TRANSIENT as exc:
                raise TransientError(str(exc)) from exc
            indexes_ready = True
        return await store_batch(entries, repo)

    async def mongodb() -> str | None:
        try:
            await client.admin.command("ping")
        except Exception as exc:
            return str(exc) or type(exc).__name__
        return None

    return build_worker(SERVICE, settings, streams.ENRICHED, handle, readiness_checks=[mongodb])
