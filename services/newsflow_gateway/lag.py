"""How far behind the ingest group is, for backpressure. Cached for a second so a
burst of requests costs one Redis round trip, not one each."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from newsflow import streams
from newsflow.runtime.lag import group_lag

CACHE_S = 1.0
_cache: dict[int, tuple[float, int]] = {}


async def ingest_lag(redis: Redis) -> int:
    now = time.monotonic()
    cached = _cache.get(id(redis))
    if cached and now - cached[0] < CACHE_S:
        return cached[1]
    lag = await group_lag(redis, streams.INGEST, streams.GROUPS[streams.INGEST])
    _cache[id(redis)] = (now, lag)
    return lag
