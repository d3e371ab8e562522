"""Factories for Redis clients and the FastStream broker. Nothing connects at import."""

from __future__ import annotations

import logging

from faststream.redis import RedisBroker
from redis.asyncio import Redis


def create_redis(url: str) -> Redis:
    """A redis-py asyncio client. Connections open lazily on first command."""
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)


def create_broker(url: str) -> RedisBroker:
    """A FastStream Redis broker for one service process.

    FastStream logs every message received and processed; at our volumes that is
    noise, so those lines go out at DEBUG. Our own runtime logs what matters.
    """
    return RedisBroker(url, log_level=logging.DEBUG)
