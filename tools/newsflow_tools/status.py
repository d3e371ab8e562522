"""``newsflow status``: what an operator reads before scaling.

Per stream: length; per group: lag (entries not yet delivered), pending (delivered,
not acknowledged), consumers with their pending count and idle time; and the
number of dead letters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TextIO

import redis as redis_sync

from newsflow import streams

#: Past this many undelivered entries, the lag is reported as "more than".
LAG_SCAN_CAP = 100_000


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


@dataclass
class ConsumerStatus:
    name: str
    pending: int
    idle_ms: int


@dataclass
class GroupStatus:
    name: str
    lag: int
    pending: int
    consumers: list[ConsumerStatus] = field(default_factory=list)


@dataclass
class StreamStatus:
    stream: str
    length: int
    groups: list[GroupStatus] = field(default_factory=list)


def _lag(client: redis_sync.Redis, stream: str, group: dict[Any, Any]) -> int:
    if group.get("lag") is not None:  # Redis 7+
        return int(group["lag"])
    last = _s(group["last-delivered-id"])  # Redis 6.2: count what lies after it
    entries = client.xrange(stream, min=f"({last}", max="+", count=LAG_SCAN_CAP)
    return len(entries or [])


def group_lag(client: redis_sync.Redis, stream: str, group_name: str) -> int:
    """Lag of one group, 0 when the stream or group does not exist yet."""
    try:
        groups = client.xinfo_groups(stream)
    except redis_sync.ResponseError:
        return 0
    for group in groups:
        if _s(group["name"]) == group_name:
            return _lag(client, stream, group)
    return 0


def collect(client: redis_sync.Redis) -> list[StreamStatus]:
    out: list[StreamStatus] = []
    for stream in streams.ALL_STREAMS:
        length = int(client.xlen(stream))
        status = StreamStatus(stream, length)
        try:
            groups = client.xinfo_groups(stream)
        except redis_sync.ResponseError:
            groups = []
        for group in groups:
            name = _s(group["name"])
            consumers = [
                ConsumerStatus(_s(c["name"]), int(c["pending"]), int(c["idle"]))
                for c in client.xinfo_consumers(stream, name)
            ]
            status.groups.append(
                GroupStatus(name, _lag(client, stream, group), int(group["pending"]), consumers)
            )
        out.append(status)
    return out


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
