"""What an operator reads about the streams: lengths, oldest entries, groups, rates.

One implementation for ``newsflow status`` (a tool) and the gateway's operator
console (a service): both sit above this floor and call :func:`collect` and
:func:`throughput`. The lag itself comes from :mod:`newsflow.runtime.lag`.

A stream entry's id starts with the milliseconds at which Redis added it, so the
age of the oldest entry and the rate of each stage are read from the ids alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from newsflow import streams
from newsflow.runtime import lag, retention
from newsflow.runtime.codec import text

#: The streams each stage writes, in pipeline order: a stage's rate is its output's.
STAGES: Final[tuple[tuple[str, str], ...]] = (
    ("publishers", streams.INGEST),
    ("ingest", streams.INGESTED),
    ("enrichment", streams.ENRICHED),
    ("storage", streams.STORED),
    ("rejected", streams.REJECTED),
    ("dead letters", streams.DEAD),
)
#: Entries read per stream for the rates, at most: past it, older buckets are unknown.
RATE_SCAN_CAP: Final = 1000


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
    #: Milliseconds (Redis time) at which the oldest entry was added; None when empty.
    oldest_ms: int | None = None
    #: The workers' last trim pass of this stream (ADR 0006); None before the first.
    retention: retention.StreamRetention | None = None


def entry_ms(entry_id: object) -> int:
    """The milliseconds part of a stream entry id."""
    return int(text(entry_id).partition("-")[0])


async def collect(redis: Redis) -> list[StreamStatus]:
    """Length, oldest entry, groups and consumers of every stream of the pipeline."""
    out: list[StreamStatus] = []
    passes = await retention.last_passes(redis, streams.ALL_STREAMS)
    for stream in streams.ALL_STREAMS:
        oldest: Any = await redis.xrange(stream, count=1)
        status = StreamStatus(
            stream,
            int(await redis.xlen(stream)),
            oldest_ms=entry_ms(oldest[0][0]) if oldest else None,
            retention=passes.get(stream),
        )
        try:
            groups = await redis.xinfo_groups(stream)
        except ResponseError:  # no such stream yet
            groups = []
        for group in groups:
            name = text(group["name"])
            consumers = [
                ConsumerStatus(text(c["name"]), int(c["pending"]), int(c["idle"]))
                for c in await redis.xinfo_consumers(stream, name)
            ]
            status.groups.append(
                GroupStatus(
                    name, await lag.lag_of(redis, stream, group), int(group["pending"]), consumers
                )
            )
        out.append(status)
    return out


async def server_ms(redis: Redis) -> int:
    """The Redis server's clock in milliseconds: the clock entry ids are made with."""
    seconds, micros = await redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


@dataclass(frozen=True)
class Rate:
    """Entries added per second to one stage's stream, per bucket, oldest first.

    A bucket is None when it was not counted: the scan stopped at
    :data:`RATE_SCAN_CAP` entries before reaching it.
    """

    stage: str
    stream: str
    bucket_s: int
    per_second: tuple[float | None, ...]


def bucket_rates(
    stamps_ms: Sequence[int], *, now_ms: int, bucket_s: int, buckets: int, complete: bool
) -> tuple[float | None, ...]:
    """Entries per second in ``buckets`` buckets of ``bucket_s`` seconds ending at
    ``now_ms``, oldest bucket first, from the entries' stamps (newest first).

    When the stamps are not ``complete`` (the scan was cut), the bucket holding the
    oldest stamp is rated over the part of it the scan covered, and older buckets
    are None: their counts would be too low.
    """
    width = bucket_s * 1000
    start = now_ms - buckets * width
    counts = [0] * buckets
    for stamp in stamps_ms:
        if stamp >= start:  # a stamp past now (clock skew) counts in the newest bucket
            counts[min((stamp - start) // width, buckets - 1)] += 1
    rates: list[float | None] = [count / bucket_s for count in counts]
    if not complete and stamps_ms:
        cut = (stamps_ms[-1] - start) // width
        covered_ms = start + (cut + 1) * width - stamps_ms[-1]
        for index in range(min(cut, buckets)):
            rates[index] = None
        if 0 <= cut < buckets:
            rates[cut] = counts[cut] * 1000 / covered_ms if covered_ms >= 1000 else None
    return tuple(rates)


async def throughput(
    redis: Redis, *, now_ms: int, bucket_s: int = 30, buckets: int = 10
) -> list[Rate]:
    """Entries per second of every stage over the last ``buckets * bucket_s`` seconds,
    read from the newest entry ids backwards, at most :data:`RATE_SCAN_CAP` per stream.
    """
    since = now_ms - buckets * bucket_s * 1000
    out: list[Rate] = []
    for stage, stream in STAGES:
        rows: Any = await redis.xrevrange(stream, max="+", min=str(since), count=RATE_SCAN_CAP)
        stamps = [entry_ms(entry_id) for entry_id, _ in rows or []]
        rates = bucket_rates(
            stamps,
            now_ms=now_ms,
            bucket_s=bucket_s,
            buckets=buckets,
            complete=len(stamps) < RATE_SCAN_CAP,
        )
        out.append(Rate(stage, stream, bucket_s, rates))
    return out
