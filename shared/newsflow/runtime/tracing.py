"""OpenTelemetry traces that follow one story across the services, through the streams.

The trace context (W3C ``traceparent``) travels **inside the data**: in the
``traceparent`` field of an event (:class:`newsflow.events.Event`), and in a
``traceparent`` field beside ``item`` in a ``news:ingest`` entry (the gateway's
publish route writes one; any publisher's XADD may). A stream keeps no headers, so
there is nowhere else to put it, and a context in the entry survives redelivery,
reclaiming and dead-lettering with it.

Each consumer opens one CONSUMER span per entry, a child of the producer's context,
named ``process <stream>``, with the time the entry waited in the stream
(:data:`QUEUED_MS`, from the entry id's millisecond timestamp, which Redis assigns
on XADD). The events it publishes carry that span's context on, so one trace shows
the HTTP request, ingest, enrichment, storage and the search index, each stage and
its wait.

**Off by default, and free then.** Only :func:`configure_tracing` with an OTLP
endpoint (``OTEL_EXPORTER_OTLP_ENDPOINT``) installs the SDK. Without it the API's
no-op tracer returns the parent's context unchanged, so a context received still
passes through to the next stage, and nothing is recorded or exported.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from redis.typing import EncodableT, FieldT

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

#: The entry field, and the event field, that carries the W3C trace context.
TRACEPARENT_FIELD: Final = "traceparent"
#: Span attribute: milliseconds between the XADD of the entry and its handling.
QUEUED_MS: Final = "newsflow.queued_ms"
#: Span attribute: the story's id, where known.
STORY_ID: Final = "newsflow.story_id"

_PROPAGATOR: Final = TraceContextTextMapPropagator()
#: A traceparent is 55 characters; anything much longer is not one.
_MAX_TRACEPARENT: Final = 128

#: Resolves to the global provider (the no-op one until :func:`configure_tracing`).
_tracer: Tracer = trace.get_tracer("newsflow")


def use_provider(provider: TracerProvider | None) -> None:
    """Record newsflow's spans with ``provider`` (a test's in-memory one), or, given None,
    with the global provider again. The global provider can be set only once per
    process, so tests that each want their own use this instead."""
    global _tracer
    _tracer = (provider or trace.get_tracer_provider()).get_tracer("newsflow")


def configure_tracing(service: str, endpoint: str | None) -> SdkTracerProvider | None:
    """Export spans over OTLP/HTTP to ``endpoint`` (the collector's base URL), or do nothing.

    Returns the provider, to be shut down (which flushes it) when the process ends.
    The trace SDK is imported here only, so a process that does not trace never loads it.
    """
    if not endpoint:
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: f"newsflow-{service}"}))
    exporter = OTLPSpanExporter(endpoint=endpoint.rstrip("/") + "/v1/traces")
    provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def parent_context(traceparent: str | None) -> Context | None:
    """The context a received ``traceparent`` names; None when absent or malformed."""
    if not traceparent or len(traceparent) > _MAX_TRACEPARENT:
        return None
    context = _PROPAGATOR.extract({TRACEPARENT_FIELD: traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def traceparent_of(span: Span) -> str | None:
    """The ``traceparent`` to send on from ``span``; None when it has no valid context."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    # What the W3C propagator's inject writes, without its carrier and context objects.
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"


def current_traceparent() -> str | None:
    """The ``traceparent`` of the span in force here (the publish request's, say)."""
    return traceparent_of(trace.get_current_span())


def entry_fields() -> dict[FieldT, EncodableT]:
    """The trace field to add to a ``news:ingest`` entry written here; empty when none."""
    traceparent = current_traceparent()
    return {TRACEPARENT_FIELD: traceparent.encode()} if traceparent else {}


def trace_id_of(traceparent: str | None) -> str | None:
    """The 32-hex trace id inside a well-formed ``traceparent``."""
    context = parent_context(traceparent)
    if context is None:
        return None
    return trace.format_trace_id(trace.get_current_span(context).get_span_context().trace_id)


def queued_ms(entry_id: str, now_ms: float | None = None) -> float | None:
    """How long the entry waited since its XADD, from the timestamp in its id."""
    stamp, _, _ = entry_id.partition("-")
    if not stamp.isdigit():
        return None
    now = time.time() * 1000 if now_ms is None else now_ms
    return max(0.0, now - int(stamp))


@contextmanager
def consumer_spans(stream: str, entries: Sequence[tuple[str, str | None]]) -> Iterator[list[Span]]:
    """One CONSUMER span per ``(entry id, traceparent)``, child of that context, in order.

    They cover the handling of the whole batch (a handler works on batches), and
    end when the block ends; mark an entry whose handling failed with :func:`failed`
    inside the block.
    """
    now_ms = time.time() * 1000
    spans: list[Span] = []
    for entry_id, traceparent in entries:
        # Few attributes: the SDK checks each one, and this runs for every entry.
        attributes: dict[str, str | float] = {
            "messaging.system": "redis",
            "messaging.destination.name": stream,
            "messaging.message.id": entry_id,
        }
        waited = queued_ms(entry_id, now_ms)
        if waited is not None:
            attributes[QUEUED_MS] = waited
        spans.append(
            _tracer.start_span(
                f"process {stream}",
                context=parent_context(traceparent),
                kind=SpanKind.CONSUMER,
                attributes=attributes,
            )
        )
    try:
        yield spans
    finally:
        for span in spans:
            span.end()


@contextmanager
def server_span(
    name: str, traceparent: str | None, attributes: Mapping[str, str]
) -> Iterator[Span]:
    """A SERVER span, current inside the block, child of the caller's ``traceparent``
    header when it sent one. An exception is recorded on it; whether it is an error
    is the caller's to say (a 4xx answer is not the server's error)."""
    with _tracer.start_as_current_span(
        name,
        context=parent_context(traceparent),
        kind=SpanKind.SERVER,
        attributes=dict(attributes),
        set_status_on_exception=False,
    ) as span:
        yield span


def failed(span: Span, error: str) -> None:
    span.set_status(Status(StatusCode.ERROR, error[:500]))


def label(span: Span, attributes: Mapping[str, str]) -> None:
    """Add attributes once they are known (the story id after normalising, say)."""
    if span.is_recording():
        span.set_attributes(dict(attributes))
