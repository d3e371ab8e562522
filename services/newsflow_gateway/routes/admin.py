"""Operator endpoints (``admin`` scope): dead letters, and replaying them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from newsflow import streams
from newsflow.events import DeadLetter, parse_event
from newsflow_gateway.auth import AdminKey
from newsflow_gateway.deps import StateDep
from newsflow_gateway.problems import Problem

router = APIRouter(prefix="/v1/admin", tags=["admin"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad key."},
    403: {"model": Problem, "description": "The key lacks the admin scope."},
}


class DeadLetterOut(BaseModel):
    dead_letter_id: str
    service: str
    source_stream: str
    entry_id: str
    delivery_count: int
    error: str
    fields: dict[str, str]


class DeadLetterList(BaseModel):
    items: list[DeadLetterOut]


class DeadLetterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=100, ge=1, le=1000)


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=1000, description="Dead-letter ids.")


class RetryResult(BaseModel):
    replayed: int


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@router.get(
    "/dead-letters", response_model=DeadLetterList, summary="List dead letters", responses=ERRORS
)
async def dead_letters(
    key: AdminKey, state: StateDep, params: Annotated[DeadLetterQuery, Query()]
) -> DeadLetterList:
    """Entries that failed too often, oldest first, with their last error."""
    rows: Any = await state.redis.xrange(streams.DEAD, count=params.limit) or []
    out = []
    for entry_id, fields in rows:
        event = parse_event(DeadLetter, {streams.EVENT_FIELD: _s(fields[b"event"])})
        out.append(
            DeadLetterOut(
                dead_letter_id=_s(entry_id),
                service=event.service,
                source_stream=event.source_stream,
                entry_id=event.entry_id,
                delivery_count=event.delivery_count,
                error=event.error,
                fields=event.fields,
            )
        )
    return DeadLetterList(items=out)


@router.post(
    "/dead-letters/retry",
    response_model=RetryResult,
    summary="Replay dead letters",
    responses=ERRORS,
)
async def retry(key: AdminKey, state: StateDep, body: RetryRequest) -> RetryResult:
    """Put the given dead letters back on their source streams (after a fix)."""
    replayed = 0
    for dead_id in body.ids:
        rows: Any = await state.redis.xrange(streams.DEAD, min=dead_id, max=dead_id)
        if not rows:
            continue
        event = parse_event(DeadLetter, {streams.EVENT_FIELD: _s(rows[0][1][b"event"])})
        pipe = state.redis.pipeline(transaction=True)
        pipe.xadd(event.source_stream, dict(event.fields))  # type: ignore[arg-type]
        pipe.xdel(streams.DEAD, dead_id)
        await pipe.execute()
        replayed += 1
    return RetryResult(replayed=replayed)
