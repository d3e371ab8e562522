"""MongoDB client factory and the collection layout, shared by storage and gateway.

The documents themselves are described by :mod:`newsflow.store`.

We use PyMongo's native asyncio API (``AsyncMongoClient``), the official
successor of motor (which reached end of life in May 2026). Only features that
both real MongoDB and the embedded SecantusDB support are used: no ``$text``.
"""

from __future__ import annotations

from typing import Any, Final

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase

from newsflow.store import StoryField

ITEMS: Final = "items"

#: Every index the API relies on, created at start-up by storage and gateway.
#: Each filter is a multikey or scalar field combined with the sort key, so that
#: "filter + newest first" walks one index range.
_NEWEST: Final = [(StoryField.SORT_AT, DESCENDING), (StoryField.ID, DESCENDING)]
ITEM_INDEXES: Final = [
    IndexModel(_NEWEST, name="newest"),
    *(
        IndexModel([(field, ASCENDING), *_NEWEST], name=name)
        for field, name in (
            (StoryField.TOPIC_IDS, "topic_newest"),
            (StoryField.OFFICE_IDS, "office_newest"),
            (StoryField.COUNTRY_IDS, "country_newest"),
            (StoryField.CONTENT_TYPE_ID, "content_type_newest"),
            (StoryField.LANGUAGE, "language_newest"),
            (StoryField.TERMS, "terms_newest"),
        )
    ),
    IndexModel([(StoryField.TAXONOMY_VERSION, ASCENDING)], name="taxonomy_version"),
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
