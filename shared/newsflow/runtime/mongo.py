"""MongoDB client factory and the collection layout, shared by storage and gateway.

We use PyMongo's native asyncio API (``AsyncMongoClient``), the official
successor of motor (which reached end of life in May 2026). Only features that
both real MongoDB and the embedded SecantusDB support are used: no ``$text``.
"""

from __future__ import annotations

from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

ITEMS: Final = "items"

#: Every index the API relies on, created at start-up by storage and gateway.
#: Each filter is a multikey or scalar field combined with the sort key, so that
#: "filter + newest first" walks one index range.
ITEM_INDEXES: Final = [
    IndexModel([("sort_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
    IndexModel(
        [("topic_ids", ASCENDING), ("sort_at", DESCENDING), ("_id", DESCENDING)],
        name="topic_newest",
    ),
    IndexModel(
        [("office_ids", ASCENDING), ("sort_at", DESCENDING), ("_id", DESCENDING)],
        name="office_newest",
    ),
    IndexModel(
        [("country_ids", ASCENDING), ("sort_at", DESCENDING), ("_id", DESCENDING)],
        name="country_newest",
    ),
    IndexModel(
        [("content_type_id", ASCENDING), ("sort_at", DESCENDING), ("_id", DESCENDING)],
        name="content_type_newest",
    ),
    IndexModel(
        [("language", ASCENDING), ("sort_at", DESCENDING), ("_id", DESCENDING)],
        name="language_newest",
    ),
    IndexModel(
        [("terms", ASCENDING), ("sort_at", DESCENDING), ("_id", DESCENDING)], name="terms_newest"
    ),
    IndexModel([("taxonomy_version", ASCENDING)], name="taxonomy_version"),
]


def create_mongo_client(url: str, *, timeout_ms: int = 5_000) -> AsyncMongoClient[dict[str, Any]]:
    """An async client; it connects lazily, on the first operation."""
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
        appname="newsflow",
    )


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    """Create the item indexes (idempotent)."""
    await db[ITEMS].create_indexes(ITEM_INDEXES)
