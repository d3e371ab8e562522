"""The three pipeline workers built in process, with the services' own handlers.

For tests and benchmarks that follow items through ingest, enrichment and storage
without starting processes: storage writes to an in-memory repository. Written once
here so the tracing test and the tracing benchmark drive the same chain.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from newsflow import streams
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.events import utcnow
from newsflow.runtime.worker import Entry, Outcome, Worker, build_worker
from newsflow.settings import WorkerSettings
from newsflow_enrichment.handlers import enrich_batch
from newsflow_ingest.handlers import ingest_batch
from newsflow_storage.handlers import store_batch
from newsflow_storage.repository import InMemoryStoryRepository


def pipeline_workers(redis: Any, settings: WorkerSettings | None = None) -> list[Worker]:
    """Ingest, enrichment and storage workers on ``redis`` (a real or a fake client)."""
    tagger = Tagger(load_taxonomy())
    repo = InMemoryStoryRepository()

    async def ingest(entries: Sequence[Entry]) -> Sequence[Outcome]:
        return ingest_batch(entries, now=utcnow())

    async def enrich(entries: Sequence[Entry]) -> Sequence[Outcome]:
        return [outcome for outcome, _ in enrich_batch(entries, tagger)]

    async def store(entries: Sequence[Entry]) -> Sequence[Outcome]:
        return await store_batch(entries, repo)

    return [
        build_worker(service, settings or WorkerSettings(), stream, handler, redis=redis)[0]
        for service, stream, handler in (
            ("ingest", streams.INGEST, ingest),
            ("enrichment", streams.INGESTED, enrich),
            ("storage", streams.ENRICHED, store),
        )
    ]
