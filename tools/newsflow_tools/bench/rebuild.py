"""Rebuild rate: a gateway on an empty index folder, rebuilding it from MongoDB.

N realistic stories are built the way the pipeline builds them (the bench items,
normalised, tagged and merged by storage's own ``merge``, so the documents are as
lean as storage writes them) and inserted into a fresh database, with the indexes
storage creates. Then, in each run, a gateway starts on a new, empty index folder
and ``/readyz`` is polled until its ``index`` reports ``ready``: the time from the
process start is the rebuild time, and N over it the rebuild rate (also given from
the first answer that says ``rebuilding``, without the process start). The folder's size
and the gateway's resident memory are read once it is ready.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from pymongo import AsyncMongoClient

from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.runtime.mongo import ITEM_INDEXES, ITEMS
from newsflow_storage.merge import merge
from newsflow_tools.bench import stats
from newsflow_tools.bench.corpus import generate_items
from newsflow_tools.bench.search import folder_bytes, rss_bytes
from newsflow_tools.bench.stack import Servers, Stack

Progress = Callable[[float, float | None], None]
DATABASE = "bench_rebuild"


def documents(tagger: Tagger, n: int, seed: int = 31) -> list[dict[str, Any]]:
    """``n`` stored-story documents, exactly as storage's merge builds them."""
    now = datetime.now(UTC)
    docs: list[dict[str, Any]] = []
    for raw in generate_items(tagger.taxonomy, n, seed=seed):
        item = normalise(raw, now=now)
        doc = merge(item.id, None, item, tagger.tag(item))
        if doc is None:
            raise RuntimeError(f"merge stored nothing for {item.id}")
        docs.append(doc)
    return docs


async def seed(
    mongodb_url: str, docs: list[dict[str, Any]], progress: Progress | None = None
) -> float:
    """Insert ``docs`` into the bench database (storage's indexes first); seconds taken."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongodb_url, tz_aware=True)
    try:
        col = client[DATABASE][ITEMS]
        await col.drop()
        await col.create_indexes(ITEM_INDEXES)
        began = time.perf_counter()
        for i in range(0, len(docs), 1000):
            await col.insert_many(docs[i : i + 1000], ordered=False)
            if progress:
                progress(min(i + 1000, len(docs)), len(docs))
        return time.perf_counter() - began
    finally:
        await client.close()


def _index_state(base: str) -> tuple[int, dict[str, Any]]:
    try:
        response = httpx.get(f"{base}/readyz", timeout=5)
        return response.status_code, response.json()
    except (httpx.HTTPError, ValueError):
        return 0, {}


def one_rebuild(stack: Stack, folder: Path, n: int, timeout: float = 1800.0) -> dict[str, Any]:
    """Start the gateway on an empty ``folder``; time it until its index is ready."""
    shutil.rmtree(folder, ignore_errors=True)
    load = [round(x, 2) for x in os.getloadavg()]
    began = time.perf_counter()
    stack.start_gateway(NEWSFLOW_INDEX_DIR=str(folder), NEWSFLOW_READY_MAX_LAG="1000000000")
    states: dict[str, float] = {}
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while True:
        proc = stack.procs["gateway"]
        if proc.poll() is not None:
            raise RuntimeError(f"the gateway exited during the rebuild; see {stack.logs}")
        code, body = _index_state(stack.gateway)
        index = body.get("index")
        if code and not isinstance(index, dict):
            return {"measured": False, "reason": "/readyz reports no index: not this gateway"}
        if isinstance(index, dict):
            states.setdefault(str(index.get("state")), round(time.perf_counter() - began, 2))
            if index.get("state") == "ready" and code == 200:
                break
            if index.get("state") == "failed":
                raise RuntimeError(f"the rebuild failed: {index}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"not rebuilt after {timeout:.0f} s: {body}")
        time.sleep(0.1)
    seconds = time.perf_counter() - began
    stories = int(body["index"].get("stories", n))
    # From the first answer that says "rebuilding" (the process is up, MongoDB is read).
    rebuilding = seconds - states.get("rebuilding", 0.0)
    result = {
        "measured": True,
        "load_average": load,
        "seconds": round(seconds, 2),
        "stories": stories,
        "items_per_second": round(n / seconds, 1),
        "items_per_second_while_rebuilding": round(n / rebuilding, 1) if rebuilding > 0 else None,
        "states_first_seen_at_s": states,
        "index_mb": round(folder_bytes(folder) / 1e6, 1),
        "gateway_rss_mb": round(rss_bytes(proc.pid) / 1e6, 1),
    }
    stack.stop()
    stack.procs.clear()
    return result


def run_rebuild(
    servers: Servers,
    tagger: Tagger,
    n: int,
    runs: int,
    workdir: Path,
    phase: Callable[[str, float], None],
    progress: Progress,
) -> dict[str, Any]:
    phase(f"rebuild: storing {n:,} stories in MongoDB", n)
    servers.fresh_database(DATABASE)
    docs = documents(tagger, n)
    seed_seconds = asyncio.run(seed(servers.mongodb_url, docs, progress))
    del docs
    servers.flush_redis()
    results: list[dict[str, Any]] = []
    stack = Stack(servers, DATABASE, {}, workdir / "logs")
    try:
        for k in range(runs):
            phase(f"rebuild from MongoDB: run {k + 1} of {runs}", 1)
            result = one_rebuild(stack, workdir / f"rebuild-index-{k}", n)
            results.append(result)
            if not result["measured"]:
                break
    finally:
        stack.stop()
    out: dict[str, Any] = {
        "stories": n,
        "seed_seconds": round(seed_seconds, 1),
        "runs": results,
    }
    measured = [r for r in results if r["measured"]]
    if measured:
        out["summary"] = stats.over_runs(
            measured, ["items_per_second", "seconds", "index_mb", "gateway_rss_mb"]
        )
        mb = out["summary"]["index_mb"]["median"]
        out["index_mb_per_100k"] = round(stats.per_100k(mb, n), 1)
        seconds = out["summary"]["seconds"]["median"]
        out["rebuild_seconds_per_million"] = round(seconds / n * 1_000_000)
    else:
        out["not_measured"] = results[0]["reason"] if results else "no run"
    return out
