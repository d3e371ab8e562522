"""The lean store on a real MongoDB-wire server: legacy indexes dropped, legacy
stories still served, and the announced snapshot equal to what the server keeps."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from newsflow.domain.items import NewsItem
from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.runtime.mongo import ITEMS, LEGACY_ITEM_INDEXES, create_mongo_client, ensure_indexes
from newsflow.store import LEGACY_FIELDS, StoryField, read_story
from newsflow_storage.merge import merge, story_snapshot
from newsflow_storage.repository import MongoStoryRepository, insert_new_stories, store_copy
from newsflow_tools import embedded

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 26, 8, 30, 0, 123_456, tzinfo=UTC)
TAGGER = Tagger(load_taxonomy())

#: The indexes the version before this one created, exactly as it declared them.
OLD_NEWEST = [("sort_at", DESCENDING), ("_id", DESCENDING)]
OLD_ITEM_INDEXES = [
    IndexModel(OLD_NEWEST, name="newest"),
    *(
        IndexModel([(field, ASCENDING), *OLD_NEWEST], name=name)
        for field, name in (
            ("topic_ids", "topic_newest"),
            ("office_ids", "office_newest"),
            ("country_ids", "country_newest"),
            ("content_type_id", "content_type_newest"),
            ("language", "language_newest"),
            ("terms", "terms_newest"),
        )
    ),
    IndexModel([("taxonomy_version", ASCENDING)], name="taxonomy_version"),
]


@pytest.fixture
async def db(
    mongo_server: embedded.EmbeddedServer, mongo_db_name: str
) -> AsyncIterator[AsyncDatabase[dict[str, Any]]]:
    client: AsyncMongoClient[dict[str, Any]] = create_mongo_client(mongo_server.url)
    try:
        yield client[mongo_db_name]
    finally:
        await client.close()


async def index_names(db: AsyncDatabase[dict[str, Any]]) -> set[str]:
    return {index["name"] async for index in await db[ITEMS].list_indexes()}


def copy_of(office: str) -> NewsItem:
    return normalise(
        {
            "title": "Asset recovery conference",
            "summary": "Experts met in Vienna.",
            "url": "https://example.org/asset-recovery",
            "offices": [office],
            "published_at": "2026-11-25T10:00:00.654321Z",
        },
        now=NOW,
        received_at=NOW,
    )


async def test_ensure_indexes_drops_the_legacy_indexes_and_keeps_taxonomy_version(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await db[ITEMS].create_indexes(OLD_ITEM_INDEXES)  # a deployment of the older version
    assert await index_names(db) == {"_id_", *LEGACY_ITEM_INDEXES, "taxonomy_version"}

    dropped = await ensure_indexes(db)

    assert sorted(dropped) == sorted(LEGACY_ITEM_INDEXES)
    assert await index_names(db) == {"_id_", "taxonomy_version"}
    info = await db[ITEMS].index_information()
    assert info["taxonomy_version"]["key"] == [("taxonomy_version", ASCENDING)]
    # Idempotent: a restart finds nothing left to drop.
    assert await ensure_indexes(db) == []
    assert await index_names(db) == {"_id_", "taxonomy_version"}


async def test_replicas_upgrading_together_both_succeed(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    """Storage and gateway replicas run ensure_indexes at once: an index another
    one dropped first ("index not found") is no error."""
    await db[ITEMS].create_indexes(OLD_ITEM_INDEXES)
    results = await asyncio.gather(*(ensure_indexes(db) for _ in range(4)))
    assert sorted(name for dropped in results for name in dropped) == sorted(LEGACY_ITEM_INDEXES)
    assert await index_names(db) == {"_id_", "taxonomy_version"}


async def test_ensure_indexes_on_a_new_database(db: AsyncDatabase[dict[str, Any]]) -> None:
    assert await ensure_indexes(db) == []
    assert await index_names(db) == {"_id_", "taxonomy_version"}


async def test_a_story_stored_by_the_older_version_keeps_working(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    """An old document, terms and all, reads, re-enriches and takes a new copy."""
    await db[ITEMS].create_indexes(OLD_ITEM_INDEXES)
    first = copy_of("ODIHR")
    old = merge(first.id, None, first, TAGGER.tag(first))
    assert old is not None
    old |= {
        StoryField.TITLE_TERMS: ["asset", "recovery", "asset recovery"],
        StoryField.SUMMARY_TERMS: ["experts", "vienna"],
        StoryField.TERMS: ["asset", "recovery", "experts", "vienna"],
    }
    await db[ITEMS].insert_one(old)
    await ensure_indexes(db)

    stored = await db[ITEMS].find_one({StoryField.ID: first.id})
    assert stored is not None
    assert read_story(stored).title == "Asset recovery conference"
    # Re-enrichment still finds it through the index kept for it.
    assert await db[ITEMS].count_documents({StoryField.TAXONOMY_VERSION: {"$ne": "next"}}) == 1

    repo = MongoStoryRepository(db[ITEMS])
    second = copy_of("OSCE Secretariat")
    result = await store_copy(repo, second, TAGGER.tag(second))
    assert result.changed
    assert not result.created
    rewritten = await db[ITEMS].find_one({StoryField.ID: first.id})
    assert rewritten is not None
    assert not set(LEGACY_FIELDS) & set(rewritten)  # the rewrite left the old terms out
    assert rewritten[StoryField.VERSION] == 2
    assert len(rewritten[StoryField.COPIES]) == 2


async def test_the_announced_snapshot_is_what_the_server_keeps(
    db: AsyncDatabase[dict[str, Any]],
) -> None:
    await ensure_indexes(db)
    repo = MongoStoryRepository(db[ITEMS])
    first = copy_of("ODIHR")
    (bulk,) = await insert_new_stories(repo, [(first, TAGGER.tag(first))])
    assert bulk is not None
    after_insert = await db[ITEMS].find_one({StoryField.ID: first.id})
    assert after_insert is not None
    assert story_snapshot(bulk.doc) == story_snapshot(after_insert)

    second = copy_of("OSCE Secretariat")
    merged = await store_copy(repo, second, TAGGER.tag(second))
    after_merge = await db[ITEMS].find_one({StoryField.ID: first.id})
    assert after_merge is not None
    snapshot = story_snapshot(merged.doc)
    assert snapshot == story_snapshot(after_merge)
    assert snapshot[StoryField.VERSION] == 2
    assert snapshot[StoryField.PUBLISHED_AT] == "2026-11-25T10:00:00.654Z"
