"""The search index as the gateway runs it: following ``news:stored``, rebuilding
from MongoDB, and answering searches (:class:`~newsflow_gateway.search.backend.StorySearch`).

**Following.** One task reads ``news:stored`` with XREAD from the position committed
with the index. Each announcement carries the story as storage wrote it
(``ItemStored.story``); one from an older storage does not, and its story is read
from MongoDB by id. Entries are gathered until ``news:stored`` pauses for 20 ms,
for at most ``index_commit_ms`` (or ``index_batch`` entries), applied (the newest
``_v`` of a story wins, so replays and out-of-order announcements change nothing)
and committed together with the id of the last entry. A restart, even after SIGKILL
mid-commit, resumes from the committed id.

**Rebuilding.** A missing, stale or damaged index is rebuilt from MongoDB: first the
stream's tip is noted, then every story is read in ``_id`` order (one cursor), a
batch per commit, each commit recording how far it got so a killed rebuild resumes
there. Then the follower starts from the noted tip, re-applying what was stored
meanwhile (harmless, see above). An index that cannot follow the log from where it
is (``news:stored`` trimmed past its position, lost or recreated by a Redis that
restarted empty; see :meth:`IndexService._gap`) is rebuilt the same way but in
place: it keeps answering meanwhile.

**States** (``/readyz`` and ``newsflow status``): ``starting``, ``rebuilding`` (not
serving), ``catching up`` (serving, behind the log), ``ready`` (serving, at the tip),
``failed`` (another process holds the folder's writer lock; needs an operator).

Tantivy calls run in threads: writes in one dedicated thread, reads in the default
pool, so the event loop never waits on the index.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from enum import StrEnum
from typing import Any, Final, TypeVar

from pydantic import ValidationError
from pymongo.asynchronous.collection import AsyncCollection
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from newsflow import streams
from newsflow.events import ItemStored, parse_event
from newsflow.runtime.codec import text
from newsflow.runtime.logs import item_context
from newsflow.runtime.tracing import STORY_ID, consumer_spans, label
from newsflow.store import LEGACY_FIELDS, StoryField
from newsflow_gateway.index.index import (
    DamagedIndexError,
    SearchHit,
    SearchIndex,
    SearchPage,
    Sort,
    StaleIndexError,
)
from newsflow_gateway.search.backend import Facets, SearchUnavailableError, StoryQuery
from newsflow_gateway.settings import GatewaySettings

log = logging.getLogger("newsflow.gateway.index")

#: What the index does not need of a stored story.
_PROJECTION: Final = {StoryField.COPIES: 0, **dict.fromkeys(LEGACY_FIELDS, 0)}
_EMPTY_PAGE: Final = SearchPage([], 0, None)
#: While gathering a batch, a pause this long in news:stored commits what is gathered.
_GATHER_S: Final = 0.02
T = TypeVar("T")

#: Called after each commit with (entry id, story id) of every applied announcement.
CommitListener = Callable[[list[tuple[str, str]], str], None]


class IndexState(StrEnum):
    STARTING = "starting"
    REBUILDING = "rebuilding"
    CATCHING_UP = "catching up"
    READY = "ready"
    FAILED = "failed"


SERVING: Final = frozenset({IndexState.CATCHING_UP, IndexState.READY})


class IndexLockedError(RuntimeError):
    """Another process writes this index folder."""


def entry_key(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def stored_event(entry_id: str, fields: dict[bytes, bytes]) -> ItemStored | None:
    """The announcement in a ``news:stored`` entry; None (logged) for one we cannot read."""
    try:
        return parse_event(ItemStored, fields[streams.EVENT_FIELD.encode()])
    except (KeyError, ValidationError):
        with item_context(entry_id=entry_id):
            log.warning("search index: skipping malformed entry %s on news:stored", entry_id)
        return None


class IndexService:
    """One gateway's search index and the task that keeps it current."""

    def __init__(
        self,
        settings: GatewaySettings,
        redis: Redis,
        items: AsyncCollection[dict[str, Any]],
        *,
        on_commit: CommitListener | None = None,
    ) -> None:
        self._settings, self._redis, self._items = settings, redis, items
        self._on_commit = on_commit
        self._index: SearchIndex | None = None
        self._state = IndexState.STARTING
        self._error: str | None = None
        self._progress: dict[str, int] | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="index-writer")

    # --- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="search-index")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            # A client library that swallows the cancellation inside a blocking read
            # (seen with fakeredis) must not hold shutdown: the loops also check
            # _stopping, and the wait is bounded.
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(self._task, timeout=5)
        if self._index is not None:
            await self._write(self._index.close)
        self._writer.shutdown(wait=True)

    @property
    def state(self) -> IndexState:
        return self._state

    def position(self) -> str | None:
        """The last ``news:stored`` entry id the served index holds."""
        return self._index.position() if self._index is not None else None

    def status(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "state": str(self._state),
            "stories": self._index.num_docs() if self._index is not None else 0,
            "position": self.position(),
        }
        if self._progress is not None:
            out["progress"] = dict(self._progress)
        if self._error:
            out["error"] = self._error
        return out

    async def _write(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn)

    # --- the task -----------------------------------------------------------------

    async def _run(self) -> None:
        delay = 0.5
        while not self._stopping:
            try:
                await self._prepare()
                await self._follow()
            except asyncio.CancelledError:
                raise
            except IndexLockedError as exc:
                self._state, self._error = IndexState.FAILED, str(exc)
                log.error("search index: %s", exc)
                await asyncio.sleep(5.0)
            except Exception as exc:  # Redis or MongoDB away: keep what we have, retry
                self._error = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("search index: %s; retrying in %.1f s", self._error, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:
                delay = 0.5

    def _open(self) -> tuple[SearchIndex, bool]:
        """The index folder, opened (or made anew when unusable), with its writer lock
        taken; and whether it was made anew."""
        path = self._settings.index_dir
        heap = self._settings.index_writer_mb * 1_000_000
        fresh = not (path / "meta.json").exists()
        try:
            index = SearchIndex.open_or_create(path, writer_heap=heap)
        except (StaleIndexError, DamagedIndexError) as exc:
            log.warning("search index: %s; rebuilding it from MongoDB", exc)
            index, fresh = SearchIndex.create(path, replace=True, writer_heap=heap), True
        try:
            index.lock()
        except ValueError as exc:
            if "lock" in str(exc).lower():
                raise IndexLockedError(
                    f"{path} is written by another process; give each gateway its own "
                    "NEWSFLOW_INDEX_DIR"
                ) from exc
            raise
        return index, fresh

    async def _prepare(self) -> None:
        """Open the index, then rebuild it if it cannot follow the log from where it is."""
        fresh = False
        index = self._index
        if index is None:
            opened, fresh = await self._write(self._open)
            self._index = index = opened
        resume = index.rebuild_state()
        if resume is not None:
            log.info("search index: resuming the rebuild after story %s", resume.get("after"))
            await self._rebuild(resume)
        elif fresh:
            await self._rebuild(None)
        elif await self._gap(index):
            log.warning("search index: news:stored does not hold all it missed; rebuilding")
            await self._rebuild(None, serving=True)
        if self._state not in SERVING:
            self._state = IndexState.CATCHING_UP

    async def _stream_info(self) -> dict[Any, Any] | None:
        try:
            info: dict[Any, Any] = await self._redis.xinfo_stream(streams.STORED)
        except ResponseError as exc:
            if "no such key" in str(exc).lower():
                return None
            raise
        return info

    async def _gap(self, index: SearchIndex) -> bool:
        """Whether stories may have been announced that the index will never read.

        - Nothing read since the last rebuild, yet the record holds stories the index
          does not: they were announced on a stream that is gone (Redis lost it).
        - The stream is gone, or ends before our position (another Redis).
        - Entries after our position were trimmed or deleted (``max-deleted-entry-id``).
        - The stream starts after our position and nothing up to it was deleted: it
          was recreated (Redis restarted empty and was written to again).
        """
        position = index.position()
        at = entry_key(position) if position else (0, 0)
        if at == (0, 0):
            held = await asyncio.to_thread(index.num_docs)
            return held < await self._items.estimated_document_count()
        info = await self._stream_info()
        if info is None:
            return True
        if at > entry_key(text(info["last-generated-id"])):
            return True
        deleted = entry_key(text(info.get("max-deleted-entry-id") or b"0-0"))
        if deleted > at:
            return True
        first = info.get("first-entry")
        if not first:
            return False
        return entry_key(text(first[0])) > at and deleted < at

    async def _tip(self) -> str:
        info = await self._stream_info()
        return text(info["last-generated-id"]) if info is not None else "0-0"

    async def _rebuild(self, resume: dict[str, Any] | None, *, serving: bool = False) -> None:
        """Read every story from MongoDB into the index. ``serving``: the index already
        holds a whole (if stale) corpus, so it answers meanwhile, as catching up."""
        index = self._index
        assert index is not None
        self._state = IndexState.CATCHING_UP if serving else IndexState.REBUILDING
        tip = str(resume["tip"]) if resume else await self._tip()
        after: str | None = resume.get("after") if resume else None
        done = int(resume.get("done", 0)) if resume else 0
        total = await self._items.estimated_document_count()
        self._progress = {"done": done, "total": total}
        started = time.monotonic()
        log.info("search index: rebuilding from MongoDB (%d stories, tip %s)", total, tip)
        # One cursor in _id order, not a query per batch: a server that sorts before
        # it limits (SecantusDB) would otherwise scan the collection once per batch.
        flt = {"_id": {"$gt": after}} if after is not None else {}
        size = self._settings.index_rebuild_batch
        cursor = self._items.find(flt, _PROJECTION).sort([("_id", 1)]).batch_size(size)
        docs: list[dict[str, Any]] = []
        async for doc in cursor:
            docs.append(doc)
            if len(docs) < size:
                continue
            done = await self._rebuilt(docs, tip, done, total)
            docs = []
        if docs:
            done = await self._rebuilt(docs, tip, done, total)
        await self._write(lambda: index.commit(tip))
        elapsed = time.monotonic() - started
        log.info(
            "search index: rebuilt %d stories in %.1f s; following from %s", done, elapsed, tip
        )
        self._progress = None

    async def _rebuilt(self, docs: list[dict[str, Any]], tip: str, done: int, total: int) -> int:
        """Apply and commit one rebuild batch, recording how far the rebuild got."""
        index = self._index
        assert index is not None
        done += len(docs)
        state = {"tip": tip, "after": str(docs[-1]["_id"]), "done": done}

        def step() -> None:
            index.apply_newest(docs)
            index.commit(None, rebuild=state)

        await self._write(step)
        self._progress = {"done": done, "total": max(total, done)}
        log.info("search index: rebuilt %d of about %d stories", done, max(total, done))
        return done

    async def _follow(self) -> None:
        index = self._index
        assert index is not None
        window = self._settings.index_commit_ms / 1000
        batch = self._settings.index_batch
        cursor = index.position() or "0-0"
        log.info("search index: following news:stored after %s", cursor)
        pending: list[tuple[str, dict[bytes, bytes]]] = []
        first_at = 0.0
        while not self._stopping:
            # Idle: wait up to a window for work. Gathering: wait for more only while
            # it keeps coming (a pause of _GATHER_S commits now), and never past the
            # window, so a lone story is searchable in milliseconds and a flood is
            # committed in batches at least every window.
            wait = (
                window
                if not pending
                else max(0.001, min(_GATHER_S, window - (time.monotonic() - first_at)))
            )
            rows: Any = await self._redis.xread(
                {streams.STORED: cursor}, block=max(1, int(wait * 1000)), count=batch - len(pending)
            )
            got = [(text(i), f) for _, entries in rows or [] for i, f in entries]
            if got and not pending:
                first_at = time.monotonic()
            pending.extend(got)
            if got:
                cursor = got[-1][0]
            if not pending:
                self._state, self._error = IndexState.READY, None
                continue
            due = len(pending) >= batch or time.monotonic() - first_at >= window
            if due or not got:
                behind = len(pending) >= batch
                await self._apply(pending)
                pending = []
                self._error = None
                self._state = IndexState.CATCHING_UP if behind else IndexState.READY

    async def _apply(self, entries: list[tuple[str, dict[bytes, bytes]]]) -> None:
        index = self._index
        assert index is not None
        applied: list[tuple[str, str]] = []
        docs: list[dict[str, Any]] = []
        missing: list[str] = []
        events = [(i, e) for i, fields in entries if (e := stored_event(i, fields)) is not None]
        # Each story's trace ends here: a span per announcement, until the commit.
        traced = [(entry_id, event.traceparent) for entry_id, event in events]
        with consumer_spans(streams.STORED, traced) as spans:
            for span, (entry_id, event) in zip(spans, events, strict=True):
                label(span, {STORY_ID: event.item_id})
                applied.append((entry_id, event.item_id))
                if event.story is not None:
                    docs.append(event.story)
                else:
                    missing.append(event.item_id)
            if missing:  # announced by an older storage: read the story from the record
                docs.extend(
                    await self._items.find(
                        {"_id": {"$in": list(set(missing))}}, _PROJECTION
                    ).to_list()
                )
            position = entries[-1][0]

            def step() -> None:
                index.apply_newest(docs)
                index.commit(position)

            await self._write(step)
        if self._on_commit is not None and applied:
            self._on_commit(applied, position)

    # --- reading (StorySearch) ----------------------------------------------------

    def _serving(self) -> SearchIndex:
        index = self._index
        if index is None or self._state not in SERVING:
            progress = self._progress
            detail = f"search index is {self._state}"
            if progress:
                detail += f": {progress['done']} of about {progress['total']} stories"
            raise SearchUnavailableError(detail + "; retry shortly")
        return index

    async def search(
        self,
        query: StoryQuery,
        *,
        sort: Sort = "newest",
        limit: int = 20,
        cursor: str | None = None,
        highlights: bool = True,
        with_body: bool = False,
    ) -> SearchPage:
        index = self._serving()
        if query.nothing:
            return _EMPTY_PAGE
        return await asyncio.to_thread(
            index.search,
            query.text,
            query.filters,
            sort=sort,
            limit=limit,
            cursor=cursor,
            highlights=highlights,
            with_body=with_body,
        )

    async def facets(self, query: StoryQuery) -> Facets:
        index = self._serving()
        if query.nothing:
            return Facets(0, {})

        def run() -> Facets:
            return Facets(
                index.count(query.text, query.filters), index.facets(query.text, query.filters)
            )

        return await asyncio.to_thread(run)

    async def matching(self, ids: Sequence[str], query: StoryQuery) -> list[SearchHit]:
        index = self._index
        if index is None or query.nothing or not ids:
            return []
        return await asyncio.to_thread(index.matching, list(ids), query.text, query.filters)


__all__ = ["IndexLockedError", "IndexService", "IndexState", "entry_key", "stored_event"]
