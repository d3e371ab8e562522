"""Where stories are kept: a protocol, its MongoDB implementation, and an in-memory fake.

Writes use optimistic concurrency on the ``_v`` counter: read the story, merge
the copy in (pure), write back only if nobody else wrote in between, else retry.
That makes concurrent replicas safe on any MongoDB-wire server, without
transactions or server-side update pipelines.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Protocol

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from newsflow.documents import merge
from newsflow.items import NewsItem
from newsflow.tags import Tags

MAX_CONFLICT_RETRIES = 20


class StoryRepository(Protocol):
    async def get(self, story_id: str) -> dict[str, Any] | None: ...

    async def put(self, doc: dict[str, Any], expected_version: int | None) -> bool:
        """Write ``doc`` if the stored version is still ``expected_version``
        (None: the story must not exist yet). False on a conflict."""
        ...


class MongoStoryRepository:
    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._items = collection

    async def get(self, story_id: str) -> dict[str, Any] | None:
        return await self._items.find_one({"_id": story_id})

    async def put(self, doc: dict[str, Any], expected_version: int | None) -> bool:
        if expected_version is None:
            try:
                await self._items.insert_one(doc)
            except DuplicateKeyError:
                return False
            return True
        result = await self._items.replace_one({"_id": doc["_id"], "_v": expected_version}, doc)
        return result.matched_count == 1


class InMemoryStoryRepository:
    """A fake with the same contract, for unit tests of the handler."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}

    async def get(self, story_id: str) -> dict[str, Any] | None:
        doc = self.docs.get(story_id)
        return copy.deepcopy(doc) if doc is not None else None

    async def put(self, doc: dict[str, Any], expected_version: int | None) -> bool:
        current = self.docs.get(doc["_id"])
        if (current is None) != (expected_version is None):
            return False
        if current is not None and current.get("_v") != expected_version:
            return False
        self.docs[doc["_id"]] = copy.deepcopy(doc)
        return True


@dataclass(frozen=True)
class StoreResult:
    changed: bool
    created: bool


class ConflictError(Exception):
    """Too many concurrent writers on one story; the entry will be retried."""


async def store_copy(repo: StoryRepository, item: NewsItem, tags: Tags) -> StoreResult:
    """Merge one copy into its story. Idempotent: storing the same copy twice is a no-op."""
    for _ in range(MAX_CONFLICT_RETRIES):
        existing = await repo.get(item.id)
        doc = merge(item.id, existing, item, tags)
        if doc is None:
            return StoreResult(changed=False, created=False)
        expected = existing.get("_v", 0) if existing is not None else None
        if await repo.put(doc, expected):
            return StoreResult(changed=True, created=existing is None)
    raise ConflictError(f"story {item.id}: gave up after {MAX_CONFLICT_RETRIES} write conflicts")
