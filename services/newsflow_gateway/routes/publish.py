"""``POST /v1/items``: authenticated HTTP ingest, in every format publishers have.

The request is checked in the order that costs least first: key and scope, rate
limit, body size (counted while reading), format, then every item with the
ingest service's own normaliser, then each item's ``idempotency_key`` against the
stories already given it. Accepted items go onto ``news:ingest`` through
:func:`newsflow.runtime.enqueue.enqueue`, the code ``newsflow push`` uses too, in
the plain publisher form, with the key's publisher as ``source``.

Parsing and checking a body is CPU work (a 2 MB feed takes 0.2 s), so it runs in a
process of its own (:class:`ParsePool`), never on the event loop, and at most
:data:`MAX_PARSING` bodies wait for it: past that the answer is 503, so a flood of
posts cannot starve readers. ``tests/e2e/test_publishing.py`` holds readers' p99
to 2x idle while hostile and 2 MB posts run. XML bodies that declare a DTD or entities are
refused (422) before any XML parser sees them.

Rejections here are answered to the caller (422, or 409 for an idempotency
conflict) and nothing of the request is accepted, so they are not also written to
``news:rejected``: that stream is for what a publisher cannot be told directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Final

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from newsflow.domain.contract import PublisherItem
from newsflow.domain.formats import MEDIA_TYPES, Format, NotText, media_format, parse_body
from newsflow.domain.taxonomy import Taxonomy, load_taxonomy
from newsflow.events import utcnow
from newsflow.runtime import tracing
from newsflow.runtime.enqueue import Checked, Rejected, ReplicaWait, check, enqueue
from newsflow.runtime.logs import item_context
from newsflow_gateway.auth import PublisherKey, rate_limit
from newsflow_gateway.deps import StateDep
from newsflow_gateway.lag import ingest_lag
from newsflow_gateway.problems import Problem, ProblemError
from newsflow_gateway.state import GatewayState

log = logging.getLogger("newsflow.gateway.publish")

#: Processes that parse and check bodies; the event loop only waits for them.
PARSE_PROCESSES: Final = 1
#: How much lower the parse process's CPU priority is than the gateway's.
PARSE_NICE: Final = 19
#: Bodies parsing or waiting to, per process; one more is answered 503.
MAX_PARSING: Final = 32

router = APIRouter(prefix="/v1", tags=["publishing"])

#: Media types we parse, and the format of each.
FORMATS: Final = MEDIA_TYPES


_ITEM_SCHEMA = PublisherItem.model_json_schema()
_ITEM: dict[str, Any] = {k: v for k, v in _ITEM_SCHEMA.items() if k != "$defs"}
# Over HTTP the key's publisher is the source, whatever the body says: declare so.
_ITEM["properties"] = {
    **_ITEM["properties"],
    "source": {"description": "Ignored: the key's publisher is recorded as the source."},
}
#: What each format's body looks like, for the OpenAPI document.
BODY_SCHEMAS: dict[str, dict[str, Any]] = {
    "json": {"oneOf": [_ITEM, {"type": "array", "items": _ITEM, "minItems": 1, "maxItems": 100}]},
    "jsonl": {"type": "string", "description": "One publisher item (JSON) per line."},
    "ninjs": {"type": "object", "description": "An IPTC ninjs 2.x object, or an array."},
    "feed": {"type": "string", "description": "An RSS 2.0 or Atom 1.0 document."},
    "newsml": {
        "type": "string",
        "description": "An IPTC NewsML-G2 newsItem, or a newsMessage carrying several items.",
    },
    "nitf": {"type": "string", "description": "An IPTC NITF 3.x document (one story)."},
    "xml": {
        "type": "string",
        "description": "RSS, Atom, NewsML-G2 or NITF, told apart by the document element.",
    },
    "newsroom": {"type": "string", "description": "A newsroom listing (the seed format)."},
}


class AcceptedItem(BaseModel):
    id: str = Field(description="The story id the item was given.")
    entry_id: str = Field(description="Its entry id on news:ingest.")


class Accepted(BaseModel):
    """Items accepted for processing; they are queryable once stored."""

    items: list[AcceptedItem]


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refused with 413 as soon as it exceeds ``limit`` bytes.

    Content-Length is checked first as a courtesy, but the count that matters is
    of the bytes actually received, so a lying or absent header changes nothing.
    """
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ProblemError(413, "Content Too Large", f"the body may be at most {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ProblemError(413, "Content Too Large", f"the body may be at most {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type_format(content_type: str) -> Format:
    """The body's format from its Content-Type; 415 for one we do not read."""
    fmt = media_format(content_type)
    if fmt is None:
        raise ProblemError(
            415, "Unsupported Media Type", f"send one of: {', '.join(sorted(FORMATS))}"
        )
    return fmt


def read_items(
    body: bytes, fmt: Format, *, publisher: str, known_topic: Callable[[str], bool], max_batch: int
) -> Checked:
    """Parse and check a body (pure CPU: run it in the parse pool, not on the loop)."""
    try:
        result = parse_body(body, fmt, known_topic=known_topic, newsroom_source=None)
    except NotText:
        raise ProblemError(400, "Bad Request", "the body is not UTF-8") from None
    if len(result.items) > max_batch:
        raise ProblemError(
            422,
            "Unprocessable Content",
            f"items: at most {max_batch} per request",
            [{"field": "items", "message": f"at most {max_batch}"}],
        )
    return check(result, now=utcnow(), source=publisher)


@dataclass(frozen=True)
class _Refused:
    """A :class:`ProblemError` raised in the parse process, in a form that pickles."""

    status: int
    title: str
    detail: str | None
    errors: list[dict[str, str]] | None


#: The parse process's taxonomy, loaded once by :func:`_start_parser`.
_TAXONOMY: Taxonomy | None = None


def _start_parser(taxonomy_path: Path | None) -> None:
    """Initialise a parse process: low CPU priority, and the taxonomy for topic labels."""
    global _TAXONOMY
    with contextlib.suppress(OSError):
        os.nice(PARSE_NICE)
    _TAXONOMY = load_taxonomy(taxonomy_path)


def _parse_in_child(body: bytes, fmt: Format, publisher: str, max_batch: int) -> Checked | _Refused:
    """:func:`read_items` in the parse process, with the topic labels of its taxonomy."""
    taxonomy = _TAXONOMY if _TAXONOMY is not None else load_taxonomy(None)

    def known_topic(label: str) -> bool:  # the one place the gateway resolves labels
        return taxonomy.resolve_topic(label) is not None

    try:
        return read_items(
            body, fmt, publisher=publisher, known_topic=known_topic, max_batch=max_batch
        )
    except ProblemError as exc:
        return _Refused(exc.status, exc.title, exc.detail, exc.errors)


class ParsePool:
    """A process of its own for body parsing, with a bound on the bodies waiting.

    A process, not a thread: parsing a 2 MB body holds the GIL for tens of
    milliseconds, and a thread of ours made every reader wait for it (p99 went from
    2 ms to 10 ms and more). In its own niced process the parse competes for the
    processor only, which the kernel gives to the event loop first. The process is
    spawned (never forked from a running event loop) when the app starts, and
    replaced if it dies. The count of bodies is touched only on the loop: no lock.
    """

    def __init__(self, processes: int, max_waiting: int) -> None:
        self._processes = processes
        self._max = max_waiting
        self._busy = 0
        self._executor: ProcessPoolExecutor | None = None

    def _started(self, taxonomy_path: Path | None) -> ProcessPoolExecutor:
        """The pool, spawned on the first post (a second or so, once per process)."""
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_parser,
                initargs=(taxonomy_path,),
            )
        return self._executor

    def stop(self) -> None:
        """Stop the parse process(es); called when the app stops."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    async def run(
        self, body: bytes, fmt: Format, publisher: str, max_batch: int, taxonomy_path: Path | None
    ) -> Checked:
        """Parse and check ``body`` in the pool; 503 when the pool already has its fill."""
        if self._busy >= self._max:
            raise ProblemError(
                503,
                "Service Unavailable",
                "too many bodies are being parsed; retry shortly",
                headers={"Retry-After": "1"},
            )
        self._busy += 1
        try:
            executor = self._started(taxonomy_path)
            loop = asyncio.get_running_loop()
            try:
                result = await loop.run_in_executor(
                    executor, _parse_in_child, body, fmt, publisher, max_batch
                )
            except BrokenProcessPool:
                self.stop()  # the next post spawns a new one
                raise ProblemError(
                    503,
                    "Service Unavailable",
                    "the body parser stopped; retry shortly",
                    headers={"Retry-After": "1"},
                ) from None
        finally:
            self._busy -= 1
        if isinstance(result, _Refused):
            raise ProblemError(result.status, result.title, result.detail, result.errors)
        return result


#: Spawned on the first post and stopped with the app; nothing runs at import.
PARSERS = ParsePool(PARSE_PROCESSES, MAX_PARSING)


def field_errors(rejected: list[Rejected], items: int) -> list[dict[str, str]]:
    """Problem-details errors: ``items[i]`` for unreadable parts, ``items[i].field`` for items.

    A lone item's fields are named bare (``title``), as for a single JSON object.
    """
    errors: list[dict[str, str]] = []
    for r in sorted(rejected, key=lambda r: (r.index is not None, r.line)):
        if r.index is None:
            errors.append({"field": f"items[{r.line - 1}]", "message": r.reason})
            continue
        prefix = f"items[{r.index}]." if items > 1 else ""
        errors.extend({"field": prefix + e.field, "message": e.message} for e in r.errors)
    return errors


async def backpressure(state: GatewayState) -> None:
    lag = await ingest_lag(state.redis)
    if lag > state.settings.ingest_max_lag:
        raise ProblemError(
            503,
            "Service Unavailable",
            f"the pipeline is {lag} items behind; retry later",
            headers={"Retry-After": "10"},
        )


@router.post(
    "/items",
    status_code=202,
    response_model=Accepted,
    summary="Publish items",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {media: {"schema": BODY_SCHEMAS[FORMATS[media]]} for media in FORMATS},
        }
    },
    responses={
        401: {"model": Problem, "description": "Missing, malformed or unknown key."},
        403: {"model": Problem, "description": "The key lacks the publish scope."},
        409: {
            "model": Problem,
            "description": "The same Idempotency-Key is in flight, or an item's idempotency_key "
            "was already used for a different story.",
        },
        413: {"model": Problem, "description": "Body too large."},
        415: {"model": Problem, "description": "Unsupported format."},
        422: {"model": Problem, "description": "Invalid items; each error names the field."},
        429: {"model": Problem, "description": "Rate limit; see Retry-After."},
        503: {
            "model": Problem,
            "description": "Pipeline lagging or busy, or no Redis replica confirmed the "
            "items in time; see Retry-After.",
        },
    },
)
async def publish(
    request: Request,
    key: PublisherKey,
    state: StateDep,
    idempotency_key: Annotated[
        str | None,
        Header(max_length=200, description="Makes retries safe: same key and body, same answer."),
    ] = None,
) -> JSONResponse:
    """Accept one item or a batch (JSON object or array, JSONL, ninjs, RSS/Atom,
    NewsML-G2, NITF, or a newsroom listing as text/plain). All items are checked
    before any is accepted; an invalid one rejects the request with each error
    named. The key's publisher is recorded as each item's ``source``."""
    # The trace of the request goes on into news:ingest with each item (see enqueue).
    with tracing.server_span(
        "POST /v1/items",
        request.headers.get(tracing.TRACEPARENT_FIELD),
        {
            "http.request.method": "POST",
            "http.route": "/v1/items",
            "newsflow.publisher": key.publisher,
        },
    ) as span:
        try:
            response = await _publish(request, key, state, idempotency_key)
        except ProblemError as problem:
            span.set_attribute("http.response.status_code", problem.status)
            raise
        span.set_attribute("http.response.status_code", response.status_code)
        return response


async def _publish(
    request: Request, key: PublisherKey, state: GatewayState, idempotency_key: str | None
) -> JSONResponse:
    settings = state.settings
    await rate_limit(state, key.key_id)
    body = await read_body(request, settings.max_body_bytes)
    digest = hashlib.sha256(body).hexdigest()
    idem = (
        f"newsflow:idem:{key.key_id}:{hashlib.sha256(idempotency_key.encode()).hexdigest()}"
        if idempotency_key
        else None
    )
    if idem:
        replay = await _idempotent_replay(state, idem, digest)
        if replay is not None:
            return replay
    try:
        response = await _accept(request, key.publisher, body, state)
    except BaseException:
        if idem:
            await state.redis.delete(idem)
        raise
    if idem:
        await state.redis.set(
            idem,
            orjson.dumps({"body": digest, "response": response}),
            ex=settings.idempotency_ttl_s,
        )
    return JSONResponse(response, status_code=202)


async def _idempotent_replay(state: GatewayState, idem: str, digest: str) -> JSONResponse | None:
    claimed = await state.redis.set(
        idem, orjson.dumps({"body": digest, "pending": True}), nx=True, ex=60
    )
    if claimed:
        return None
    stored = orjson.loads(await state.redis.get(idem) or b"{}")
    if stored.get("body") != digest:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "Idempotency-Key was already used with a different body",
            [{"field": "Idempotency-Key", "message": "reused with another body"}],
        )
    if stored.get("pending"):
        raise ProblemError(
            409,
            "Conflict",
            "a request with this Idempotency-Key is in progress",
            headers={"Retry-After": "1"},
        )
    return JSONResponse(
        stored["response"], status_code=202, headers={"Idempotent-Replayed": "true"}
    )


async def _accept(
    request: Request, publisher: str, body: bytes, state: GatewayState
) -> dict[str, Any]:
    fmt = media_type_format(request.headers.get("content-type", ""))
    checked = await PARSERS.run(
        body, fmt, publisher, state.settings.max_batch, state.settings.taxonomy_path
    )
    items = len(checked.valid) + sum(1 for r in checked.rejected if r.index is not None)
    errors = field_errors(checked.rejected, items)
    if not checked.valid and not errors:
        errors.append({"field": "items", "message": "no items in the body"})
    if errors:
        raise _problem(422, "Unprocessable Content", errors)
    report = await enqueue(
        state.redis,
        checked,
        service="gateway",
        atomic=True,
        record_rejections=False,
        before_batch=lambda: backpressure(state),
        wait=ReplicaWait.from_settings(
            state.settings.redis_wait_replicas, state.settings.redis_wait_timeout_ms
        ),
    )
    if report.rejected:
        raise _problem(409, "Conflict", field_errors(report.rejected, items))
    if report.unconfirmed:
        raise ProblemError(
            503,
            "Service Unavailable",
            f"written on the Redis primary but not confirmed by "
            f"{state.settings.redis_wait_replicas} Redis replica(s) within "
            f"{state.settings.redis_wait_timeout_ms} ms ({report.replicas_acked} did): the "
            "items may still be stored. Sending them again is safe: an item already "
            "stored is recognised by its identity and idempotency key and not stored twice",
            headers={"Retry-After": "5"},
        )
    for accepted in report.accepted:
        with item_context(story_id=accepted.item_id, entry_id=accepted.entry_id):
            log.debug("accepted from %s", publisher)
    return {"items": [{"id": a.item_id, "entry_id": a.entry_id} for a in report.accepted]}


def _problem(status: int, title: str, errors: list[dict[str, str]]) -> ProblemError:
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:20])
    return ProblemError(status, title, detail, errors)
