"""Operator endpoints (``admin`` scope): dead letters, and replaying them.

Both call :mod:`newsflow.runtime.deadletters`, as ``newsflow dlq`` does.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from newsflow.runtime import deadletters
from newsflow_gateway.auth import AdminKey
from newsflow_gateway.deps import StateDep
from newsflow_gateway.problems import Problem, ProblemError

router = APIRouter(prefix="/v1/admin", tags=["admin"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "Missing or bad key."},
    403: {"model": Problem, "description": "The key lacks the admin scope."},
}
RETRY_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {
        "model": Problem,
        "description": "A given id is not a dead letter, or cannot be "
        "replayed (its source stream is not one of the pipeline's).",
    },
}
#: Up to 19 digits a side: every such id is one Redis accepts (both halves < 2⁶⁴),
#: so the schema and the server agree on what is valid.
STREAM_ID_PATTERN = r"^[0-9]{1,19}-[0-9]{1,19}$"


def _stream_id(value: str) -> str:
    if re.fullmatch(STREAM_ID_PATTERN, value) is None:
        raise ValueError("not a stream id; expected <milliseconds>-<sequence>, e.g. 1700000000-0")
    return value


#: A dead-letter id, checked here so that a bad one is a 422 naming it, not a 500 from Redis.
StreamId = Annotated[
    str,
    AfterValidator(_stream_id),
    Field(json_schema_extra={"pattern": STREAM_ID_PATTERN}, examples=["1700000000000-0"]),
]


class DeadLetterOut(BaseModel):
    dead_letter_id: str
    service: str
    source_stream: str
    entry_id: str
    delivery_count: int
    error: str
    fields: dict[str, str]


class UnreadableOut(BaseModel):
    dead_letter_id: str
    preview: str = Field(description="The entry's fields, clipped.")
    reason: str = Field(description="Why it is not a dead letter.")


class DeadLetterList(BaseModel):
    items: list[DeadLetterOut] = Field(
        description="Oldest first. For the next page, pass the last id of `items` or "
        "`unreadable`, whichever is later, as `after`."
    )
    unreadable: list[UnreadableOut] = Field(
        default_factory=list,
        description="Entries of news:dead that are not dead letters: never replayed.",
    )


class DeadLetterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=100, ge=1, le=1000)
    after: StreamId | None = Field(
        default=None, description="List the dead letters after this one (exclusive)."
    )


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[StreamId] = Field(min_length=1, max_length=1000, description="Dead-letter ids.")


class RetryResult(BaseModel):
    replayed: int


@router.get(
    "/dead-letters", response_model=DeadLetterList, summary="List dead letters", responses=ERRORS
)
async def dead_letters(
    key: AdminKey, state: StateDep, params: Annotated[DeadLetterQuery, Query()]
) -> DeadLetterList:
    """Entries that failed too often, oldest first, with their last error."""
    letters = await deadletters.list_letters(state.redis, count=params.limit, after=params.after)
    return DeadLetterList(
        unreadable=[
            UnreadableOut(dead_letter_id=bad.entry_id, preview=bad.preview, reason=bad.reason)
            for bad in letters
            if isinstance(bad, deadletters.Unreadable)
        ],
        items=[
            DeadLetterOut(
                dead_letter_id=letter.entry_id,
                service=letter.event.service,
                source_stream=letter.event.source_stream,
                entry_id=letter.event.entry_id,
                delivery_count=letter.event.delivery_count,
                error=letter.event.error,
                fields=letter.event.fields,
            )
            for letter in letters
            if isinstance(letter, deadletters.Letter)
        ],
    )


@router.post(
    "/dead-letters/retry",
    response_model=RetryResult,
    summary="Replay dead letters",
    responses=RETRY_ERRORS,
)
async def retry(key: AdminKey, state: StateDep, body: RetryRequest) -> RetryResult:
    """Put the given dead letters back on their source streams (after a fix).
    Ids that are not (or no longer) on news:dead are skipped; an entry that cannot be
    replayed is a 409 (the letters before it in ``ids`` are replayed)."""
    try:
        return RetryResult(replayed=len(await deadletters.replay(state.redis, body.ids)))
    except deadletters.UnreplayableError as exc:
        raise ProblemError(409, "Cannot replay", str(exc)) from None
