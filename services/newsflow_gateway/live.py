"""The live feed: one reader of ``news:stored`` fanned out to every SSE client.

A single task tails the stream (XREAD) and looks up the stored stories of each
read in one query; every connected client has a queue and its own query, matched
in Python with the same semantics as the database filter. Announcements are read
as :class:`~newsflow.events.ItemStored` events, stories as
:class:`~newsflow.store.StoredStory`. A client that reconnects with
``Last-Event-ID`` first replays the stream from that id (XRANGE), then continues
with live events, skipping any it has already sent: no gaps, no repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from redis.asyncio import Redis

from newsflow import streams
from newsflow.events import ItemStored, parse_event
from newsflow.runtime.codec import text
from newsflow.store import StoredStory, read_story
from newsflow.store import StoryField as F
from newsflow_gateway.search.query import Filters, SearchQuery, TextQuery

log = logging.getLogger("newsflow.gateway.live")

#: Fields of a story that matching and the SSE payload need.
LIVE_PROJECTION = {F.COPIES: 0, F.BODY: 0}
QUEUE_SIZE = 1000


def entry_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


_ENTRY_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")
_U64_MAX = 2**64 - 1


def valid_entry_id(value: str) -> bool:
    """A Redis stream id: ``ms`` or ``ms-seq``, each an unsigned 64-bit integer in
    ASCII digits (``str.isdigit`` would also take "²", which ``int`` refuses)."""
    match = _ENTRY_ID.fullmatch(value)
    return match is not None and all(
        int(part) <= _U64_MAX for part in match.groups() if part is not None
    )


def stored_event(entry_id: str, fields: dict[bytes, bytes]) -> ItemStored | None:
    """The announcement in a ``news:stored`` entry; None (logged) for one we cannot read."""
    try:
        return parse_event(ItemStored, fields[streams.EVENT_FIELD.encode()])
    except (KeyError, ValidationError):
        log.warning("live feed: skipping malformed entry %s on news:stored", entry_id)
        return None


def _story(doc: dict[str, Any]) -> StoredStory | None:
    try:
        return read_story(doc)
    except ValidationError as exc:
        log.warning("live feed: skipping unreadable story %s: %s", doc.get(F.ID), exc)
        return None


@dataclass(eq=False)  # compared and hashed by identity: one per connected client
class Subscription:
    filters: Filters
    text: TextQuery
    queue: asyncio.Queue[tuple[str, StoredStory]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE)
    )
    overflowed: bool = False

    def matches(self, story: StoredStory) -> bool:
        return SearchQuery(filters=self.filters, text=self.text).matches(story)


class LiveHub:
    def __init__(self, redis: Redis, items: AsyncCollection[dict[str, Any]]) -> None:
        self._redis, self._items = redis, items
        self._subs: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="live-hub")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    @property
    def clients(self) -> int:
        return len(self._subs)

    async def _doc(self, item_id: str) -> StoredStory | None:
        doc = await self._items.find_one({F.ID: item_id}, LIVE_PROJECTION)
        return _story(doc) if doc is not None else None

    async def tip(self) -> str:
        """The id of the newest entry on the stream ("0-0" when it is empty)."""
        try:
            info = await self._redis.xinfo_stream(streams.STORED)
        except Exception as exc:
            if "no such key" in str(exc).lower():
                return "0-0"
            raise
        last = info["last-generated-id"]
        return text(last)

    async def _run(self) -> None:
        last: str | None = None
        while True:
            try:
                if last is None:
                    last = await self.tip()
                rows: Any = await self._redis.xread({streams.STORED: last}, block=1000, count=100)
                for _, entries in rows or []:
                    batch = [(text(raw_id), fields) for raw_id, fields in entries]
                    if batch and self._subs:
                        await self._dispatch(batch)
                    if batch:
                        last = batch[-1][0]
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or Mongo hiccup: log, back off, go on
                log.warning("live feed: %s", exc)
                last = None
                await asyncio.sleep(1.0)

    async def _dispatch(self, batch: list[tuple[str, dict[bytes, bytes]]]) -> None:
        """Look up the stories of a batch of announcements in one query, then hand
        each, in stream order, to every client whose query it matches."""
        events = [stored_event(entry_id, fields) for entry_id, fields in batch]
        item_ids = [e.item_id if e else None for e in events]
        docs = {
            doc[F.ID]: _story(doc)
            async for doc in self._items.find(
                {F.ID: {"$in": list({i for i in item_ids if i})}}, LIVE_PROJECTION
            )
        }
        for (entry_id, _), item_id in zip(batch, item_ids, strict=True):
            doc = docs.get(item_id) if item_id else None
            if doc is None:
                continue
            for sub in list(self._subs):
                if sub.matches(doc):
                    try:
                        sub.queue.put_nowait((entry_id, doc))
                    except asyncio.QueueFull:
                        sub.overflowed = True

    async def follow(self, sub: Subscription, after: str) -> AsyncIterator[tuple[str, StoredStory]]:
        """Yield (entry id, story) for matching stored events after entry ``after``:
        first what is already on the stream, then live ones, never one twice."""
        self._subs.add(sub)
        try:
            start, sent = after, entry_key(after)
            while True:  # replay what the client missed, page by page
                rows: Any = await self._redis.xrange(streams.STORED, min=f"({start}", count=500)
                if not rows:
                    break
                for raw_id, fields in rows:
                    start = text(raw_id)
                    event = stored_event(start, fields)
                    doc = await self._doc(event.item_id) if event else None
                    if doc is not None and sub.matches(doc):
                        yield start, doc
            sent = max(sent, entry_key(start))
            while not sub.overflowed:
                entry_id, doc = await sub.queue.get()
                if entry_key(entry_id) <= sent:
                    continue
                sent = entry_key(entry_id)
                yield entry_id, doc
        finally:
            self._subs.discard(sub)
