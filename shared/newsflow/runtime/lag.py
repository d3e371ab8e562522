"""Lag and pending of a consumer group, on Redis 7 and on Redis 6.2.

Redis 7 reports a group's lag in XINFO GROUPS. Redis 6.2 (the embedded server)
does not, so we count the entries after the group's last-delivered id, up to a cap.
"""

from __future__ import annotations

from typing import Any, Final

from redis.asyncio import Redis

#: Past this many undelivered entries Redis 6.2's lag is reported as the cap.
LAG_SCAN_CAP: Final = 100_000


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


async def group_state(redis: Redis, stream: str, group: str) -> tuple[int, int] | None:
    """(lag, pending) of ``group`` on ``stream``; None when the group does not exist.

    Raises redis' ResponseError when the stream does not exist.
    """
    for info in await redis.xinfo_groups(stream):
        if _s(info["name"]) != group:
            continue
        lag = info.get("lag")
        if lag is None:
            after = await redis.xrange(
                stream, min=f"({_s(info['last-delivered-id'])}", count=LAG_SCAN_CAP
            )
            lag = len(after or [])
        return int(lag), int(info["pending"])
    return None
