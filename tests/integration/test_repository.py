"""The storage repository's bulk path on a real MongoDB-wire server."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import AsyncMongoClient

from newsflow_storage.repository import MongoStoryRepository
from newsflow_tools import embedded

pytestmark = pytest.mark.integration


async def test_insert_new_reports_existing_ids_and_writes_the_rest(
    mongo_server: embedded.EmbeddedServer, mongo_db_name: str
) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.url)
    try:
        items = client[mongo_db_name]["items"]
        repo = MongoStoryRepository(items)
        await items.insert_one({"_id": "b", "_v": 1, "title": "already there"})
        not_written = await repo.insert_new(
            [
                {"_id": "a", "_v": 1, "title": "new"},
                {"_id": "b", "_v": 1, "title": "a second writer"},
                {"_id": "c", "_v": 1, "title": "also new"},
            ]
        )
        assert not_written == {"b"}
        docs = {d["_id"]: d["title"] async for d in items.find({})}
        assert docs == {"a": "new", "b": "already there", "c": "also new"}
        assert await repo.insert_new([]) == set()
    finally:
        await client.close()
