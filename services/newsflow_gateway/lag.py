"""How far behind the ingest group is, for backpressure. Cached for a second so a
burst of requests costs one Redis round trip, not one each."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from newsflow import streams

CACHE_S = 1.0
SCAN_CAP = 100_000
_cache: dict[int, tuple[float, int]] = {}


async def ingest_lag(redis: Redis) -> int:
    now = time.monotonic()
    cached = _cache.get(id(redis))
    if cached and now - cached[0] < CACHE_S:
        return cached[1]
    lag = 0
    try:
        groups = await redis.xinfo_groups(streams.INGEST)
    except Exception:  # no stream yet: nothing is waiting
        groups = []
    for group in groups:
        name = group["name"].decode() if isinstance(group["name"], bytes) else group["name"]
        if name != streams.GROUPS[streams.INGEST]:
            continue
        if group.get("lag") is not None:  # Redis 7+
            lag = int(group["lag"])
        else:  # Redis 6.2: count what lies after the last delivered entry
            last = group["last-delivered-id"]
            last = last.decode() if isinstance(last, bytes) else str(last)
            lag = len(await redis.xrange(streams.INGEST, min=f"({last}", count=SCAN_CAP) or [])
    _cache[id(redis)] = (now, lag)
    return lag
