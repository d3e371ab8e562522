"""The stream-worker runtime shared by ingest, enrichment and storage.

FastStream reads the streams; this module fills the gaps that FastStream 0.7 leaves
(see ``docs/adr/0001-stream-worker.md``), so that no accepted entry is lost:

- **Groups at the start of the stream.** :func:`ensure_group` creates each group at
  id ``0`` with MKSTREAM, so a backlog pushed before a service first starts is read.
- **Two subscribers, one handler.** One reads new entries in batches (``>``), the
  other reclaims entries left pending by a dead consumer (XAUTOCLAIM after
  ``reclaim_idle_ms``).
- **Publish and acknowledge atomically.** A batch's onward events and its XACK go
  in one MULTI/EXEC, so a crash never acks an entry whose events were not published,
  nor publishes twice what was acked.
- **We decode, not FastStream.** FastStream is handed nothing to decode; each raw
  entry is read by :mod:`newsflow.runtime.entries`. One that cannot be read (not
  UTF-8, no payload field, broken JSON or envelope) goes to ``news:rejected`` with
  its exact bytes and is acked at once, and the rest of its batch flows on.
- **Per-entry failure.** One bad entry does not hold back its batch: the others are
  acked, the failed one stays pending and comes back through the reclaimer. After
  ``max_deliveries`` it goes to ``news:dead`` with the error, and is acked.
- **Dependencies down.** A :class:`TransientError` (MongoDB unreachable, say) retries
  the whole batch in place with back-off, without counting as a failed delivery, and
  keeps ownership of the entries with a heartbeat (XCLAIM JUSTID) so no other replica
  steals them meanwhile.
- **Traces and logs.** Each entry is handled inside a consumer span, a child of the
  trace context the entry carries (:mod:`newsflow.runtime.tracing`), and the events it
  produces carry that span's context on. Lines logged about an entry name its story,
  entry and trace ids (:meth:`Entry.log_context`).
- **Exit codes.** The process exits 0 only when asked to stop. If FastStream stops a
  subscriber (the group vanished after a Redis restart without persistence), the
  worker recreates the group and resumes; if that fails it exits non-zero so the
  supervisor restarts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import signal
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from faststream import AckPolicy
from faststream.message import StreamMessage
from faststream.redis import RedisBroker, RedisStreamMessage, StreamSub
from opentelemetry.trace import Span
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, AuthorizationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from newsflow import streams
from newsflow.events import DeadLetter, Event, FieldError, ItemRejected, payload_echo
from newsflow.runtime import tracing
from newsflow.runtime.codec import text
from newsflow.runtime.entries import Decoded, Undecodable, decode_entry, raw_fields_base64
from newsflow.runtime.health import HealthServer
from newsflow.runtime.lag import group_state
from newsflow.runtime.logs import item_context
from newsflow.runtime.metrics import WorkerMetrics
from newsflow.runtime.redis_factory import create_broker, create_redis
from newsflow.settings import WorkerSettings

log = logging.getLogger("newsflow.runtime.worker")

#: Namespace for deterministic event ids derived from the input entry.
EVENT_NAMESPACE = uuid.UUID("6f1c1f3e-4a7b-4a55-9d0e-3b7b3d0f2a61")
#: How long one start-up PING may go unanswered before it is sent again.
PING_TIMEOUT_S = 5.0


class TransientError(Exception):
    """A dependency is unavailable; retry the batch later without counting a failure."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry as handed to a service's batch handler."""

    id: str
    body: Any
    fields: Mapping[str, str]
    correlation_id: str
    redelivered: bool = False
    #: Why the entry cannot be read; such an entry never reaches the handler.
    unreadable: Undecodable | None = None
    #: The entry's exact bytes (see :func:`raw_fields_base64`), kept for unreadable ones.
    raw_base64: Mapping[str, str] | None = None
    #: W3C trace context: as the entry carried it, then that of the span handling it.
    traceparent: str | None = None

    @property
    def story_id(self) -> str | None:
        """The story's id where the entry names it (an event); None on news:ingest.

        It parses the event again, so it is for log lines, not for every entry.
        """
        body = _event_object(self.body)
        item = body.get("item")
        found = item.get("id") if isinstance(item, dict) else body.get("item_id")
        return found if isinstance(found, str) else None

    @contextmanager
    def log_context(self, story_id: str | None = None) -> Iterator[None]:
        """Lines logged inside name this entry, its story and its trace."""
        with item_context(
            story_id=story_id or self.story_id,
            entry_id=self.id,
            trace_id=tracing.trace_id_of(self.traceparent),
        ):
            yield

    def event_id(self, kind: str) -> uuid.UUID:
        """A deterministic id for the event of ``kind`` made from this entry.

        A redelivered entry yields events with the same ids, so consumers that care
        can recognise a repeat.
        """
        return uuid.uuid5(EVENT_NAMESPACE, f"{kind}:{self.id}:{self.correlation_id}")


