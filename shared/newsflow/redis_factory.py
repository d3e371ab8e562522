"""Factories for Redis clients and the FastStream broker. Nothing connects at import."""

from __future__ import annotations

from faststream.redis import RedisBroker
from redis.asyncio import Redis


def create_redis(url: str) -> Redis:
    """A redis-py asyncio client. Connections open lazily on first command."""
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)


def create_broker(url: str, *, log_level: int | None = None) -> RedisBroker:
    """A FastStream Redis broker for one service process."""
    if log_level is None:
        return RedisBroker(url)
    return RedisBroker(url, log_level=log_level)
