"""Gateway overhead: each typical query through HTTP versus the same query made
directly with the driver, in the same run, against the same database.

    .venv/bin/python tests/benchmarks/bench_gateway.py            # 1,000 and 10,000 items
    .venv/bin/python tests/benchmarks/bench_gateway.py --sizes 1000 --requests 100

Starts its own embedded SecantusDB and Redis (or uses MONGODB_URL / REDIS_URL),
loads N realistic stories straight into the store (built with the pipeline's own
normaliser, tagger and merge), runs the gateway as a real process, and for each
query prints p50/p99 latency and throughput for both paths, the ratio, and whether
the gateway stays within the target of +20 % + 2 ms over the direct query.

The embedded SecantusDB is slow on large sorts; the absolute numbers say little
about production. The ratio and the overhead in milliseconds are the point.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from newsflow import embedded
from newsflow.documents import merge
from newsflow.mongo import ITEM_INDEXES, ITEMS
from newsflow.normalise import normalise
from newsflow.tagging import Tagger
from newsflow.taxonomy import load_taxonomy
from newsflow_gateway.listing import LIST_PROJECTION
from newsflow_gateway.query import parse_text_query

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
    rng = random.Random(seed)
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


async def load(url: str, database: str, n: int) -> None:
    tagger = Tagger(load_taxonomy())
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


async def timed(fn: Callable[[], Awaitable[Any]], requests: int) -> list[float]:
    await fn()  # warm up
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1]


async def bench(gateway: str, url: str, database: str, requests: int, names: set[str]) -> list[str]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, tz_aware=True)
    col = client[database][ITEMS]
    lines = []
    async with httpx.AsyncClient(base_url=gateway, timeout=120) as http:
        for name, params, mongo_filter in QUERIES:
            if names and name not in names:
                continue

            async def via_gateway(params: dict[str, Any] = params) -> None:
                response = await http.get("/v1/items", params={**params, "limit": 20})
                response.raise_for_status()

            async def direct(mongo_filter: dict[str, Any] = mongo_filter) -> None:
                await col.count_documents(mongo_filter)
                await (
                    col.find(mongo_filter, LIST_PROJECTION)
                    .sort([("sort_at", -1), ("_id", -1)])
                    .limit(21)
                    .to_list()
                )

            gw = await timed(via_gateway, requests)
            db = await timed(direct, requests)
            g50, d50 = p(gw, 50), p(db, 50)
            ratio = g50 / d50
            ok = g50 <= d50 * 1.2 + 2.0
            lines.append(
                f"  {name:<14} gateway p50 {g50:7.1f} ms p99 {p(gw, 99):7.1f} ms "
                f"{1000 / statistics.mean(gw):6.0f} req/s | direct p50 {d50:7.1f} ms "
                f"p99 {p(db, 99):7.1f} ms {1000 / statistics.mean(db):6.0f} q/s | "
                f"ratio {ratio:4.2f} overhead {g50 - d50:+5.1f} ms "
                f"{'within' if ok else 'OVER'} +20%+2ms"
            )
    await client.close()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--only", default="", help="comma-separated query names to run")
    parser.add_argument(
        "--requests",
        type=int,
        default=0,
        help="requests per query and path; default 30 for 1,000 items, 5 for 10,000 "
        "(SecantusDB needs about a second per query at 1,000 items)",
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="nf-bench-"))
    servers = []
    mongo_url = os.environ.get("MONGODB_URL")
    redis_url = os.environ.get("REDIS_URL")
    if not mongo_url:
        servers.append(embedded.start_secantus(tmp / "mongo"))
        mongo_url = servers[-1].url
    if not redis_url:
        servers.append(embedded.start_redis(tmp / "redis", appendonly=False))
        redis_url = servers[-1].url
    port = embedded.free_port()
    try:
        for size in (int(s) for s in args.sizes.split(",")):
            database = f"bench_{size}"
            started = time.perf_counter()
            asyncio.run(load(mongo_url, database, size))
            print(f"{size} stories loaded in {time.perf_counter() - started:.1f} s")
            env = {
                **os.environ,
                "MONGODB_URL": mongo_url,
                "REDIS_URL": redis_url,
                "MONGODB_DATABASE": database,
                "GATEWAY_PORT": str(port),
                "NEWSFLOW_LOG_LEVEL": "WARNING",
                # SecantusDB needs more than the default 15 s for big unfiltered pages.
                "NEWSFLOW_QUERY_TIMEOUT_MS": "600000",
            }
            proc = subprocess.Popen([sys.executable, "-m", "newsflow_gateway"], env=env)
            try:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    try:
                        if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                            break
                    except httpx.HTTPError:
                        time.sleep(0.2)
                requests = args.requests or max(5, 30_000 // size)
                names = {n.strip() for n in args.only.split(",") if n.strip()}
                lines = asyncio.run(
                    bench(f"http://127.0.0.1:{port}", mongo_url, database, requests, names)
                )
                print(f"{size} stories, {requests} sequential requests per query:")
                print("\n".join(lines))
            finally:
                proc.terminate()
                proc.wait(timeout=20)
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
