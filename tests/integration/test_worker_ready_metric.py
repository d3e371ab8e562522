"""``newsflow_worker_ready`` follows what /readyz would answer (the alert rules read it)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from newsflow import streams
from newsflow.runtime.worker import Done, Entry, Outcome, build_worker, serve
from newsflow.settings import WorkerSettings
from tests.helpers import eventually_async

pytestmark = pytest.mark.integration


async def test_the_ready_gauge_follows_the_readiness_checks(redis_url: str) -> None:
    problem: list[str] = []

    async def dependency() -> str | None:
        return problem[0] if problem else None

    async def handle(entries: Sequence[Entry]) -> Sequence[Outcome]:
        return [Done() for _ in entries]

    settings = WorkerSettings(redis_url=redis_url, consumer_name="ready-1", poll_ms=50)
    worker, broker = build_worker(
        "ingest", settings, streams.INGEST, handle, readiness_checks=[dependency]
    )

    async def ready_is(value: float) -> bool:
        sample = worker.metrics.registry.get_sample_value(
            "newsflow_worker_ready", {"service": "ingest"}
        )
        return sample == value

    task = asyncio.create_task(serve(worker, broker))
    try:
        await eventually_async(lambda: ready_is(1.0))
        problem.append("MongoDB unreachable")
        await eventually_async(lambda: ready_is(0.0))
        problem.clear()
        await eventually_async(lambda: ready_is(1.0))
    finally:
        worker.request_stop()
        assert await asyncio.wait_for(task, 30) == 0
