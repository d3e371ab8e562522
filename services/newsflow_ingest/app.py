"""Builds the ingest worker: broker, Redis client and handler, connected to nothing yet."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.redis import RedisBroker

from newsflow import streams
from newsflow.events import utcnow
from newsflow.runtime.idempotency import claim
from newsflow.runtime.redis_factory import create_redis
from newsflow.runtime.worker import Entry, Outcome, Worker, build_worker
from newsflow_ingest.handlers import apply_idempotency, idempotency_claims, ingest_batch
from newsflow_ingest.settings import IngestSettings

SERVICE = "ingest"


def create_worker(settings: IngestSettings) -> tuple[Worker, RedisBroker]:
    redis = create_redis(settings.redis_url)

    async def handle(entries: Sequence[Entry]) -> Sequence[Outcome]:
        outcomes = ingest_batch(entries, now=utcnow())
        claims = idempotency_claims(entries, outcomes)
        held = await claim(redis, claims, settings.idempotency_window_s)
        return apply_idempotency(entries, outcomes, held)

    return build_worker(SERVICE, settings, streams.INGEST, handle, redis=redis)
