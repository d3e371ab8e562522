"""``newsflow reenrich``: re-tag stored stories after the taxonomy changed.

Stories whose ``taxonomy_version`` differs from the current one are sent again
through the normal path: each stored copy goes back onto ``news:ingested`` as an
``ItemIngested`` event, enrichment tags it with the current taxonomy, and storage
upserts it (same copy, same revision: the new tags replace the old). Progress is
checkpointed in Redis per taxonomy version, so an interrupted run resumes where it
stopped.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import redis as redis_sync
from pymongo import MongoClient

from newsflow import streams
from newsflow.domain.items import NewsItem
from newsflow.events import ItemIngested
from newsflow.runtime.codec import text
from newsflow.runtime.mongo import ITEMS

CHECKPOINT = "newsflow:reenrich:{version}:last_id"
BATCH = 200
NAMESPACE = uuid.UUID("0f8d1a52-3b7e-4a0e-9d55-5a4bb1f2c9e1")


def pending_filter(version: str) -> dict[str, Any]:
    return {"taxonomy_version": {"$ne": version}}


def reenrich(
    client: redis_sync.Redis,
    mongo: MongoClient[dict[str, Any]],
    database: str,
    version: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    restart: bool = False,
) -> int:
    """Queue every out-of-date story for re-enrichment; returns copies queued."""
    items = mongo[database][ITEMS]
    key = CHECKPOINT.format(version=version)
    if restart:
        client.delete(key)
    last = client.get(key)
    query = pending_filter(version)
    total = items.count_documents(query)
    done = 0
    queued = 0
    while True:
        page_query = dict(query)
        if last:
            page_query["_id"] = {"$gt": text(last)}
        docs = list(items.find(page_query, {"copies": 1}).sort("_id", 1).limit(BATCH))
        if not docs:
            break
        pipe = client.pipeline(transaction=True)
        for doc in docs:
            for copy in doc.get("copies", {}).values():
                item = NewsItem.model_validate(copy["item"])
                event = ItemIngested(
                    event_id=uuid.uuid5(NAMESPACE, f"{version}:{item.id}:{item.copy_key}"),
                    correlation_id=f"reenrich:{version}:{item.id}",
                    item=item,
                    ingest_entry_id="reenrich",
                )
                pipe.xadd(streams.INGESTED, event.to_fields())  # type: ignore[arg-type]
                queued += 1
        last = docs[-1]["_id"]
        pipe.set(key, last)
        pipe.execute()
        done += len(docs)
        if progress:
            progress(done, total)
    return queued
