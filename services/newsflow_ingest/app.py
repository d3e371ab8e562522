"""Builds the ingest worker: broker, Redis client and handler, connected to nothing yet."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.redis import RedisBroker

from newsflow import streams
from newsflow.events import ItemIngested, utcnow
from newsflow.runtime.redis_factory import create_redis
from newsflow.runtime.worker import Done, Entry, Outcome, Worker, build_worker
from newsflow_ingest.handlers import apply_idempotency, idempotency_key, ingest_batch
from newsflow_ingest.settings import IngestSettings

SERVICE = "ingest"


def create_worker(settings: IngestSettings) -> tuple[Worker, RedisBroker]:
    redis = create_redis(settings.redis_url)

    async def handle(entries: Sequence[Entry]) -> Sequence[Outcome]:
        outcomes = ingest_batch(entries, now=utcnow())
        keys = [
            key
            for o in outcomes
            if isinstance(o, Done)
            and o.outputs
            and isinstance(o.outputs[0], ItemIngested)
            and (key := idempotency_key(o.outputs[0]))
        ]
        seen = (
            dict(zip(keys, [bool(v) for v in await redis.mget(keys)], strict=True)) if keys else {}
        )
        return apply_idempotency(outcomes, seen, settings.idempotency_window_s)

    return build_worker(SERVICE, settings, streams.INGEST, handle, redis=redis)
