"""Factories for Redis clients and the FastStream broker. Nothing connects at import.

Every service and the CLI build their Redis connections here, so one URL form
works everywhere:

- ``redis://``, ``rediss://``, ``unix://``: one Redis server, as redis-py reads them;
- ``redis+sentinel://[user:password@]host:26379[,host2:26380...]/mastername[/db]``:
  ask the sentinels which server is the primary. redis-py's sentinel pool asks
  again on every reconnect, so after a failover the clients (and FastStream's
  subscribers, which share that pool type) reach the promoted replica by
  themselves. The user and password are those of the data nodes; the sentinels
  are reached without them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit

import redis as redis_sync
import redis.sentinel as sync_sentinel
from faststream.redis import RedisBroker, RedisSentinelBroker
from redis.asyncio import Redis
from redis.asyncio.sentinel import Sentinel

SENTINEL_SCHEME: Final = "redis+sentinel"
#: Socket timeouts towards the sentinels: a dead sentinel must not stall the others.
SENTINEL_SOCKET_TIMEOUT_S: Final = 1.0


@dataclass(frozen=True)
class SentinelUrl:
    """A ``redis+sentinel://`` URL, read."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    username: str | None = None
    password: str | None = None

    def connection_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"db": self.db}
        if self.username:
            kwargs["username"] = self.username
        if self.password:
            kwargs["password"] = self.password
        return kwargs


def is_sentinel(url: str) -> bool:
    return url.startswith(f"{SENTINEL_SCHEME}://")


def parse_sentinel_url(url: str) -> SentinelUrl:
    """Read a ``redis+sentinel://`` URL; ValueError naming what is wrong."""
    parts = urlsplit(url)
    if parts.scheme != SENTINEL_SCHEME:
        raise ValueError(f"not a {SENTINEL_SCHEME}:// URL")
    credentials, _, hosts = parts.netloc.rpartition("@")
    username, _, password = credentials.partition(":")
    sentinels: list[tuple[str, int]] = []
    for node in hosts.split(","):
        host, _, port = node.strip().rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"sentinel address {node!r} is not host:port")
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parts.path.split("/") if p]
    if not path or len(path) > 2:
        raise ValueError("the path must be /mastername or /mastername/db")
    if len(path) == 2 and not path[1].isdigit():
        raise ValueError(f"database {path[1]!r} is not a number")
    return SentinelUrl(
        sentinels=tuple(sentinels),
        master=unquote(path[0]),
        db=int(path[1]) if len(path) == 2 else 0,
        username=unquote(username) or None,
        password=unquote(password) or None,
    )


def create_redis(url: str) -> Redis:
    """A redis-py asyncio client. Connections open lazily on first command."""
    if is_sentinel(url):
        parsed = parse_sentinel_url(url)
        manager = Sentinel(  # type: ignore[no-untyped-call]
            list(parsed.sentinels),
            sentinel_kwargs={"socket_timeout": SENTINEL_SOCKET_TIMEOUT_S},
        )
        client: Redis = manager.master_for(
            parsed.master,
            decode_responses=False,
            health_check_interval=30,
            **parsed.connection_kwargs(),
        )
        return client
    return Redis.from_url(url, decode_responses=False, health_check_interval=30)


def create_redis_sync(url: str, **options: Any) -> redis_sync.Redis:
    """A synchronous redis-py client, for the CLI's synchronous commands."""
    if is_sentinel(url):
        parsed = parse_sentinel_url(url)
        manager = sync_sentinel.Sentinel(  # type: ignore[no-untyped-call]
            list(parsed.sentinels),
            sentinel_kwargs={"socket_timeout": SENTINEL_SOCKET_TIMEOUT_S},
        )
        client: redis_sync.Redis = manager.master_for(  # type: ignore[no-untyped-call]
            parsed.master, **parsed.connection_kwargs(), **options
        )
        return client
    return redis_sync.Redis.from_url(url, **options)


def create_broker(url: str) -> RedisBroker:
    """A FastStream Redis broker for one service process.

    FastStream logs every message received and processed; at our volumes that is
    noise, so those lines go out at DEBUG. Our own runtime logs what matters.
    """
    if is_sentinel(url):
        parsed = parse_sentinel_url(url)
        # FastStream reads the credentials and database from a plain URL; the host in
        # it is never used, the sentinels name the primary.
        auth = ""
        if parsed.username or parsed.password:
            auth = (
                f"{quote(parsed.username or '', safe='')}:{quote(parsed.password or '', safe='')}@"
            )
        return RedisSentinelBroker(
            f"redis://{auth}localhost/{parsed.db}",
            sentinels=list(parsed.sentinels),
            sentinel_master_name=parsed.master,
            sentinel_kwargs={"socket_timeout": SENTINEL_SOCKET_TIMEOUT_S},
            log_level=logging.DEBUG,
        )
    return RedisBroker(url, log_level=logging.DEBUG)
