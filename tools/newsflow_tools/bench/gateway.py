"""Gateway overhead: each typical query through HTTP against the same query made
directly with the driver, in the same run, on the same database.

N realistic stories (built with the pipeline's own normaliser, tagger and merge,
spread over six years) are loaded straight into a fresh database, the gateway
runs as a real process on it, and each query is timed through both paths in
turn, one request at a time. The p99 of a handful of requests is close to their
maximum, and requests/s is the rate of one client waiting for each answer, not
the gateway's capacity.

The embedded SecantusDB is slow on large sorts, so absolute numbers say little
about production; the ratio and the overhead in milliseconds are the point. The
target is the gateway within +20 % + 2 ms of the direct query.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from newsflow_gateway.search.listing import LIST_PROJECTION
from pymongo import AsyncMongoClient

from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.runtime.mongo import ITEM_INDEXES, ITEMS
from newsflow_gateway.search.params import parse_text_query
from newsflow_storage.merge import merge

OFFICES = [
    "OSCE Mission to Serbia",
    "OSCE Office for Democratic Institutions and Human Rights",
    "OSCE Mission to Moldova",
    "OSCE Programme Office in Bishkek",
    "OSCE Secretariat",
    "OSCE Representative on Freedom of the Media",
    "OSCE Mission to Bosnia and Herzegovina",
]
TOPICS = [
    "Elections",
    "Media freedom and development",
    "Rule of law",
    "Policing",
    "Gender equality",
    "Environmental activities",
    "Youth",
    "Human rights",
]
WORDS = (
    "training workshop conference report mission police judges journalists election "
    "observers water border youth women reform court media freedom minority"
).split()


def stories(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)  # noqa: S311 - reproducible test data
    start = datetime(2019, 1, 1, tzinfo=UTC)
    step = timedelta(days=6 * 365) / n  # six years of news, whatever n is
    out = []
    for i in range(n):
        words = " ".join(rng.choice(WORDS) for _ in range(6))
        out.append(
            {
                "title": f"{words.capitalize()} {i}",
                "summary": " ".join(rng.choice(WORDS) for _ in range(40)),
                "published_at": (start + step * i).isoformat(),
                "offices": [rng.choice(OFFICES)],
                "topics": rng.sample(TOPICS, 2),
                "content_type": rng.choice(["News", "Press release"]),
                "language": "en",
            }
        )
    return out


async def load(url: str, database: str, n: int, tagger: Tagger) -> None:
    now = datetime.now(UTC)
    docs = []
    for raw in stories(n):
        item = normalise(raw, now=now)
        doc = merge(item.id, None, item, tagger.tag(item))
        assert doc is not None
        docs.append(doc)
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    col = client[database][ITEMS]
    await col.drop()
    await col.create_indexes(ITEM_INDEXES)
    for i in range(0, len(docs), 500):
        await col.insert_many(docs[i : i + 500])
    await client.close()


QUERIES: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("newest page", {}, {}),
    ("topic filter", {"topic": "elections"}, {"topic_ids": "elections"}),
    (
        "office + date",
        {"office": "mission-serbia", "from": "2020-01-01T00:00:00Z"},
        {"office_ids": "mission-serbia", "sort_at": {"$gte": datetime(2020, 1, 1, tzinfo=UTC)}},
    ),
    ("text query", {"q": "police reform"}, parse_text_query("police reform").filter()),
]


async def timed(
    a: Callable[[], Awaitable[Any]],
    b: Callable[[], Awaitable[Any]],
    requests: int,
    warm_up: bool,
) -> tuple[list[float], list[float]]:
    """Time ``a`` and ``b`` in turn, each going first half of the time, so both
    see the same server conditions (SecantusDB's speed drifts with its checkpoints,
    and a query right after an identical one can find warmer caches)."""
    if warm_up:
        await a()
        await b()
    samples: dict[int, list[float]] = {0: [], 1: []}
    for n in range(requests):
        order = ((0, a), (1, b)) if n % 2 == 0 else ((1, b), (0, a))
        for k, fn in order:
            started = time.perf_counter()
            await fn()
            samples[k].append((time.perf_counter() - started) * 1000)
    return samples[0], samples[1]


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


async def measure(
    gateway: str, url: str, database: str, requests: int, *, warm_up: bool = True
) -> dict[str, dict[str, float | bool]]:
    """Per query: p50/p99 and requests/s through the gateway and direct, the ratio
    of the p50s, and whether the gateway is within the target."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    col = client[database][ITEMS]
    results: dict[str, dict[str, float | bool]] = {}
    async with httpx.AsyncClient(base_url=gateway, timeout=600) as http:
        for name, params, mongo_filter in QUERIES:

            async def via_gateway(params: dict[str, Any] = params) -> None:
                response = await http.get("/v1/items", params={**params, "limit": 20})
                response.raise_for_status()

            async def direct(mongo_filter: dict[str, Any] = mongo_filter) -> None:
                # What the gateway asks of the database for one page, the way it
                # asks: the exact total and the page itself, concurrently.
                await asyncio.gather(
                    col.count_documents(mongo_filter),
                    col.find(mongo_filter, LIST_PROJECTION)
                    .sort([("sort_at", -1), ("_id", -1)])
                    .limit(21)
                    .to_list(),
                )

            gw, db = await timed(via_gateway, direct, requests, warm_up)
            g50, d50 = percentile(gw, 50), percentile(db, 50)
            results[name] = {
                "gateway_p50_ms": round(g50, 2),
                "gateway_p99_ms": round(percentile(gw, 99), 2),
                "gateway_requests_per_second": round(1000 / statistics.mean(gw), 2),
                "direct_p50_ms": round(d50, 2),
                "direct_p99_ms": round(percentile(db, 99), 2),
                "direct_queries_per_second": round(1000 / statistics.mean(db), 2),
                "ratio": round(g50 / d50, 3),
                "overhead_ms": round(g50 - d50, 2),
                "within_target": g50 <= d50 * 1.2 + 2.0,
            }
    await client.close()
    return results
