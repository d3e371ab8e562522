"""Builds the enrichment worker. The taxonomy is loaded once, at start-up."""

from __future__ import annotations

from collections.abc import Sequence

from faststream.redis import RedisBroker

from newsflow import streams
from newsflow.domain.tagging import load_tagger
from newsflow.runtime.metrics import WorkerMetrics
from newsflow.runtime.worker import Entry, Outcome, Worker, build_worker
from newsflow_enrichment.handlers import enrich_batch
from newsflow_enrichment.settings import EnrichmentSettings

SERVICE = "enrichment"


def create_worker(settings: EnrichmentSettings) -> tuple[Worker, RedisBroker]:
    tagger = load_tagger(
        settings.taxonomy_path, settings.topic_model_path, model=settings.topic_model
    )
    metrics = WorkerMetrics(SERVICE)

    async def handle(entries: Sequence[Entry]) -> Sequence[Outcome]:
        results = enrich_batch(entries, tagger)
        for _, tags in results:
            if tags is None:
                continue
            for kind in ("offices", "topics", "countries"):
                unresolved = sum(1 for t in getattr(tags, kind) if not t.resolved)
                if unresolved:
                    metrics.unresolved_labels.labels(SERVICE, kind).inc(unresolved)
            if tags.content_type is not None and not tags.content_type.resolved:
                metrics.unresolved_labels.labels(SERVICE, "content_type").inc()
        return [outcome for outcome, _ in results]

    return build_worker(SERVICE, settings, streams.INGESTED, handle, metrics=metrics)
