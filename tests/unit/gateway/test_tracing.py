"""One story, one trace: from ``POST /v1/items`` through ingest, enrichment and storage
to the gateway's search index, with the trace context carried inside the entries.

The gateway runs in process on fakes (see ``conftest.py``); the three workers are the
real :class:`~newsflow.runtime.worker.Worker` with the services' real handlers,
reading the same fake Redis. Spans go to the SDK's in-memory exporter.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator, Sequence

import orjson
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from newsflow import streams
from newsflow.events import ItemStored, parse_event
from newsflow.runtime import tracing
from newsflow.runtime.worker import Entry, Failed, Outcome, Worker, ensure_group
from tests.chain import pipeline_workers
from tests.unit.gateway.conftest import Gateway, Start

#: The publisher's own trace: its request span is the parent of the gateway's.
CLIENT_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CLIENT_SPAN = "00f067aa0ba902b7"
CLIENT_TRACEPARENT = f"00-{CLIENT_TRACE}-{CLIENT_SPAN}-01"

ITEM = {"title": "ODIHR opens an observation mission", "offices": ["ODIHR"]}


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    provider = TracerProvider()
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracing.use_provider(provider)
    yield memory
    tracing.use_provider(None)
    provider.shutdown()


def pipeline(gw: Gateway) -> list[Worker]:
    """The three workers on the gateway's fake Redis, with the services' handlers."""
    return pipeline_workers(gw.fakes.redis)


async def step(worker: Worker) -> int:
    """One read of the worker's group and the handling of what it got, as FastStream would."""
    await ensure_group(worker.redis, worker.stream, worker.group)
    rows = await worker.redis.xreadgroup(worker.group, "test", {worker.stream: ">"}, count=100)
    entries = [worker.read(i.decode(), fields) for _, got in rows for i, fields in got]
    await worker.process(entries)
    return len(entries)


async def publish(gw: Gateway, headers: dict[str, str]) -> str:
    key = await gw.key("publish")
    response = await gw.client.post(
        "/v1/items", json=ITEM, headers={"Authorization": f"Bearer {key}", **headers}
    )
    assert response.status_code == 202, response.text
    entry_id: str = response.json()["items"][0]["entry_id"]
    return entry_id


async def indexed(gw: Gateway) -> None:
    """Wait until the gateway's index has committed the last news:stored entry."""
    last = (await gw.fakes.redis.xrevrange(streams.STORED, count=1))[0][0].decode()
    search = gw.app.state.gateway.search
    for _ in range(500):
        if search.position() == last:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"the index did not commit {last}: {search.status()}")


