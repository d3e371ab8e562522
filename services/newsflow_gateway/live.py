"""The live feed: what the search index commits, fanned out to every SSE client.

The index follower calls :meth:`LiveHub.committed` after each commit with the
announcements it applied; a task of its own (so that slow matching never holds up the
index) asks the search engine which of those stories match each client's query, in
one search per client per commit, and queues the matches. Matching by the same engine
as ``/v1/items`` means a story appears live exactly when it would appear in a search.

A client that connects with ``Last-Event-ID`` first replays ``news:stored`` from that
id up to what the index holds (XRANGE, matched the same way), then continues with
live commits, skipping any entry already sent: no gaps, no repeats. A client too slow
for its queue is ended; its browser reconnects with ``Last-Event-ID`` and replays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from redis.asyncio import Redis

from newsflow import streams
from newsflow.runtime.codec import text
from newsflow_gateway.index.service import entry_key, stored_event
from newsflow_gateway.search.backend import SearchHit, StoryQuery

log = logging.getLogger("newsflow.gateway.live")

#: Matches queued per client; a client further behind is ended (it resumes by replay).
QUEUE_SIZE: Final = 5000
#: Commits waiting to be matched; beyond this every client is ended (and resumes).
COMMITS_WAITING: Final = 1000
_ENTRY_ID = re.compile(r"([0-9]{1,20})(?:-([0-9]{1,20}))?")
_U64_MAX = 2**64 - 1


def valid_entry_id(value: str) -> bool:
    """A Redis stream id: ``ms`` or ``ms-seq``, each an unsigned 64-bit integer in
    ASCII digits (``str.isdigit`` would also take "²", which ``int`` refuses)."""
    match = _ENTRY_ID.fullmatch(value)
    return match is not None and all(
        int(part) <= _U64_MAX for part in match.groups() if part is not None
    )


class Matcher(Protocol):
    """What the hub needs of the search engine."""

    async def matching(self, ids: Sequence[str], query: StoryQuery) -> list[SearchHit]: ...

    def position(self) -> str | None: ...


Delivery = tuple[str, SearchHit]


@dataclass(eq=False)  # compared and hashed by identity: one per connected client
class Subscription:
    query: StoryQuery
    queue: asyncio.Queue[Delivery | None] = field(
        default_factory=lambda: asyncio.Queue(QUEUE_SIZE + 1)
    )

    def offer(self, delivery: Delivery) -> None:
        """Queue a match; a full queue ends the client's stream instead."""
        if self.queue.qsize() >= QUEUE_SIZE:
            self.end()
        else:
            self.queue.put_nowait(delivery)

    def end(self) -> None:
        """Drop what is queued and end the stream (the client resumes by replay)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


class Slot:
    """One live client's place under the gateway's limit, held from the request until
    its stream ends; released once, however many exit paths call :meth:`release`."""

    def __init__(self, free: Callable[[], None]) -> None:
        self._free: Callable[[], None] | None = free

    def release(self) -> None:
        if self._free is not None:
            free, self._free = self._free, None
            free()


class LiveHub:
    def __init__(self, redis: Redis, search: Matcher) -> None:
        self._redis, self._search = redis, search
        self._subs: set[Subscription] = set()
        self._slots = 0
        self._commits: asyncio.Queue[list[tuple[str, str]]] = asyncio.Queue()
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
        """Live clients: those holding a slot, from their request on."""
        return self._slots

    def reserve(self, limit: int) -> Slot | None:
        """A slot if fewer than ``limit`` are held, else None. Checking and taking
        happen with no await between, so concurrent requests cannot all pass the
        check before any of them counts (the slot is taken before the subscription
        exists, which is only after the response has started)."""
        if self._slots >= limit:
            return None
        self._slots += 1
        return Slot(self._free_slot)

    def _free_slot(self) -> None:
        self._slots -= 1

    def position(self) -> str:
        """Where a client without ``Last-Event-ID`` starts: what the index holds now."""
        return self._search.position() or "0-0"

    async def resume_point(self, last_event_id: str | None) -> str:
        """Where a client resumes: after ``last_event_id`` while news:stored has come
        that far, else from what the index holds now."""
        if last_event_id is None:
            return self.position()
        last: Any = await self._redis.xrevrange(streams.STORED, count=1)
        end = text(last[0][0]) if last else "0-0"
        return last_event_id if entry_key(last_event_id) <= entry_key(end) else self.position()

    def committed(self, applied: list[tuple[str, str]], position: str) -> None:
        """The index committed ``applied`` (entry id, story id): match them off this path."""
        if not self._subs:
            return
        if self._commits.qsize() >= COMMITS_WAITING:
            log.warning("live feed: matching fell behind; ending every client's stream")
            while not self._commits.empty():
                self._commits.get_nowait()
            for sub in list(self._subs):
                sub.end()
            return
        self._commits.put_nowait(applied)

    async def _run(self) -> None:
        while True:
            applied = await self._commits.get()
            try:
                await self._dispatch(applied)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one bad match must not stop the feed
                log.warning("live feed: %s", exc)

    async def _dispatch(self, applied: list[tuple[str, str]]) -> None:
        ids = list(dict.fromkeys(story_id for _, story_id in applied))
        for sub in list(self._subs):
            try:
                hits = {h.id: h for h in await self._search.matching(ids, sub.query)}
            except Exception as exc:  # this client's query only (a prefix grown too wide)
                log.warning("live feed: ending a client whose query fails: %s", exc)
                sub.end()
                continue
            for entry_id, story_id in applied:
                hit = hits.get(story_id)
                if hit is not None:
                    sub.offer((entry_id, hit))

    async def _replay(self, sub: Subscription, after: str, upto: str) -> AsyncIterator[Delivery]:
        """What the client missed, matched against the index as it is now: each story
        once, at its first entry after ``after``, in its current version."""
        start = after
        replayed: set[str] = set()
        while entry_key(start) < entry_key(upto):
            rows: Any = await self._redis.xrange(
                streams.STORED, min=f"({start}", max=upto, count=500
            )
            if not rows:
                break
            batch: list[tuple[str, str]] = []
            for raw_id, fields in rows:
                start = text(raw_id)
                event = stored_event(start, fields)
                if event is not None:
                    batch.append((start, event.item_id))
            ids = list(dict.fromkeys(story_id for _, story_id in batch))
            hits = {h.id: h for h in await self._search.matching(ids, sub.query)}
            for entry_id, story_id in batch:
                if story_id in hits and story_id not in replayed:
                    replayed.add(story_id)
                    yield entry_id, hits[story_id]

    async def follow(self, sub: Subscription, after: str) -> AsyncIterator[Delivery]:
        """Yield (entry id, story) for matching stored events after entry ``after``:
        first those the index already holds, then live ones, never one twice."""
        self._subs.add(sub)
        try:
            upto = self.position()
            async for entry_id, hit in self._replay(sub, after, upto):
                yield entry_id, hit
            # Everything up to what the index held is sent or was not to be sent.
            sent = max(entry_key(after), entry_key(upto))
            while True:
                delivery = await sub.queue.get()
                if delivery is None:
                    return  # too slow: the client reconnects and replays
                entry_id, hit = delivery
                if entry_key(entry_id) <= sent:
                    continue
                sent = entry_key(entry_id)
                yield entry_id, hit
        finally:
            self._subs.discard(sub)