@dataclass(frozen=True, slots=True)
class Done:
    """The entry was handled; publish these events and acknowledge it."""

    outputs: Sequence[Event] = ()
    rejected: bool = False
    #: A repeat of something already handled (e.g. a known idempotency key).
    duplicate: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    """The entry could not be handled; leave it pending for a later retry."""

    error: str


Outcome = Done | Failed
BatchHandler = Callable[[Sequence[Entry]], Awaitable[Sequence[Outcome]]]


async def ensure_group(redis: Redis, stream: str, group: str) -> bool:
    """Create ``group`` on ``stream`` at id 0 (the start). Returns True if created."""
    try:
        await redis.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        return False
    return True


async def _leave_undecoded(
    message: Mapping[str, Any],
    original: Callable[[Mapping[str, Any]], Awaitable[StreamMessage[Any]]],
) -> StreamMessage[Any]:
    """FastStream's parser, given no entries to decode: the worker reads them raw.

    FastStream's own decoding raises for a whole batch on one entry that is not
    UTF-8, before any handler runs, so that entry (and its batch) would never settle.
    """
    parsed = await original({**message, "data": []})
    parsed.raw_message = message
    return parsed


@dataclass
class Worker:
    """One service's consumer: the handler plus the delivery guarantees around it."""

    service: str
    settings: WorkerSettings
    stream: str
    group: str
    handler: BatchHandler
    redis: Redis
    metrics: WorkerMetrics
    readiness_checks: Sequence[Callable[[], Awaitable[str | None]]] = ()
    #: The field holding an entry's payload (``item`` on news:ingest, ``event`` on our
    #: own streams); an entry without it is rejected. None: any UTF-8 fields do.
    payload_field: str | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    _broker: RedisBroker | None = None

    # -- wiring ---------------------------------------------------------------

    def register(self, broker: RedisBroker) -> None:
        """Attach the reader and the reclaimer subscribers to ``broker``."""
        self._broker = broker
        consumer = self.settings.consumer_name
        common: dict[str, Any] = {
            "group": self.group,
            "consumer": consumer,
            "batch": True,
            "max_records": self.settings.batch_size,
            "polling_interval": self.settings.poll_ms,
        }

        async def on_new(body: list[Any], msg: RedisStreamMessage) -> None:
            await self._on_batch(msg, redelivered=False)

        async def on_reclaimed(body: list[Any], msg: RedisStreamMessage) -> None:
            await self._on_batch(msg, redelivered=True)

        broker.subscriber(
            stream=StreamSub(self.stream, **common),
            ack_policy=AckPolicy.MANUAL,
            parser=_leave_undecoded,
            title=f"{self.service}:new",
            description=f"{self.service}: new entries of {self.stream}",
        )(on_new)
        broker.subscriber(
            stream=StreamSub(self.stream, min_idle_time=self.settings.reclaim_idle_ms, **common),
            ack_policy=AckPolicy.MANUAL,
            parser=_leave_undecoded,
            title=f"{self.service}:reclaim",
            description=f"{self.service}: entries of {self.stream} abandoned by a dead consumer",
        )(on_reclaimed)

    async def _on_batch(self, msg: RedisStreamMessage, *, redelivered: bool) -> None:
        raw = msg.raw_message
        ids = [text(i) for i in raw["message_ids"]]
        # An entry deleted while pending comes back without data: it reads as empty.
        datas: list[Any] = list(raw.get("data") or [])
        datas = (datas + [{}] * len(ids))[: len(ids)]
        await self.process(
            [self.read(i, d, redelivered=redelivered) for i, d in zip(ids, datas, strict=True)]
        )

    def read(self, entry_id: str, data: Any, *, redelivered: bool = False) -> Entry:
        """One raw entry as the handler will see it, or marked unreadable."""
        fields: Mapping[Any, Any] = data if isinstance(data, Mapping) else {}
        decoded = decode_entry(fields, self.payload_field)
        if isinstance(decoded, Decoded):
            body = decoded.body
            if isinstance(body, dict) and streams.ITEM_FIELD in body:
                # A publisher's trace context is the worker's, not part of the item.
                body = {k: v for k, v in body.items() if k != tracing.TRACEPARENT_FIELD}
            return Entry(
                id=entry_id,
                body=body,
                fields=decoded.fields,
                correlation_id=entry_id,
                redelivered=redelivered,
                traceparent=_traceparent(decoded.fields, decoded.body),
            )
        as_text = {
            (k.decode("utf-8", "backslashreplace") if isinstance(k, bytes) else str(k)): (
                v.decode("utf-8", "backslashreplace") if isinstance(v, bytes) else str(v)
            )
            for k, v in fields.items()
        }
        return Entry(
            id=entry_id,
            body=None,
            fields=as_text,
            correlation_id=entry_id,
            redelivered=redelivered,
            unreadable=decoded,
            raw_base64=raw_fields_base64(fields),
            traceparent=_traceparent(as_text, None),
        )

    # -- hooks ------------------------------------------------------------------

    async def before_handle(self, entries: Sequence[Entry]) -> None:
        """Called with each batch about to be handled. Does nothing; tests override it."""

    async def before_ack(
        self, entries: Sequence[Entry], outcomes: Sequence[Outcome]
    ) -> Sequence[Outcome]:
        """Called with a handled batch about to be settled; returns the outcomes to settle.

        Returns them unchanged; tests override it (to crash here, or fail entries).
        """
        return outcomes

    # -- the guarantees -------------------------------------------------------

    async def process(self, entries: Sequence[Entry]) -> None:
        """Handle a batch and settle every entry: ack, reject, leave pending, or dead-letter."""
        if not entries:
            return
        self.metrics.items_in.labels(self.service).inc(len(entries))
        received = [(e.id, e.traceparent) for e in entries]
        with tracing.consumer_spans(self.stream, received) as spans:
            # What the entries produce carries on the context of the span handling them
            # (or, where nothing records spans, the context they came with).
            entries = [
                dataclasses.replace(e, traceparent=tracing.traceparent_of(s) or e.traceparent)
                for e, s in zip(entries, spans, strict=True)
            ]
            await self._process(entries, {e.id: s for e, s in zip(entries, spans, strict=True)})

    async def _process(self, entries: Sequence[Entry], spans: Mapping[str, Span]) -> None:
        results: list[tuple[Entry, Outcome]] = [
            (e, self._reject_unreadable(e, e.unreadable))
            for e in entries
            if e.unreadable is not None
        ]
        entries = [e for e in entries if e.unreadable is None]
        counts: dict[str, int] = {}
        if any(e.redelivered for e in entries):
            counts = await self._delivery_counts([e.id for e in entries])
            abandoned = [e for e in entries if counts.get(e.id, 1) > self.settings.max_deliveries]
            results += [
                (
                    e,
                    Failed(
                        "delivered too often without being acknowledged (its consumers kept dying)"
                    ),
                )
                for e in abandoned
            ]
            entries = [e for e in entries if e not in abandoned]
        if entries:
            await self.before_handle(entries)
            outcomes = await self._handle_with_retry(entries)
            # None: stopping while a dependency was down; those entries stay pending.
            if outcomes is not None:
                outcomes = await self.before_ack(entries, outcomes)
                results += zip(entries, outcomes, strict=True)
        if results:
            await self._settle(results, counts)
        for entry, outcome in results:
            span = spans.get(entry.id)
            if span is None or not span.is_recording():
                continue
            if isinstance(outcome, Failed):
                tracing.failed(span, outcome.error)
            story = _story_of(entry, outcome)
            if story:
                tracing.label(span, {tracing.STORY_ID: story})

    def _reject_unreadable(self, entry: Entry, problem: Undecodable) -> Done:
        """An entry no handler can read goes to news:rejected, its bytes kept exactly."""
        with entry.log_context():
            log.warning(
                "%s: rejected unreadable entry %s: %s", self.service, entry.id, problem.reason
            )
        echo = payload_echo(dict(entry.fields))
        return Done(
            outputs=[
                ItemRejected(
                    event_id=entry.event_id("rejected"),
                    correlation_id=entry.correlation_id,
                    reason=problem.reason,
                    errors=[FieldError(field=problem.field, message=problem.message)],
                    payload=echo,
                    payload_base64=dict(entry.raw_base64 or {}),
                    ingest_entry_id=entry.id,
                    source_stream=self.stream,
                    service=self.service,
                )
            ],
            rejected=True,
        )

    async def _handle_with_retry(self, entries: Sequence[Entry]) -> Sequence[Outcome] | None:
        delay = 0.2
        heartbeat = asyncio.create_task(self._heartbeat([e.id for e in entries]))
        try:
            while True:
                started = time.perf_counter()
                try:
                    outcomes = await self.handler(entries)
                except TransientError as exc:
                    self.metrics.transient_errors.labels(self.service).inc()
                    log.warning("%s: dependency unavailable, retrying batch: %s", self.service, exc)
                    if self._stopping.is_set():
                        return None
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._stopping.wait(), timeout=delay)
                    delay = min(delay * 2, 5.0)
                    # Some entries may have been handled before the dependency failed;
                    # on the retry they are repeats whose effects must still be announced.
                    entries = [dataclasses.replace(e, redelivered=True) for e in entries]
                    continue
                except Exception as exc:
                    log.exception(
                        "%s: handler failed for a batch of %d", self.service, len(entries)
                    )
                    outcomes = [Failed(f"{type(exc).__name__}: {exc}") for _ in entries]
                self.metrics.latency.labels(self.service).observe(time.perf_counter() - started)
                if len(outcomes) != len(entries):
                    raise RuntimeError("handler must return one outcome per entry")
                return outcomes
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, ids: list[Any]) -> None:
        """Keep ownership of in-flight entries so the reclaimer of another replica
        does not take them while this one is still working (e.g. waiting for MongoDB).
        """
        interval = max(self.settings.reclaim_idle_ms / 3000, 0.05)
        while True:
            await asyncio.sleep(interval)
            with contextlib.suppress(Exception):
                await self.redis.xclaim(
                    self.stream, self.group, self.settings.consumer_name, 0, ids, justid=True
                )

    async def _delivery_counts(self, ids: Sequence[str]) -> dict[str, int]:
        counts: dict[str, int] = {}
        for entry_id in ids:
            rows = await self.redis.xpending_range(
                self.stream, self.group, min=entry_id, max=entry_id, count=1
            )
            if rows:
                counts[entry_id] = int(rows[0]["times_delivered"])
        return counts

    async def _settle(
        self, results: Sequence[tuple[Entry, Outcome]], counts: dict[str, int]
    ) -> None:
        failed = [e for e, o in results if isinstance(o, Failed) and e.id not in counts]
        if failed:
            counts = {**counts, **await self._delivery_counts([e.id for e in failed])}
        pipe = self.redis.pipeline(transaction=True)
        acks: list[str] = []
        dead = 0
        for entry, outcome in results:
            if isinstance(outcome, Done):
                for event in outcome.outputs:
                    event = _traced(event, entry.traceparent)
                    pipe.xadd(event.stream, event.to_fields())  # type: ignore[arg-type]
                acks.append(entry.id)
                continue
            delivered = counts.get(entry.id, 1)
            self.metrics.items_failed.labels(self.service).inc()
            if delivered >= self.settings.max_deliveries:
                letter = DeadLetter(
                    event_id=entry.event_id("dead"),
                    correlation_id=entry.correlation_id,
                    service=self.service,
                    source_stream=self.stream,
                    group=self.group,
                    entry_id=entry.id,
                    delivery_count=delivered,
                    error=outcome.error[:4000],
                    fields=dict(entry.fields),
                    traceparent=entry.traceparent,
                )
                pipe.xadd(streams.DEAD, letter.to_fields())  # type: ignore[arg-type]
                acks.append(entry.id)
                dead += 1
                with entry.log_context():
                    log.error(
                        "%s: dead-lettered %s after %d deliveries: %s",
                        self.service,
                        entry.id,
                        delivered,
                        outcome.error,
                    )
            else:
                with entry.log_context():
                    log.warning(
                        "%s: entry %s failed (delivery %d of %d), will retry: %s",
                        self.service,
                        entry.id,
                        delivered,
                        self.settings.max_deliveries,
                        outcome.error,
                    )
        if acks:
            pipe.xack(self.stream, self.group, *acks)
        if len(pipe):
            await pipe.execute()
        ok = sum(1 for _, o in results if isinstance(o, Done))
        self.metrics.items_out.labels(self.service).inc(ok)
        self.metrics.rejected.labels(self.service).inc(
            sum(1 for _, o in results if isinstance(o, Done) and o.rejected)
        )
        self.metrics.duplicates.labels(self.service).inc(
            sum(1 for _, o in results if isinstance(o, Done) and o.duplicate)
        )
        if dead:
            self.metrics.dead_letters.labels(self.service).inc(dead)

    # -- operations -----------------------------------------------------------

    async def group_stats(self) -> tuple[int, int]:
        """(lag, pending) of this worker's group; (-1, 0) when the group is missing."""
        state = await group_state(self.redis, self.stream, self.group)
        return state if state is not None else (-1, 0)

    async def cleanup_consumers(self, idle_ms: int) -> list[str]:
        """Delete consumers of the group that hold nothing and have been idle for long."""
        removed: list[str] = []
        for info in await self.redis.xinfo_consumers(self.stream, self.group):
            name = text(info["name"])
            if name == self.settings.consumer_name:
                continue
            if int(info["pending"]) == 0 and int(info["idle"]) >= idle_ms:
                await self.redis.xgroup_delconsumer(self.stream, self.group, name)
                removed.append(name)
        return removed

    async def readiness(self) -> dict[str, str]:
        """What keeps this worker from being ready: Redis (and the service's own
        dependencies) unreachable, the consumer loop stopped, or the lag too high."""
        failing: dict[str, str] = {}
        if self._broker is not None and not all(s.running for s in self._broker.subscribers):
            failing["consumer"] = "a subscriber is not running"
        try:
            await self.redis.ping()
            lag, _ = await self.group_stats()
            if lag > self.settings.ready_max_lag:
                failing["lag"] = f"{lag} entries behind (limit {self.settings.ready_max_lag})"
        except Exception as exc:
            failing["redis"] = str(exc) or type(exc).__name__
        for check in self.readiness_checks:
            problem = await check()
            if problem:
                failing[getattr(check, "__name__", "check")] = problem
        return failing

    def request_stop(self) -> None:
        self._stopping.set()