def one(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    (found,) = [s for s in spans if s.name == name]
    return found


async def test_one_story_is_one_trace_from_the_request_to_the_index(
    start: Start, exporter: InMemorySpanExporter
) -> None:
    async with start() as gw:
        entry_id = await publish(gw, {"traceparent": CLIENT_TRACEPARENT})
        for worker in pipeline(gw):
            assert await step(worker) == 1
        await indexed(gw)
    spans = exporter.get_finished_spans()
    request = one(spans, "POST /v1/items")
    ingest = one(spans, "process news:ingest")
    enrichment = one(spans, "process news:ingested")
    storage = one(spans, "process news:enriched")
    index = one(spans, "process news:stored")

    chain = [request, ingest, enrichment, storage, index]
    assert {s.context.trace_id for s in chain} == {int(CLIENT_TRACE, 16)}
    assert request.parent is not None
    assert request.parent.span_id == int(CLIENT_SPAN, 16)
    for parent, child in itertools.pairwise(chain):
        assert child.parent is not None
        assert child.parent.span_id == parent.context.span_id, child.name
    assert request.kind is SpanKind.SERVER
    assert {s.kind for s in chain[1:]} == {SpanKind.CONSUMER}
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 202

    assert ingest.attributes is not None
    assert ingest.attributes["messaging.message.id"] == entry_id
    story = ingest.attributes[tracing.STORY_ID]
    for span in chain[1:]:
        assert span.attributes is not None
        assert span.attributes[tracing.STORY_ID] == story, span.name
        assert span.attributes[tracing.QUEUED_MS] >= 0  # type: ignore[operator]
        assert span.status.status_code is StatusCode.UNSET


async def test_without_an_sdk_the_callers_context_still_reaches_every_stage(
    start: Start,
) -> None:
    """Nothing records spans, yet each event carries the publisher's trace on."""
    async with start() as gw:
        await publish(gw, {"traceparent": CLIENT_TRACEPARENT})
        for worker in pipeline(gw):
            await step(worker)
        rows = await gw.fakes.redis.xrange(streams.INGEST)
        assert rows[0][1][b"traceparent"].decode() == CLIENT_TRACEPARENT
        stored = await gw.fakes.redis.xrange(streams.STORED)
    event = parse_event(ItemStored, stored[0][1][streams.EVENT_FIELD.encode()])
    assert event.traceparent == CLIENT_TRACEPARENT


async def test_a_publisher_xadd_with_a_traceparent_starts_the_trace_there(
    start: Start, exporter: InMemorySpanExporter
) -> None:
    async with start() as gw:
        await gw.fakes.redis.xadd(
            streams.INGEST, {"item": orjson.dumps(ITEM), "traceparent": CLIENT_TRACEPARENT}
        )
        ingest = pipeline(gw)[0]
        await step(ingest)
    span = one(exporter.get_finished_spans(), "process news:ingest")
    assert span.context.trace_id == int(CLIENT_TRACE, 16)
    assert span.parent is not None
    assert span.parent.span_id == int(CLIENT_SPAN, 16)


@pytest.mark.parametrize(
    "traceparent",
    ["", "garbage", "00-" + "0" * 32 + "-" + "0" * 16 + "-01", "00-" + "a" * 5000, "\x00\xff"],
)
async def test_a_malformed_traceparent_starts_a_new_trace_and_nothing_fails(
    start: Start, exporter: InMemorySpanExporter, traceparent: str
) -> None:
    async with start() as gw:
        await gw.fakes.redis.xadd(
            streams.INGEST, {"item": orjson.dumps(ITEM), "traceparent": traceparent}
        )
        await step(pipeline(gw)[0])
        ingested = await gw.fakes.redis.xrange(streams.INGESTED)
    span = one(exporter.get_finished_spans(), "process news:ingest")
    assert span.parent is None
    assert len(ingested) == 1
    assert orjson.loads(ingested[0][1][b"event"])["traceparent"].split("-")[1] == format(
        span.context.trace_id, "032x"
    )


async def test_an_old_event_without_a_traceparent_is_still_handled(
    start: Start, exporter: InMemorySpanExporter
) -> None:
    async with start() as gw:
        ingest, enrichment, _ = pipeline(gw)
        await gw.fakes.redis.xadd(streams.INGEST, {"item": orjson.dumps(ITEM)})
        await step(ingest)
        (entry_id, fields), *_ = await gw.fakes.redis.xrange(streams.INGESTED)
        old = orjson.loads(fields[b"event"])
        del old["traceparent"]
        await gw.fakes.redis.xadd(streams.INGESTED, {"event": orjson.dumps(old)})
        await gw.fakes.redis.xdel(streams.INGESTED, entry_id)
        assert await step(enrichment) == 1
        assert len(await gw.fakes.redis.xrange(streams.ENRICHED)) == 1
    span = one(exporter.get_finished_spans(), "process news:ingested")
    assert span.parent is None


async def test_a_failed_entry_marks_its_span_as_an_error(
    start: Start, exporter: InMemorySpanExporter
) -> None:
    async with start() as gw:
        worker = pipeline(gw)[0]

        async def broken(entries: Sequence[Entry]) -> Sequence[Outcome]:
            return [Failed("the tagger fell over") for _ in entries]

        worker.handler = broken
        await gw.fakes.redis.xadd(streams.INGEST, {"item": orjson.dumps(ITEM)})
        await step(worker)
    span = one(exporter.get_finished_spans(), "process news:ingest")
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "the tagger fell over"
