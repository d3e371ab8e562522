"""``POST /v1/items``: authenticated HTTP ingest, in every format publishers have.

The request is checked in the order that costs least first: key and scope, rate
limit, body size (counted while reading), format, then every item with the
ingest service's own normaliser. Accepted items go onto ``news:ingest`` in the
plain publisher form, exactly as a ``redis-cli XADD`` would put them, with the
key's publisher as ``source``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from newsflow import streams
from newsflow.domain.contract import PublisherItem
from newsflow.domain.formats.common import ParseResult
from newsflow.domain.formats.feeds import parse_feed
from newsflow.domain.formats.jsonl import parse_json, parse_jsonl
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.formats.ninjs import parse_ninjs
from newsflow.domain.normalise import Rejection, normalise
from newsflow.domain.tagging import Tagger
from newsflow.events import utcnow
from newsflow_gateway.auth import PublisherKey, rate_limit
from newsflow_gateway.deps import StateDep
from newsflow_gateway.lag import ingest_lag
from newsflow_gateway.problems import Problem, ProblemError
from newsflow_gateway.state import GatewayState

router = APIRouter(prefix="/v1", tags=["publishing"])

#: Media types we parse, and the parser for each.
FORMATS = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/ninjs+json": "ninjs",
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/xml": "feed",
    "text/xml": "feed",
    "text/plain": "newsroom",
}


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


def parse_body(body: bytes, content_type: str, tagger: Tagger) -> ParseResult:
    media = content_type.split(";", 1)[0].strip().lower()
    kind = FORMATS.get(media)
    if kind is None:
        raise ProblemError(
            415, "Unsupported Media Type", f"send one of: {', '.join(sorted(FORMATS))}"
        )
    if kind == "feed":  # bytes: feedparser honours the XML declaration's encoding
        return parse_feed(body, topic_labels=lambda label: tagger.resolve_topic(label) is not None)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ProblemError(400, "Bad Request", "the body is not UTF-8") from None
    if kind == "json":
        return parse_json(text)
    if kind == "jsonl":
        return parse_jsonl(text)
    if kind == "ninjs":
        return parse_ninjs(text)
    return parse_newsroom(text, source=None)


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
        409: {"model": Problem, "description": "The same Idempotency-Key is in flight."},
        413: {"model": Problem, "description": "Body too large."},
        415: {"model": Problem, "description": "Unsupported format."},
        422: {"model": Problem, "description": "Invalid items; each error names the field."},
        429: {"model": Problem, "description": "Rate limit; see Retry-After."},
        503: {"model": Problem, "description": "Pipeline lagging; see Retry-After."},
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
    """Accept one item or a batch (JSON object or array, JSONL, ninjs, RSS/Atom, or a
    newsroom listing as text/plain). All items are checked before any is accepted;
    an invalid one rejects the request with each error named. The key's publisher
    is recorded as each item's ``source``."""
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
    result = parse_body(body, request.headers.get("content-type", ""), state.tagger)
    errors = [{"field": f"items[{e.line - 1}]", "message": e.message} for e in result.errors]
    if len(result.items) > state.settings.max_batch:
        raise ProblemError(
            422,
            "Unprocessable Content",
            f"items: at most {state.settings.max_batch} per request",
            [{"field": "items", "message": f"at most {state.settings.max_batch}"}],
        )
    if not result.items and not errors:
        errors.append({"field": "items", "message": "no items in the body"})
    now = utcnow()
    payloads: list[bytes] = []
    ids: list[str] = []
    for index, parsed in enumerate(result.items):
        item = {**parsed.item, "source": publisher}
        try:
            ids.append(normalise(item, now=now).id)
        except Rejection as rejection:
            prefix = f"items[{index}]" if len(result.items) > 1 else ""
            errors.extend(
                {
                    "field": f"{prefix}.{e['field']}" if prefix else e["field"],
                    "message": e["message"],
                }
                for e in rejection.errors
            )
            continue
        payloads.append(orjson.dumps(item))
    if errors:
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:20])
        raise ProblemError(422, "Unprocessable Content", detail, errors)
    await backpressure(state)
    pipe = state.redis.pipeline(transaction=True)
    for payload in payloads:
        pipe.xadd(streams.INGEST, {streams.ITEM_FIELD: payload})
    entry_ids = await pipe.execute()
    return {
        "items": [
            {"id": item_id, "entry_id": e.decode() if isinstance(e, bytes) else str(e)}
            for item_id, e in zip(ids, entry_ids, strict=True)
        ]
    }