def _event_object(body: Any) -> dict[str, Any]:
    """The event in a body (``{"event": "<json>"}``, or FastStream's decoded envelope)."""
    if isinstance(body, dict) and isinstance(body.get(streams.EVENT_FIELD), str):
        with contextlib.suppress(orjson.JSONDecodeError):
            body = orjson.loads(body[streams.EVENT_FIELD])
    return body if isinstance(body, dict) else {}


#: An event's top-level ``traceparent`` in its JSON text (see :func:`_traceparent`).
_EVENT_TRACEPARENT = re.compile(r'"traceparent"\s*:\s*"([^"\\]{1,128})"')


def _traceparent(fields: Mapping[str, str], body: Any) -> str | None:
    """The trace context an entry carries: a ``traceparent`` field beside a publisher's
    item, or the ``traceparent`` of an event.

    An event is searched in its text rather than parsed: the handler parses it
    anyway, and a second full parse of every event at every stage (a stored story is
    kilobytes) would cost every pipeline, traced or not. The first match is the
    top-level field, as every event writes its envelope fields before any nested
    object, and a string inside JSON cannot hold an unescaped quote.
    """
    found = fields.get(tracing.TRACEPARENT_FIELD)
    event = fields.get(streams.EVENT_FIELD)
    if found is None and isinstance(event, str):
        match = _EVENT_TRACEPARENT.search(event)
        found = match.group(1) if match else None
    elif found is None:  # FastStream's envelope: the body is the decoded event
        found = _event_object(body).get(tracing.TRACEPARENT_FIELD)
    return found if isinstance(found, str) else None


