"""Running a search: one page of stories, the exact count, and the cursor to the next.

The last step of the search path (params → query → listing). Keyset paging: each
page continues strictly after the last (sort key, id) of the previous one, so
walking every page never repeats or skips a story, however many arrive meanwhile,
and page 1,000 costs what page 2 does. Relevance is scored in the query from our
own term index (:func:`~newsflow_gateway.search.query.score_expression`).
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, NamedTuple

import orjson
from pymongo.asynchronous.collection import AsyncCollection

from newsflow.store import StoredStory, read_story
from newsflow.store import StoryField as F
from newsflow_gateway.search.query import (
    SCORE,
    Order,
    SearchQuery,
    Sort,
    order_of,
    score_expression,
)

#: Fields a result list needs; the rest (body, copies, index terms) stays in the store.
LIST_PROJECTION: Final[dict[str, Any]] = dict.fromkeys(
    (
        F.TITLE,
        F.SUMMARY,
        F.URL,
        F.PUBLISHED_AT,
        F.LANGUAGE,
        F.CONTENT_TYPE,
        F.OFFICES,
        F.TOPICS,
        F.COUNTRIES,
        F.SORT_AT,
        F.FIRST_RECEIVED_AT,
        F.SOURCES,
    ),
    1,
)
#: Everything a client may see of a story: all but the index terms (and the copies).
WITHOUT_INDEX: Final[dict[str, Any]] = dict.fromkeys((F.TERMS, F.TITLE_TERMS, F.SUMMARY_TERMS), 0)
#: The type of each sort key in a cursor.
_KINDS: Final[dict[str, type]] = {SCORE: float, F.SORT_AT: datetime, F.ID: str}


class Hit(NamedTuple):
    story: StoredStory
    score: float | None = None


@dataclass
class Page:
    hits: list[Hit]
    total: int
    next_cursor: str | None

    @property
    def stories(self) -> list[StoredStory]:
        return [h.story for h in self.hits]


class CursorError(ValueError):
    pass


def encode_cursor(values: list[Any]) -> str:
    raw = orjson.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, kinds: tuple[type, ...]) -> list[Any]:
    """Decode a cursor made by :func:`encode_cursor`; values typed by ``kinds``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        raise CursorError("malformed cursor") from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise CursorError("malformed cursor")
    out: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        try:
            if kind is datetime:
                out.append(datetime.fromisoformat(value))
            elif kind is str and isinstance(value, str):
                out.append(value)
            elif kind is float and isinstance(value, int | float):
                out.append(float(value))
            else:
                raise CursorError("malformed cursor")
        except (TypeError, ValueError):
            raise CursorError("malformed cursor") from None
    return out


def after(order: Order, cursor: str) -> dict[str, Any]:
    """Strictly after the cursor's keys in the page order. Raises :class:`CursorError`
    for a cursor this order did not make."""
    values = decode_cursor(cursor, tuple(_KINDS[k] for k in order.keys))
    op = "$lt" if order.descending else "$gt"
    keys = list(zip(order.keys, values, strict=True))
    clauses = []
    for i, (name, value) in enumerate(keys):
        clause: dict[str, Any] = dict(keys[:i])
        clause[name] = {op: value}
        clauses.append(clause)
    return {"$or": clauses}


async def fetch_page(
    items: AsyncCollection[dict[str, Any]],
    query: SearchQuery,
    *,
    sort: Sort,
    limit: int,
    cursor: str | None,
    timeout_ms: int,
    projection: dict[str, Any] | None = None,
) -> Page:
    """Raises :class:`CursorError` for a cursor this query did not make."""
    projection = projection or LIST_PROJECTION
    order = order_of(sort, query.text)
    base = query.filter()
    # The exact count and the page are independent: ask for both at once.
    counting = asyncio.ensure_future(items.count_documents(base, maxTimeMS=timeout_ms))
    try:
        docs = await _page(items, query, base, order, limit, cursor, timeout_ms, projection)
    except BaseException:
        counting.cancel()
        raise
    total = await counting
    more = len(docs) > limit
    docs = docs[:limit]
    next_cursor = encode_cursor([docs[-1][k] for k in order.keys]) if more else None
    hits = [Hit(read_story(d), d.get(SCORE)) for d in docs]
    return Page(hits=hits, total=total, next_cursor=next_cursor)


async def _page(
    items: AsyncCollection[dict[str, Any]],
    query: SearchQuery,
    base: dict[str, Any],
    order: Order,
    limit: int,
    cursor: str | None,
    timeout_ms: int,
    projection: dict[str, Any],
) -> list[dict[str, Any]]:
    if order.ranked:
        pipeline: list[dict[str, Any]] = [
            {"$match": base},
            {"$addFields": {SCORE: score_expression(query.text.units())}},
        ]
        if cursor:
            pipeline.append({"$match": after(order, cursor)})
        pipeline += [
            {"$sort": order.sort()},
            {"$limit": limit + 1},
            # An inclusion projection must name the score; an exclusion one keeps it.
            {"$project": {**projection, SCORE: 1} if 1 in projection.values() else projection},
        ]
        return await (await items.aggregate(pipeline, maxTimeMS=timeout_ms)).to_list()
    find = {"$and": [base, after(order, cursor)]} if cursor else base
    return await (
        items.find(find, projection, max_time_ms=timeout_ms)
        .sort(list(order.sort().items()))
        .limit(limit + 1)
        .to_list()
    )


__all__ = ["LIST_PROJECTION", "WITHOUT_INDEX", "CursorError", "Hit", "Page", "fetch_page"]
