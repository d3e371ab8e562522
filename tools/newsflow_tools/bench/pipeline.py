"""End-to-end measurements on a running stack: throughput and latency.

Throughput is timed with Redis's own clock: from the id of the first entry on
``news:ingest`` to the id of the last announcement on ``news:stored`` (entry ids
are server milliseconds), so the bench's polling interval does not enter the figure.

Latency is XADD to the item being returned by the gateway: a client follows the
gateway's live feed (``/v1/stream``, server-sent events, the API a client app
uses to follow items live), and each item's latency is the time from its XADD to
its arrival there. Items are offered at a steady rate, one XADD each, as
publishers would send them.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from redis.asyncio import Redis

from newsflow import streams
from newsflow.runtime.codec import text
from newsflow.runtime.redis_factory import create_redis

Progress = Callable[[int, int], None]


async def offer(
    redis: Redis,
    items: Sequence[tuple[str, Any]],
    rate: float,
    sent: dict[str, float],
    progress: Progress | None,
    received: Callable[[], int],
) -> float:
    """XADD each (story id, payload) to news:ingest at a steady ``rate``, noting in
    ``sent`` when each went; returns how long offering took."""
    start = time.perf_counter()
    for i, (story_id, payload) in enumerate(items):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        sent[story_id] = time.perf_counter()
        await redis.xadd(streams.INGEST, {streams.ITEM_FIELD: payload})
        if progress and i % 50 == 0:
            progress(received(), len(items))
    return time.perf_counter() - start


def _ms(entry_id: bytes | str) -> int:
    return int(text(entry_id).partition("-")[0])


@dataclass(frozen=True)
class Throughput:
    items: int
    seconds: float
    stored: int
    rejected: int
    dead: int

    @property
    def items_per_second(self) -> float:
        return self.stored / self.seconds if self.seconds > 0 else 0.0


async def throughput(
    redis_url: str,
    payloads: Sequence[bytes],
    *,
    progress: Progress | None = None,
    wait_limit: float = 600.0,
    chunk: int = 500,
) -> Throughput:
    """Push every payload (pipelined, like ``newsflow push``) and wait until each
    is stored, rejected or dead-lettered."""
    redis = create_redis(redis_url)
    n = len(payloads)
    try:
        first_id: bytes | None = None
        for start in range(0, n, chunk):
            pipe = redis.pipeline(transaction=False)
            for payload in payloads[start : start + chunk]:
                pipe.xadd(streams.INGEST, {streams.ITEM_FIELD: payload})
            ids = await pipe.execute()
            first_id = first_id or ids[0]
        if first_id is None:
            raise ValueError("nothing to push")
        first: bytes = first_id
        deadline = time.monotonic() + wait_limit
        while True:
            stored = int(await redis.xlen(streams.STORED))
            rejected = int(await redis.xlen(streams.REJECTED))
            dead = int(await redis.xlen(streams.DEAD))
            if progress:
                progress(stored + rejected + dead, n)
            if stored + rejected + dead >= n:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {stored} of {n} items stored after {wait_limit:.0f} s")
            await asyncio.sleep(0.05)
        last: Any = await redis.xrevrange(streams.STORED, count=1)
        seconds = (_ms(last[0][0]) - _ms(first)) / 1000 if last else 0.0
        return Throughput(n, max(seconds, 0.001), stored, rejected, dead)
    finally:
        await redis.aclose()


@dataclass(frozen=True)
class Latency:
    offered_per_second: float
    #: The rate the XADDs actually went out at (the producer may fall behind).
    sent_per_second: float
    sent: int
    received: int
    samples_ms: list[float]

    def percentile(self, q: int) -> float:
        if not self.samples_ms:
            return float("nan")
        if len(self.samples_ms) == 1:
            return self.samples_ms[0]
        return statistics.quantiles(self.samples_ms, n=100, method="inclusive")[q - 1]

    def summary(self) -> dict[str, Any]:
        return {
            "offered_items_per_second": round(self.offered_per_second, 1),
            "sent_items_per_second": round(self.sent_per_second, 1),
            "sent": self.sent,
            "received": self.received,
            "p50_ms": round(self.percentile(50), 1),
            "p95_ms": round(self.percentile(95), 1),
            "p99_ms": round(self.percentile(99), 1),
            "max_ms": round(max(self.samples_ms), 1) if self.samples_ms else None,
        }


async def _follow(gateway: str, arrived: dict[str, float], ready: asyncio.Event) -> None:
    """Record the arrival time of every item the gateway's live feed sends."""
    async with (
        httpx.AsyncClient(base_url=gateway, timeout=httpx.Timeout(10, read=None)) as http,
        http.stream("GET", "/v1/stream") as response,
    ):
        response.raise_for_status()
        ready.set()
        async for line in response.aiter_lines():
            if line.startswith("data: "):
                arrived.setdefault(orjson.loads(line[6:])["id"], time.perf_counter())


async def latency(
    redis_url: str,
    gateway: str,
    items: Sequence[tuple[str, bytes]],
    rate: float,
    *,
    progress: Progress | None = None,
    drain_timeout: float = 60.0,
) -> Latency:
    """Offer ``items`` (story id, payload) at ``rate`` per second, one XADD each,
    and time each from its XADD to its arrival on the gateway's live feed."""
    redis = create_redis(redis_url)
    arrived: dict[str, float] = {}
    sent: dict[str, float] = {}
    ready = asyncio.Event()
    follower = asyncio.create_task(_follow(gateway, arrived, ready))
    try:
        await asyncio.wait_for(ready.wait(), timeout=30)
        await asyncio.sleep(0.5)  # the feed follows from its tip as of connection
        offered_for = await offer(redis, items, rate, sent, progress, lambda: len(arrived))
        deadline = time.monotonic() + drain_timeout
        while len(arrived.keys() & sent.keys()) < len(sent) and time.monotonic() < deadline:
            if follower.done():
                follower.result()  # the feed broke: raise its error
            if progress:
                progress(len(arrived), len(items))
            await asyncio.sleep(0.1)
    finally:
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await follower
        await redis.aclose()
    samples = [(arrived[k] - t) * 1000 for k, t in sent.items() if k in arrived]
    achieved = len(sent) / offered_for if offered_for > 0 else float(len(sent))
    return Latency(rate, achieved, len(sent), len(samples), sorted(samples))
