"""One page of stories: keyset paging for every sort order, and relevance ranking.

Keyset paging: each page continues strictly after the last (sort key, id) of the
previous one, so walking every page never repeats or skips a story, however many
arrive meanwhile, and page 1,000 costs what page 2 does. Relevance is scored in
the query from our own term index: a query unit (word, or word pair of a phrase)
found in the title counts 4, in the summary 2, anywhere 1.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pymongo.asynchronous.collection import AsyncCollection

from newsflow_gateway.search.query import CursorError, TextQuery, decode_cursor, encode_cursor

Sort = Literal["newest", "oldest", "relevance"]

#: Fields a result list needs; the rest (body, copies, index terms) stays in the store.
LIST_PROJECTION: dict[str, Any] = {
    "title": 1,
    "summary": 1,
    "url": 1,
    "published_at": 1,
    "language": 1,
    "content_type": 1,
    "offices": 1,
    "topics": 1,
    "countries": 1,
    "sort_at": 1,
    "first_received_at": 1,
    "sources": 1,
}
WEIGHTS = (("title_terms", 4), ("summary_terms", 2), ("terms", 1))


@dataclass
class Page:
    docs: list[dict[str, Any]]
    total: int
    next_cursor: str | None


def score_expression(units: list[str]) -> dict[str, Any]:
    return {
        "$add": [
            {"$multiply": [w, {"$size": {"$setIntersection": [{"$ifNull": [f"${f}", []]}, units]}}]}
            for f, w in WEIGHTS
        ]
    }


def _after(keys: list[tuple[str, Any]], descending: bool) -> dict[str, Any]:
    """Strictly after the given (field, value) keys in lexicographic page order."""
    op = "$lt" if descending else "$gt"
    clauses = []
    for i, (name, value) in enumerate(keys):
        clause: dict[str, Any] = dict(keys[:i])
        clause[name] = {op: value}
        clauses.append(clause)
    return {"$or": clauses}


async def fetch_page(
    items: AsyncCollection[dict[str, Any]],
    base: dict[str, Any],
    *,
    text: TextQuery,
    sort: Sort,
    limit: int,
    cursor: str | None,
    timeout_ms: int,
    projection: dict[str, Any] | None = None,
) -> Page:
    """Raises :class:`CursorError` for a cursor this query did not make."""
    projection = projection or LIST_PROJECTION
    # The exact count and the page are independent: ask for both at once.
    counting = asyncio.ensure_future(items.count_documents(base, maxTimeMS=timeout_ms))
    try:
        docs, keys = await _page(
            items,
            base,
            text=text,
            sort=sort,
            limit=limit,
            cursor=cursor,
            timeout_ms=timeout_ms,
            projection=projection,
        )
    except BaseException:
        counting.cancel()
        raise
    total = await counting
    more = len(docs) > limit
    docs = docs[:limit]
    next_cursor = encode_cursor([docs[-1][k] for k in keys]) if more else None
    return Page(docs=docs, total=total, next_cursor=next_cursor)


async def _page(
    items: AsyncCollection[dict[str, Any]],
    base: dict[str, Any],
    *,
    text: TextQuery,
    sort: Sort,
    limit: int,
    cursor: str | None,
    timeout_ms: int,
    projection: dict[str, Any],
) -> tuple[list[dict[str, Any]], list[str]]:
    units = text.units()
    if sort == "relevance" and units:
        keys: list[str] = ["score", "sort_at", "_id"]
        pipeline: list[dict[str, Any]] = [
            {"$match": base},
            {"$addFields": {"score": score_expression(units)}},
        ]
        if cursor:
            score, sort_at, last = decode_cursor(cursor, (float, datetime, str))
            pipeline.append(
                {
                    "$match": _after(
                        [("score", score), ("sort_at", sort_at), ("_id", last)], descending=True
                    )
                }
            )
        pipeline += [
            {"$sort": {"score": -1, "sort_at": -1, "_id": -1}},
            {"$limit": limit + 1},
            {"$project": {**projection, "score": 1}},
        ]
        docs = await (await items.aggregate(pipeline, maxTimeMS=timeout_ms)).to_list()
    else:
        keys = ["sort_at", "_id"]
        descending = sort != "oldest"
        query = base
        if cursor:
            sort_at, last = decode_cursor(cursor, (datetime, str))
            query = {"$and": [base, _after([("sort_at", sort_at), ("_id", last)], descending)]}
        direction = -1 if descending else 1
        docs = await (
            items.find(query, projection, max_time_ms=timeout_ms)
            .sort([("sort_at", direction), ("_id", direction)])
            .limit(limit + 1)
            .to_list()
        )
    return docs, keys


__all__ = ["CursorError", "Page", "fetch_page"]