def _traced(event: Event, traceparent: str | None) -> Event:
    """``event`` carrying ``traceparent`` on, unless its handler set one itself."""
    if traceparent is None or event.traceparent is not None:
        return event
    return event.model_copy(update={"traceparent": traceparent})


def _story_of(entry: Entry, outcome: Outcome) -> str | None:
    """The story an entry was about: named by the event it produced, or by the entry."""
    for event in outcome.outputs if isinstance(outcome, Done) else ():
        item = getattr(event, "item", None)
        if item is not None:
            return str(item.id)
        item_id = getattr(event, "item_id", None)
        if isinstance(item_id, str):
            return item_id
    return entry.story_id


def build_worker(
    service: str,
    settings: WorkerSettings,
    stream: str,
    handler: BatchHandler,
    *,
    redis: Redis | None = None,
    metrics: WorkerMetrics | None = None,
    readiness_checks: Sequence[Callable[[], Awaitable[str | None]]] = (),
) -> tuple[Worker, RedisBroker]:
    """A service's worker on ``stream`` (in that stream's group) and its broker.

    Nothing connects here; :func:`serve` starts both.
    """
    worker = Worker(
        service=service,
        settings=settings,
        stream=stream,
        group=streams.GROUPS[stream],
        handler=handler,
        redis=redis or create_redis(settings.redis_url),
        metrics=metrics or WorkerMetrics(service),
        readiness_checks=readiness_checks,
        payload_field=streams.ITEM_FIELD if stream == streams.INGEST else streams.EVENT_FIELD,
    )
    broker = create_broker(settings.redis_url)
    worker.register(broker)
    return worker, broker


