"""Where stories are kept: a protocol, its MongoDB implementation, and an in-memory fake.

Writes use optimistic concurrency on the ``_v`` counter (``StoryField.VERSION``):
read the story, merge the copy in (pure), write back only if nobody else wrote in
between, else retry.
That makes concurrent replicas safe on any MongoDB-wire server, without
transactions or server-side update pipelines.

Most copies start a new story. For those a batch needs no read at all: the new
documents are inserted in one unordered bulk insert, and an insert that meets an
existing ``_id`` (a cross-posted copy, a replay, another replica's write) falls
back to the read-merge-write path above. That is what lets storage keep up with
the stages before it: one round trip per batch instead of two per item.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from newsflow.domain.items import NewsItem
from newsflow.domain.tags import Tags
from newsflow.store import StoryField as F
from newsflow_storage.merge import iso_millis, merge

MAX_CONFLICT_RETRIES = 20


class StoryRepository(Protocol):
    async def get(self, story_id: str) -> dict[str, Any] | None: ...

    async def put(self, doc: dict[str, Any], expected_version: int | None) -> bool:
        """Write ``doc`` if the stored version is still ``expected_version``
        (None: the story must not exist yet). False on a conflict."""
        ...

    async def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        """Insert stories that should not exist yet, in one round trip. Returns the
        ids that were not written: they existed already (or the server refused that
        one document); the caller takes those through :func:`store_copy`."""
        ...


class MongoStoryRepository:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._items = collection

    async def get(self, story_id: str) -> dict[str, Any] | None:
        return await self._items.find_one({F.ID: story_id})

    async def put(self, doc: dict[str, Any], expected_version: int | None) -> bool:
        if expected_version is None:
            try:
                await self._items.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        result = await self._items.replace_one({F.ID: doc[F.ID], F.VERSION: expected_version}, doc)
        return result.matched_count == 1

    async def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        if not docs:
            return set()
        try:
            await self._items.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            if exc.details.get("writeConcernErrors"):
                raise  # written, but not durably: retry the whole batch
            return {docs[e["index"]][F.ID] for e in exc.details.get("writeErrors", [])}
        return set()


class InMemoryStoryRepository:
    """A fake with the same contract, for unit tests of the handler."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def get(self, story_id: str) -> dict[str, Any] | None:
        doc = self.docs.get(story_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def put(self, doc: dict[str, Any], expected_version: int | None) -> bool:
        current = self.docs.get(doc[F.ID])
        if (current is None) != (expected_version is None):
            return False
        if current is not None and current.get(F.VERSION) != expected_version:
            return False
        self.docs[doc[F.ID]] = copy.deepcopy(doc)
        return True

    async def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        existed: set[str] = set()
        for doc in docs:
            if doc[F.ID] in self.docs:
                existed.add(doc[F.ID])
            else:
                self.docs[doc[F.ID]] = copy.deepcopy(doc)
        return existed


@dataclass(frozen=True)
class StoreResult:
    changed: bool
    created: bool
    #: The story as it now stands in the store: the document this write put there,
    #: or, when nothing changed, the one already there. What the announcement carries.
    doc: dict[str, Any] = field(repr=False)
    #: Nothing changed because this very receipt of the copy (same item, same
    #: ``received_at``) is already stored: the entry that wrote it is being processed
    #: again, and its announcement may be the part that was lost.
    same_receipt: bool = False
    #: The stored copy's revision, when nothing changed because the incoming copy
    #: is older (a stale revision): the handler logs it, since nothing else shows it.
    stale_of: int | None = None


def stale_of(existing: dict[str, Any], item: NewsItem) -> int | None:
    """The stored revision of ``item``'s copy, if it is higher than ``item``'s; else None."""
    record = (existing.get(F.COPIES) or {}).get(item.copy_key) or {}
    stored = record.get("revision")
    return stored if isinstance(stored, int) and stored > item.revision else None


def stored_receipt(doc: dict[str, Any], item: NewsItem) -> str | None:
    """When the stored copy of ``item``'s key was received, as :func:`iso_millis`."""
    record = (doc.get(F.COPIES) or {}).get(item.copy_key) or {}
    received = record.get("received_at")
    return iso_millis(received) if received is not None else None


class ConflictError(Exception):
    """Too many concurrent writers on one story; the entry will be retried."""


async def store_copy(repo: StoryRepository, item: NewsItem, tags: Tags) -> StoreResult:
    """Merge one copy into its story. Idempotent: storing the same copy twice is a no-op."""
    for _ in range(MAX_CONFLICT_RETRIES):
        existing = await repo.get(item.id)
        doc = merge(item.id, existing, item, tags)
        if doc is None:  # only when the copy is already there, so ``existing`` is too
            assert existing is not None
            return StoreResult(
                changed=False,
                created=False,
                doc=existing,
                same_receipt=stored_receipt(existing, item) == iso_millis(item.received_at),
                stale_of=stale_of(existing, item),
            )
        expected = existing.get(F.VERSION, 0) if existing is not None else None
        if await repo.put(doc, expected):
            return StoreResult(changed=True, created=existing is None, doc=doc)
    raise ConflictError(f"story {item.id}: gave up after {MAX_CONFLICT_RETRIES} write conflicts")


async def insert_new_stories(
    repo: StoryRepository, copies: Sequence[tuple[NewsItem, Tags]]
) -> list[StoreResult | None]:
    """The fast path for a batch: every copy whose story is new, in one bulk insert.

    Copies of one story within the batch are merged in memory first. Returns one
    result per copy, or None for a copy whose story already existed (or could not
    be inserted): the caller stores those one by one with :func:`store_copy`, which
    handles merging, replays and concurrent writers.
    """
    drafts: dict[str, dict[str, Any]] = {}
    outcomes: list[tuple[bool, bool, int | None]] = []  # (changed, created, stale_of) per copy
    for item, tags in copies:
        draft = drafts.get(item.id)
        doc = merge(item.id, draft, item, tags)
        if doc is None:  # the same copy twice in one batch, or an older one after it
            assert draft is not None
            outcomes.append((False, False, stale_of(draft, item)))
            continue
        outcomes.append((True, draft is None, None))
        drafts[item.id] = doc
    not_written = await repo.insert_new(list(drafts.values()))
    # Every copy of one story reports the document the insert wrote: all its copies.
    return [
        None
        if item.id in not_written
        else StoreResult(changed=changed, created=created, doc=drafts[item.id], stale_of=stale)
        for (item, _), (changed, created, stale) in zip(copies, outcomes, strict=True)
    ]
