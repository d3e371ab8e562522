"""``GET /v1/stream``: Server-Sent Events of newly stored stories matching a query."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from newsflow_gateway.deps import SettingsDep, StateDep, TaxonomyDep
from newsflow_gateway.live import Slot, Subscription, valid_entry_id
from newsflow_gateway.problems import Problem, ProblemError
from newsflow_gateway.schemas import summary_from_hit
from newsflow_gateway.search.params import ItemQuery, single_valued

router = APIRouter(prefix="/v1", tags=["live"], dependencies=[Depends(single_valued)])
KEEPALIVE_S = 15.0


@router.get(
    "/stream",
    summary="Follow new stories live (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`event: item` with the story as JSON; `id` is the resume point.",
        },
        422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
        503: {"model": Problem, "description": "Too many live clients on this gateway."},
    },
)
async def stream(
    request: Request,
    params: Annotated[ItemQuery, Query()],
    state: StateDep,
    taxonomy: TaxonomyDep,
    settings: SettingsDep,
    last_event_id: Annotated[
        str | None,
        Header(
            min_length=1,
            max_length=41,
            pattern=r"^[0-9]{1,20}(-[0-9]{1,20})?$",
            description="Resume after this event id (set by EventSource): a stream id, "
            "`ms` or `ms-seq`, each part at most 2^64-1.",
        ),
    ] = None,
) -> StreamingResponse:
    """Stories stored from now on that match the same query and filters as
    ``/v1/items``. Reconnect with ``Last-Event-ID`` to resume without losing any."""
    query = params.to_query(taxonomy)  # validates q, ids and dates like the other endpoints
    if last_event_id is not None and not valid_entry_id(last_event_id):
        raise ProblemError(
            422,
            "Unprocessable Content",
            "Last-Event-ID: not an event id from this stream",
            [{"field": "Last-Event-ID", "message": "malformed"}],
        )
    hub = state.live
    slot = hub.reserve(settings.max_live_clients)  # before any await: see LiveHub.reserve
    if slot is None:
        raise ProblemError(
            503,
            "Service Unavailable",
            f"this gateway follows {hub.clients} live clients, its limit; retry shortly",
            headers={"Retry-After": "10"},
        )
    try:
        # A query that the index refuses (a prefix matching too many words) is a 422
        # now, not a stream that stays silent.
        await state.search.search(query, limit=1, highlights=False)
        # Without Last-Event-ID the client follows from what the index holds now; so
        # does one whose id lies beyond this stream's end (a Redis that was reset, or
        # an id that never was): waiting for the stream to reach it would keep it silent.
        after = await hub.resume_point(last_event_id)
    except BaseException:
        slot.release()
        raise
    sub = Subscription(query=query)

    async def events() -> AsyncIterator[bytes]:
        yield b": connected\nretry: 2000\n\n"
        source = hub.follow(sub, after).__aiter__()
        pending: asyncio.Task[Any] | None = None
        try:
            while not await request.is_disconnected():
                if pending is None:
                    pending = asyncio.ensure_future(source.__anext__())
                done, _ = await asyncio.wait({pending}, timeout=KEEPALIVE_S)
                if not done:
                    yield b": keep-alive\n\n"
                    continue
                try:
                    entry_id, hit = pending.result()
                except StopAsyncIteration:
                    break
                finally:
                    pending = None if done else pending
                payload = summary_from_hit(hit).model_dump_json()
                yield f"id: {entry_id}\nevent: item\ndata: {payload}\n\n".encode()
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
            with contextlib.suppress(Exception):
                await source.aclose()  # type: ignore[attr-defined]
            slot.release()

    return LiveResponse(
        events(),
        slot,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class LiveResponse(StreamingResponse):
    """A stream that gives its client's slot back when it ends, also when its body
    never starts (the client left before the headers went out)."""

    def __init__(self, content: AsyncIterator[bytes], slot: Slot, **kwargs: Any) -> None:
        super().__init__(content, **kwargs)
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.slot.release()