async def serve(worker: Worker, broker: RedisBroker) -> int:
    """Run a worker until SIGTERM/SIGINT; return the process exit code.

    0 when asked to stop and everything in flight was settled, 1 on a fatal error.
    """
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, worker.request_stop)
    settings = worker.settings
    problem = await _wait_for_redis(worker)
    if problem is not None:
        log.error("%s: cannot use Redis: %s; exiting with failure", worker.service, problem)
        return 1
    if worker._stopping.is_set():
        return 0
    await ensure_group(worker.redis, worker.stream, worker.group)
    health: HealthServer | None = None
    if settings.http_port is not None:
        health = HealthServer(
            host=settings.http_host,
            port=settings.http_port,
            alive=lambda: all(sub.running for sub in broker.subscribers),
            readiness=worker.readiness,
            metrics=worker.metrics.render,
        )
        await health.start()
    await broker.start()
    log.info(
        "%s: consuming %s as %s/%s",
        worker.service,
        worker.stream,
        worker.group,
        settings.consumer_name,
    )
    code = 0
    janitor_every = max(settings.reclaim_idle_ms * 10 / 1000, 60.0)
    next_janitor = time.monotonic() + janitor_every
    try:
        while not worker._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker._stopping.wait(), timeout=1.0)
            if worker._stopping.is_set():
                break
            if not all(sub.running for sub in broker.subscribers):
                code = await _recover_subscribers(worker, broker)
                if code:
                    break
            await _measure_readiness(worker)
            with contextlib.suppress(RedisConnectionError, RedisTimeoutError, ResponseError):
                lag, pending = await worker.group_stats()
                worker.metrics.lag.labels(worker.stream, worker.group).set(lag)
                worker.metrics.pending.labels(worker.stream, worker.group).set(pending)
                if time.monotonic() >= next_janitor:
                    next_janitor = time.monotonic() + janitor_every
                    removed = await worker.cleanup_consumers(settings.reclaim_idle_ms * 10)
                    if removed:
                        log.info("%s: removed idle consumers %s", worker.service, removed)
    finally:
        log.info("%s: stopping; finishing in-flight work", worker.service)
        await broker.stop()
        if health is not None:
            await health.stop()
    return code


