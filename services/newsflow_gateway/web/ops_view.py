"""What the operator console shows, read from Redis in one pass per refresh.

The figures are :mod:`newsflow.runtime.streamstatus` (as ``newsflow status``
prints them) and :mod:`newsflow.runtime.deadletters` (as ``newsflow dlq`` lists
them); this module only shapes them for the templates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import ValidationError
from redis.asyncio import Redis

from newsflow import streams
from newsflow.events import ItemRejected, parse_event
from newsflow.runtime import deadletters
from newsflow.runtime.codec import text
from newsflow.runtime.streamstatus import (
    Rate,
    StreamStatus,
    collect,
    entry_ms,
    server_ms,
    throughput,
)

#: Dead letters and rejections shown, at most (the oldest letters, the newest rejections).
SHOWN: Final = 50
#: The rate chart: this many buckets of this many seconds.
BUCKETS: Final = 10
BUCKET_S: Final = 30


@dataclass(frozen=True)
class Rejection:
    entry_id: str
    at: datetime
    reason: str
    fields: list[str]
    source: str


@dataclass(frozen=True)
class Console:
    now_ms: int
    streams: list[StreamStatus]
    dead: list[deadletters.Letter | deadletters.Unreadable]
    dead_total: int
    rejections: list[Rejection]
    rejected_total: int
    rates: list[Rate]

    @property
    def updated(self) -> datetime:
        return datetime.fromtimestamp(self.now_ms / 1000, UTC)


def _rejection(entry_id: Any, fields: Any) -> Rejection:
    at = datetime.fromtimestamp(entry_ms(entry_id) / 1000, UTC)
    raw = fields.get(streams.EVENT_FIELD.encode()) if isinstance(fields, dict) else None
    try:
        event = parse_event(ItemRejected, {streams.EVENT_FIELD: text(raw)})
    except (ValidationError, ValueError):
        return Rejection(text(entry_id), at, "(not a rejection event)", [], "")
    return Rejection(
        text(entry_id),
        at,
        event.reason,
        [f"{e.field}: {e.message}" for e in event.errors],
        f"{event.source_stream} entry {event.ingest_entry_id}",
    )


async def read_console(redis: Redis) -> Console:
    """Everything the console shows, as of the Redis server's clock."""
    now = await server_ms(redis)
    dead = await deadletters.list_letters(redis, count=SHOWN)
    rejected: Any = await redis.xrevrange(streams.REJECTED, count=SHOWN) or []
    return Console(
        now_ms=now,
        streams=await collect(redis),
        dead=dead,
        dead_total=int(await redis.xlen(streams.DEAD)),
        rejections=[_rejection(entry_id, fields) for entry_id, fields in rejected],
        rejected_total=int(await redis.xlen(streams.REJECTED)),
        rates=await throughput(redis, now_ms=now, bucket_s=BUCKET_S, buckets=BUCKETS),
    )


def age(now_ms: int, then_ms: int | None) -> str:
    """A short human age: ``42 s``, ``5 min``, ``3 h``, ``2 d``; ``-`` for none."""
    if then_ms is None:
        return "-"
    seconds = max(now_ms - then_ms, 0) / 1000
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172_800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86_400:.0f} d"


def sparkline(values: tuple[float | None, ...], width: int = 120, height: int = 24) -> str:
    """The ``points`` of an SVG polyline for ``values`` (None drawn as 0), scaled to
    the box; drawn with SVG attributes only, which the page CSP allows."""
    if not values:
        return ""
    top = max((v for v in values if v is not None), default=0.0) or 1.0
    step = width / max(len(values) - 1, 1)
    return " ".join(
        f"{i * step:.1f},{height - (v or 0.0) / top * (height - 2) - 1:.1f}"
        for i, v in enumerate(values)
    )
