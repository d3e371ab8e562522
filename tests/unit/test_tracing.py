"""The tracing switch and the trace-context helpers (the whole trace is followed in
``tests/unit/gateway/test_tracing.py``)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence

import orjson
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import ValidationError

from newsflow import streams
from newsflow.events import ItemRejected
from newsflow.runtime import tracing
from newsflow.runtime.worker import Entry, Outcome, build_worker
from newsflow.settings import ServiceSettings, WorkerSettings

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def test_without_an_endpoint_no_sdk_is_installed() -> None:
    assert tracing.configure_tracing("ingest", None) is None
    assert tracing.configure_tracing("ingest", "") is None
    # Still the API's own proxy: no SDK provider was installed.
    assert type(trace.get_tracer_provider()).__name__ == "ProxyTracerProvider"


def test_an_endpoint_installs_the_sdk_with_an_otlp_exporter() -> None:
    """In a process of its own: the global provider can be set only once."""
    code = (
        "from opentelemetry import trace\n"
        "from newsflow.runtime.tracing import configure_tracing\n"
        "p = configure_tracing('storage', 'http://127.0.0.1:9/')\n"
        "assert trace.get_tracer_provider() is p\n"
        "(proc,) = p._active_span_processor._span_processors\n"
        "print(p.resource.attributes['service.name'], proc.span_exporter._endpoint)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert out.split() == ["newsflow-storage", "http://127.0.0.1:9/v1/traces"]


def test_the_endpoint_is_read_from_the_standard_variable() -> None:
    env = {**os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    code = "from newsflow.settings import ServiceSettings; print(ServiceSettings().otlp_endpoint)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert out.strip() == "http://collector:4318"


def test_an_endpoint_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValidationError, match="OTEL_EXPORTER_OTLP_ENDPOINT must start with"):
        ServiceSettings.model_validate({"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"})


def test_a_traceparent_gives_its_trace_id_and_a_malformed_one_nothing() -> None:
    assert tracing.trace_id_of(TRACEPARENT) == "0af7651916cd43dd8448eb211c80319c"
    for bad in (None, "", "nonsense", "00-" + "0" * 32 + "-" + "0" * 16 + "-01", "x" * 10_000):
        assert tracing.trace_id_of(bad) is None
        assert tracing.parent_context(bad) is None


def test_the_time_queued_comes_from_the_entry_id() -> None:
    assert tracing.queued_ms("1700000000000-3", now_ms=1700000000250) == 250
    assert tracing.queued_ms("1700000000000-0", now_ms=1699999999000) == 0  # clock skew
    assert tracing.queued_ms("not-an-id") is None


def test_nothing_recording_passes_the_received_context_on() -> None:
    """The no-op API hands the parent's context back: a process that does not trace
    still passes a story's trace on to the next stage."""
    with tracing.consumer_spans("news:ingest", [("1-0", TRACEPARENT), ("2-0", None)]) as (
        received,
        fresh,
    ):
        assert tracing.traceparent_of(received) == TRACEPARENT
        assert tracing.traceparent_of(fresh) is None
        assert not received.is_recording()


def test_the_traceparent_sent_on_is_what_the_w3c_propagator_writes() -> None:
    tracer = TracerProvider().get_tracer("test")
    for sampled in (True, False):
        provider_span = tracer.start_span("s")
        context = provider_span.get_span_context()
        if not sampled:
            provider_span = trace.NonRecordingSpan(
                trace.SpanContext(context.trace_id, context.span_id, False)
            )
        carrier: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(
            carrier, context=trace.set_span_in_context(provider_span)
        )
        assert tracing.traceparent_of(provider_span) == carrier["traceparent"]


def test_a_worker_reads_the_events_own_traceparent_not_one_quoted_inside_it() -> None:
    """A rejection echoes the entry it rejected, traceparent field included, as a JSON
    string: only the event's own top-level field counts."""
    worker, _ = build_worker("enrichment", WorkerSettings(), streams.INGESTED, _never)
    quoted = orjson.dumps({"item": "{}", "traceparent": TRACEPARENT}).decode()
    own = "00-11111111111111111111111111111111-2222222222222222-01"
    for traceparent, expected in ((None, None), (own, own)):
        event = ItemRejected(
            correlation_id="1-0",
            reason="r",
            payload=quoted,
            ingest_entry_id="1-0",
            traceparent=traceparent,
        )
        entry = worker.read("1-0", {b"event": event.to_fields()["event"]})
        assert entry.traceparent == expected


async def _never(entries: Sequence[Entry]) -> Sequence[Outcome]:
    raise AssertionError("not called")
