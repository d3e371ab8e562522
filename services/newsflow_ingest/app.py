"""Builds the ingest worker: broker, Redis client and handler, connected to nothing yet."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.redis import RedisBroker

from newsflow import streams
from newsflow.events import utcnow
from newsflow.metrics import WorkerMetrics
from newsflow.redis_factory import create_broker, create_redis
from newsflow.worker import Entry, Outcome, Worker
from newsflow_ingest.handlers import ingest_batch
from newsflow_ingest.settings import IngestSettings

SERVICE = "ingest"


def create_worker(settings: IngestSettings) -> tuple[Worker, RedisBroker]:
    redis = create_redis(settings.redis_url)

    async def handle(entries: Sequence[Entry]) -> Sequence[Outcome]:
        return ingest_batch(entries, now=utcnow())

    worker = Worker(
        service=SERVICE,
        settings=settings,
        stream=streams.INGEST,
        group=streams.GROUPS[streams.INGEST],
        handler=handle,
        redis=redis,
        metrics=WorkerMetrics(SERVICE),
    )
    broker = create_broker(settings.redis_url)
    worker.register(broker)
    return worker, broker
