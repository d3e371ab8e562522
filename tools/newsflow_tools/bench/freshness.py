"""Freshness: from an item's XADD to the story being found by ``/v1/items``.

Not the live feed: a search. Every item of a run carries one marker word, unique to
the run, in its title, and is published "now", so it is on the first page of
``/v1/items?q=<marker>`` once the index has it. Items are offered at a steady rate,
one XADD each; a poller asks every :data:`POLL_SECONDS` for the marked stories
published since the oldest one not yet seen (following the next pages while they
hold stories not seen before) and records when each story id first appears. An
item's freshness is the arrival of the answer that first holds it minus its XADD
time, so it is an upper bound, coarse by at most the poll interval plus one request.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson

from newsflow.domain.normalise import normalise
from newsflow.domain.taxonomy import Taxonomy
from newsflow.runtime.redis_factory import create_redis
from newsflow_tools.bench.corpus import generate_items
from newsflow_tools.bench.pipeline import Latency, offer

POLL_SECONDS = 0.05
Progress = Callable[[int, int], None]


def marked_items(
    taxonomy: Taxonomy, n: int, marker: str, *, seed: int, now: datetime
) -> list[tuple[str, bytes, str]]:
    """``n`` bench items with ``marker`` in the title, published just before ``now``
    (one second apart, newest last), as (story id, payload, published_at)."""
    out: list[tuple[str, bytes, str]] = []
    for i, item in enumerate(generate_items(taxonomy, n, seed=seed)):
        item["title"] = f"{item['title']} {marker}"
        when = now - timedelta(seconds=n - i)
        item["published_at"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
        item["url"] = f"{item['url']}/{marker}"
        out.append((normalise(item, now=now).id, orjson.dumps(item), item["published_at"]))
    return out


async def _poll(
    gateway: str,
    marker: str,
    items: Sequence[tuple[str, bytes, str]],
    sent: dict[str, float],
    seen: dict[str, float],
    stop: asyncio.Event,
    polls: list[int],
) -> None:
    """Ask for the stories with ``marker`` published since the oldest one sent and not
    yet seen, newest first, page after page while a page holds one not seen before.

    Asking only from the oldest missing story keeps each answer to the stories in
    flight, so the poller costs the gateway little, however many have arrived."""
    oldest = 0  # items[:oldest] have all been seen
    async with httpx.AsyncClient(base_url=gateway, timeout=30) as http:
        while not stop.is_set():
            began = time.perf_counter()
            while oldest < len(items) and items[oldest][0] in seen:
                oldest += 1
            if oldest == len(items) or items[oldest][0] not in sent:
                await asyncio.sleep(POLL_SECONDS)
                continue
            since = items[oldest][2]
            params: dict[str, str | int] = {"q": marker, "from": since, "limit": 100}
            while True:
                response = await http.get("/v1/items", params=params)
                arrived = time.perf_counter()
                polls[0] += 1
                if response.status_code != 200:
                    polls[1] += 1
                    break
                page = response.json()
                fresh = False
                for hit in page.get("items", []):
                    fresh = seen.setdefault(str(hit.get("id")), arrived) == arrived or fresh
                if not (fresh and page.get("next_cursor")):
                    break
                params = {**params, "cursor": page["next_cursor"]}
            await asyncio.sleep(max(0.0, POLL_SECONDS - (time.perf_counter() - began)))


async def freshness(
    redis_url: str,
    gateway: str,
    items: Sequence[tuple[str, bytes, str]],
    marker: str,
    rate: float,
    *,
    progress: Progress | None = None,
    drain_timeout: float = 30.0,
) -> tuple[Latency, dict[str, Any]]:
    """Offer ``items`` at ``rate`` per second; time each until ``/v1/items`` finds it."""
    redis = create_redis(redis_url)
    seen: dict[str, float] = {}
    sent: dict[str, float] = {}
    stop = asyncio.Event()
    polls = [0, 0]
    poller = asyncio.create_task(_poll(gateway, marker, items, sent, seen, stop, polls))
    try:
        pairs = [(story_id, payload) for story_id, payload, _ in items]
        offered_for = await offer(redis, pairs, rate, sent, progress, lambda: len(seen))
        deadline = time.monotonic() + drain_timeout
        while len(seen.keys() & sent.keys()) < len(sent) and time.monotonic() < deadline:
            if poller.done():
                poller.result()
            await asyncio.sleep(0.1)
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await poller
        await redis.aclose()
    samples = sorted((seen[k] - t) * 1000 for k, t in sent.items() if k in seen)
    achieved = len(sent) / offered_for if offered_for > 0 else float(len(sent))
    detail = {"poll_interval_ms": POLL_SECONDS * 1000, "polls": polls[0], "poll_errors": polls[1]}
    return Latency(rate, achieved, len(sent), len(samples), samples), detail


def run_freshness(
    redis_url: str,
    gateway: str,
    taxonomy: Taxonomy,
    rate: float,
    seconds: float,
    run: int,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """One run at ``rate`` items/s for ``seconds``."""
    now = datetime.now(UTC)
    marker = f"fresh{int(now.timestamp())}r{run}"
    count = max(int(rate * seconds), 1)
    items = marked_items(taxonomy, count, marker, seed=300 + run, now=now)
    lat, detail = asyncio.run(freshness(redis_url, gateway, items, marker, rate, progress=progress))
    return {**lat.summary(), **detail, "marker": marker}
