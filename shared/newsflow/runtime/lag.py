"""Lag and pending of a consumer group, on Redis 7 and on Redis 6.2.

Redis 7 reports a group's lag in XINFO GROUPS. Redis 6.2 (the embedded server)
does not, so we count the entries after the group's last-delivered id, up to
:data:`LAG_SCAN_CAP`. This is the only lag scan: the workers' metrics, the
gateway's backpressure, ``newsflow status`` and ``newsflow push`` all call it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from newsflow.runtime.codec import text

#: Past this many undelivered entries Redis 6.2's lag is reported as the cap.
LAG_SCAN_CAP: Final = 100_000


async def lag_of(redis: Redis, stream: str, info: Mapping[Any, Any]) -> int:
    """Lag of the group that ``info`` (one XINFO GROUPS row of ``stream``) describes."""
    lag = info.get("lag")
    if lag is not None:  # Redis 7+
        return int(lag)
    after = await redis.xrange(
        stream, min=f"({text(info['last-delivered-id'])}", max="+", count=LAG_SCAN_CAP
    )
    return len(after or [])


async def group_state(redis: Redis, stream: str, group: str) -> tuple[int, int] | None:
    """(lag, pending) of ``group`` on ``stream``; None when the group does not exist.

    Raises redis' ResponseError when the stream does not exist.
    """
    for info in await redis.xinfo_groups(stream):
        if text(info["name"]) == group:
            return await lag_of(redis, stream, info), int(info["pending"])
    return None


async def group_lag(redis: Redis, stream: str, group: str) -> int:
    """Lag of one group; 0 when the stream or the group does not exist yet."""
    try:
        state = await group_state(redis, stream, group)
    except ResponseError:  # no such stream: nothing is waiting
        return 0
    return state[0] if state is not None else 0