async def _measure_readiness(worker: Worker) -> None:
    """``newsflow_worker_ready``: what /readyz would answer, for an alert. A check that
    hangs (MongoDB unreachable, say) counts as not ready, and holds the loop 2 s at most."""
    try:
        failing = await asyncio.wait_for(worker.readiness(), timeout=2.0)
    except TimeoutError:
        failing = {"readiness": "checks did not answer within 2 s"}
    worker.metrics.ready.labels(worker.service).set(0 if failing else 1)


async def _wait_for_redis(worker: Worker) -> str | None:
    """Wait until Redis answers a PING, or the worker is asked to stop; None then.

    A Redis that is not there yet (refused, timed out) is waited for: it may come
    later. One that answers with an error can never succeed by waiting (a database
    it does not have, a sentinel URL pointing at a plain Redis, NOPERM, WRONGPASS):
    that error is returned, for a fatal exit. Each PING races the stop request, so
    SIGTERM always ends the wait at once.
    """
    delay = 0.2
    while not worker._stopping.is_set():
        ping = asyncio.ensure_future(worker.redis.ping())
        stop = asyncio.ensure_future(worker._stopping.wait())
        try:
            await asyncio.wait({ping, stop}, timeout=PING_TIMEOUT_S, return_when="FIRST_COMPLETED")
        finally:
            stop.cancel()
            ping.cancel()
        if not ping.done() or ping.cancelled():
            continue  # stopping, or no answer yet: ask again
        exc = ping.exception()
        if exc is None:
            return None
        if isinstance(exc, ResponseError | AuthenticationError | AuthorizationError):
            return str(exc) or type(exc).__name__
        if not isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError):
            raise exc
        log.warning("%s: waiting for Redis: %s", worker.service, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(worker._stopping.wait(), timeout=delay)
        delay = min(delay * 2, 5.0)
    return None


async def _recover_subscribers(worker: Worker, broker: RedisBroker) -> int:
    """A subscriber stopped on its own: the group vanished. Recreate it and restart."""
    log.error(
        "%s: a subscriber stopped (consumer group lost?); recreating the group", worker.service
    )
    delay, deadline = 0.2, time.monotonic() + 60
    while True:
        try:
            created = await ensure_group(worker.redis, worker.stream, worker.group)
            for sub in broker.subscribers:
                if not sub.running:
                    await sub.start()
            break
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            # The connection pool still holds sockets to the Redis that went away;
            # the next attempt reconnects.
            if time.monotonic() > deadline or worker._stopping.is_set():
                log.exception("%s: could not recover; exiting with failure", worker.service)
                return 1
            log.warning("%s: Redis not reachable yet (%s); retrying", worker.service, exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)
        except Exception:
            log.exception(
                "%s: could not recover the subscribers; exiting with failure", worker.service
            )
            return 1
    log.warning("%s: resumed (group %s)", worker.service, "recreated" if created else "existed")
    return 0
