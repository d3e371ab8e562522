"""MongoDB client factory and the collection layout, shared by storage and gateway.

The documents themselves are described by :mod:`newsflow.store`.

We use PyMongo's native asyncio API (``AsyncMongoClient``), the official
successor of motor (which reached end of life in May 2026). Only features that
both real MongoDB and the embedded SecantusDB support are used: no ``$text``.

MongoDB is the record, not the read model: listings, filters, sorts and text
search run in the gateway's search index. So the collection keeps only the
indexes the record itself needs; the ones older versions built for queries are
dropped by :func:`ensure_indexes` (see :data:`LEGACY_ITEM_INDEXES`).
"""

from __future__ import annotations

import logging
from typing import Any, Final

from pymongo import ASCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure

from newsflow.store import StoryField

log = logging.getLogger("newsflow.mongo")

ITEMS: Final = "items"

#: The indexes of the record, created at start-up by storage and gateway.
#: ``taxonomy_version``: re-enrichment selects the stories tagged with another
#: taxonomy version (``newsflow reenrich``). Lookups by ``_id`` use the built-in index.
ITEM_INDEXES: Final = [
    IndexModel([(StoryField.TAXONOMY_VERSION, ASCENDING)], name="taxonomy_version"),
]

#: Indexes older versions created for the gateway's queries ("filter + newest
#: first", and the ``terms`` text search), by name. :func:`ensure_indexes` drops them.
LEGACY_ITEM_INDEXES: Final = (
    "newest",
    "topic_newest",
    "office_newest",
    "country_newest",
    "content_type_newest",
    "language_newest",
    "terms_newest",
)

#: Server error codes that mean "already gone": another replica dropped it first.
_INDEX_NOT_FOUND: Final = 27
_NAMESPACE_NOT_FOUND: Final = 26


def create_mongo_client(url: str, *, timeout_ms: int = 5_000) -> AsyncMongoClient[dict[str, Any]]:
    """An async client; it connects lazily, on the first operation."""
    return AsyncMongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        tz_aware=True,
        appname="newsflow",
    )


async def ensure_indexes(db: AsyncDatabase[dict[str, Any]]) -> list[str]:
    """Create the item indexes and drop the legacy ones (idempotent).

    Returns the names of the legacy indexes this call dropped. Safe to run from
    several processes at once: an index another one dropped first is skipped.
    """
    items = db[ITEMS]
    await items.create_indexes(ITEM_INDEXES)
    present = {index["name"] async for index in await items.list_indexes()}
    dropped: list[str] = []
    for name in LEGACY_ITEM_INDEXES:
        if name not in present:
            continue
        try:
            await items.drop_index(name)
        except OperationFailure as exc:
            if exc.code not in (_INDEX_NOT_FOUND, _NAMESPACE_NOT_FOUND):
                raise
            continue
        dropped.append(name)
    if dropped:
        log.info("dropped legacy item indexes: %s", ", ".join(dropped))
    return dropped
