"""``newsflow status``: what an operator reads before scaling.

Per stream: length; per group: lag (entries not yet delivered), pending (delivered,
not acknowledged), consumers with their pending count and idle time; and the
number of dead letters. The figures come from :mod:`newsflow.runtime.streamstatus`,
which the gateway's operator console reads too; this module only prints them.
Retention: what the workers' last trim pass of each stream did
(:mod:`newsflow.runtime.retention`): when, how many entries it removed, the floor
below which it trimmed, and which group held it back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, TextIO, TypeVar

import httpx
import redis as redis_sync
from redis.asyncio import Redis

from newsflow import streams
from newsflow.runtime import lag, retention
from newsflow.runtime.streamstatus import ConsumerStatus, GroupStatus, StreamStatus, collect

T = TypeVar("T")

__all__ = [
    "ConsumerStatus",
    "GroupStatus",
    "StreamStatus",
    "collect",
    "group_lag",
    "index_status",
    "print_index_status",
    "print_retention",
    "print_status",
    "run_sync",
]


def run_sync(client: redis_sync.Redis, work: Callable[[Redis], Awaitable[T]]) -> T:
    """Run ``work`` on an asyncio client to the server of the sync ``client``.

    For callers that hold a sync client (``push``, the e2e checker), so that the
    async scans stay written once.
    """
    kwargs = client.connection_pool.connection_kwargs

    async def main() -> T:
        if "path" in kwargs:  # unix:// socket
            redis = Redis(unix_socket_path=kwargs["path"], db=kwargs.get("db", 0))
        else:
            redis = Redis(
                host=kwargs.get("host", "localhost"),
                port=kwargs.get("port", 6379),
                db=kwargs.get("db", 0),
                username=kwargs.get("username"),
                password=kwargs.get("password"),
                ssl=client.connection_pool.connection_class.__name__ == "SSLConnection",
            )
        try:
            return await work(redis)
        finally:
            await redis.aclose()

    return asyncio.run(main())


def group_lag(client: redis_sync.Redis, stream: str, group: str) -> int:
    """:func:`newsflow.runtime.lag.group_lag` for a sync client (``push``, until it is async)."""
    return run_sync(client, lambda redis: lag.group_lag(redis, stream, group))


def index_status(gateway_url: str, timeout: float = 3.0) -> dict[str, Any] | str:
    """The gateway's search index as its ``/readyz`` reports it, or why it could not be
    read. ``/readyz`` answers 503 with the same body while the index is not ready."""
    try:
        response = httpx.get(f"{gateway_url.rstrip('/')}/readyz", timeout=timeout)
        index = response.json().get("index")
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        return f"gateway at {gateway_url} not reachable ({type(exc).__name__})"
    return index if isinstance(index, dict) else "the gateway reports no search index"


def print_index_status(index: dict[str, Any] | str, out: TextIO) -> None:
    if isinstance(index, str):
        out.write(f"search index: {index}\n")
        return
    line = f"search index: {index.get('state')}, {index.get('stories', 0)} stories"
    progress = index.get("progress")
    if isinstance(progress, dict):
        line += f" (rebuilding: {progress.get('done')} of about {progress.get('total')})"
    if index.get("error"):
        line += f"; last error: {index['error']}"
    out.write(line + "\n")


def print_status(report: list[StreamStatus], out: TextIO) -> None:
    dead = next((s.length for s in report if s.stream == streams.DEAD), 0)
    rejected = next((s.length for s in report if s.stream == streams.REJECTED), 0)
    out.write(f"{'stream':<16} {'length':>8}  {'group':<12} {'lag':>8} {'pending':>8}  consumers\n")
    for status in report:
        if not status.groups:
            out.write(f"{status.stream:<16} {status.length:>8}  {'-':<12} {'':>8} {'':>8}\n")
        for group in status.groups:
            consumers = (
                ", ".join(
                    f"{c.name} (pending {c.pending}, idle {c.idle_ms / 1000:.1f}s)"
                    for c in group.consumers
                )
                or "none"
            )
            out.write(
                f"{status.stream:<16} {status.length:>8}  {group.name:<12} "
                f"{group.lag:>8} {group.pending:>8}  {consumers}\n"
            )
    out.write(f"dead letters: {dead}   rejected items: {rejected}\n")
    print_retention(report, out)


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}min"
    return f"{seconds / 3600:.1f}h" if seconds < 172_800 else f"{seconds / 86_400:.1f}d"


def print_retention(report: list[StreamStatus], out: TextIO, *, now: float | None = None) -> None:
    """One line per stream: its last trim pass, or why it has none."""
    now = time.time() if now is None else now
    out.write("retention (trimmed by the workers, XTRIM MINID):\n")
    for status in report:
        state = status.retention
        if status.stream in streams.NEVER_TRIMMED:
            line = "never trimmed automatically"
        elif state is None:
            line = "no trim pass yet"
        else:
            floor_s = retention.StreamId.parse(state.floor).ms / 1000
            floor = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(floor_s))
            line = (
                f"last trim {_ago(now - state.at_ms / 1000)} ago: {state.trimmed} removed "
                f"({state.total} in all); floor {floor}; window {_ago(state.window_s)}"
            )
            if state.held_by:
                line += f"; held back by group {state.held_by}"
        out.write(f"  {status.stream:<16} {line}\n")
