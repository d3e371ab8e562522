"""Benchmark what tracing costs the workers: items per second with it off and on.

Run with ``python -m tests.benchmarks.bench_tracing [N] [--rounds R]`` (``make bench``).
It starts a redis-server of its own (the embedded one), puts N publisher items on
``news:ingest``, then drives the real :class:`~newsflow.runtime.worker.Worker` of
ingest, enrichment and storage (their real handlers; storage on the in-memory
repository, so MongoDB's speed does not blur the difference) over the real Redis,
batch by batch as the services read them, until every item is stored.

Two modes, alternated R times so that drift of the machine hits both alike:

- **off**: no SDK installed, as in production without ``OTEL_EXPORTER_OTLP_ENDPOINT``;
- **on**: the SDK records a span per entry per stage and exports it through a
  ``BatchSpanProcessor`` (as :func:`~newsflow.runtime.tracing.configure_tracing`
  sets up) to an exporter that counts and drops them, so the network's cost is
  left out.

It prints the best and the median items/s of each mode (process CPU time and wall
clock) and the cost of tracing on the median CPU figure. Not a test: no target.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from redis.asyncio import Redis
from tests.chain import pipeline_workers

from newsflow import streams
from newsflow.runtime import tracing
from newsflow.runtime.worker import Worker, ensure_group
from newsflow.settings import WorkerSettings
from newsflow_tools.embedded import start_redis

BATCH = 100


class CountingExporter(SpanExporter):
    """Receives the spans as an OTLP exporter would, counts them and lets them go
    (the SDK's InMemorySpanExporter keeps them all, and the garbage collector's
    growing work on them would be billed to tracing)."""

    def __init__(self) -> None:
        self.exported = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.exported += len(spans)
        return SpanExportResult.SUCCESS


def items(n: int) -> list[bytes]:
    return [
        orjson.dumps(
            {
                "title": f"ODIHR opens an election observation mission, report {i}",
                "summary": "The mission will observe the parliamentary elections.",
                "offices": ["ODIHR"],
                "url": f"https://example.org/news/{i}",
            }
        )
        for i in range(n)
    ]


def workers(redis: Redis) -> list[Worker]:
    return pipeline_workers(redis, WorkerSettings(batch_size=BATCH))


async def drain(worker: Worker) -> int:
    """Read and handle the worker's group until it is empty, as the subscriber would."""
    handled = 0
    while True:
        rows: Any = await worker.redis.xreadgroup(
            worker.group, "bench", {worker.stream: ">"}, count=BATCH
        )
        got = [worker.read(i.decode(), f) for _, entries in rows or [] for i, f in entries]
        if not got:
            return handled
        await worker.process(got)
        handled += len(got)


async def one_round(url: str, payloads: list[bytes], traced: bool) -> tuple[float, float, int]:
    """(CPU seconds, wall seconds, spans exported) for the whole pipeline."""
    redis = Redis.from_url(url)
    await redis.flushall()
    chain = workers(redis)
    for worker in chain:
        await ensure_group(redis, worker.stream, worker.group)
    pipe = redis.pipeline(transaction=False)
    for payload in payloads:
        pipe.xadd(streams.INGEST, {streams.ITEM_FIELD: payload})
    await pipe.execute()
    provider, exporter = None, CountingExporter()
    if traced:
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(exporter))
        tracing.use_provider(provider)
    cpu, wall = time.process_time(), time.perf_counter()
    for worker in chain:
        handled = await drain(worker)
        assert handled == len(payloads), (worker.service, handled)
    if provider is not None:
        provider.force_flush()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    if provider is not None:
        provider.shutdown()
    tracing.use_provider(None)
    await redis.aclose()
    return cpu, wall, exporter.exported


async def bench(n: int, rounds: int) -> int:
    payloads = items(n)
    results: dict[str, list[tuple[float, float]]] = {"off": [], "on": []}
    with tempfile.TemporaryDirectory() as folder:
        server = start_redis(Path(folder), appendonly=False)
        try:
            await one_round(server.url, payloads[: min(n, 200)], traced=True)  # warm-up
            for _ in range(rounds):
                for mode in ("off", "on"):
                    cpu, wall, spans = await one_round(server.url, payloads, mode == "on")
                    assert spans == (3 * n if mode == "on" else 0), spans
                    results[mode].append((cpu, wall))
        finally:
            server.stop()
    print(f"{n} items through ingest, enrichment and storage, {rounds} rounds per mode")
    medians = {}
    for mode, runs in results.items():
        cpu_rates = [n / c for c, _ in runs]
        wall_rates = [n / w for _, w in runs]
        medians[mode] = statistics.median(cpu_rates)
        print(
            f"  tracing {mode:3}: {statistics.median(cpu_rates):7.0f} items/s CPU median "
            f"(best {max(cpu_rates):.0f}), {statistics.median(wall_rates):7.0f} items/s wall "
            "median"
        )
    cost = (medians["off"] / medians["on"] - 1) * 100
    print(f"  tracing on costs {cost:.1f}% of the CPU time per item (median against median)")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", nargs="?", type=int, default=3000, help="items per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    return asyncio.run(bench(args.n, args.rounds))


if __name__ == "__main__":
    sys.exit(main())
