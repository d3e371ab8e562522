"""Bounded streams: trim each stream below what every consumer still needs.

Redis keeps a stream's entries until someone deletes them, so without this the
pipeline's streams grow for ever. A trim pass (see ``docs/adr/0006-stream-retention.md``)
computes, per stream, a *floor* and runs ``XTRIM MINID <floor>``; every entry with
a smaller id goes. The floor is the smallest of:

- the **window**: ``now - retention_window_s`` as a stream id, so nothing younger
  than the window is ever trimmed, whoever has read it;
- for each consumer group, the oldest entry it still needs: its oldest pending
  entry (delivered, not acknowledged), or else the entry just after its
  last-delivered id (the first one it has not read). A stopped group therefore
  holds the floor where it stopped, however long the window.

A stream read without a group (``news:stored``, followed by the gateway's index
with plain XREAD) is bounded by the window alone: an index that falls behind the
trimmed part rebuilds from MongoDB. ``news:dead`` is never trimmed here: dead
letters wait for an operator.

Which process trims which streams is :data:`newsflow.streams.TRIMMED_BY`; the
passes of its replicas are serialised by a lock key (``SET NX PX``), so one pass
per interval runs, whatever the number of replicas. Each pass leaves what it did
in a small hash per stream that ``newsflow status`` shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from newsflow import streams
from newsflow.runtime.codec import text
from newsflow.runtime.metrics import WorkerMetrics
from newsflow.runtime.worker import Worker

log = logging.getLogger("newsflow.runtime.retention")

#: Where a trim pass records what it did for one stream (a hash).
STATE_PREFIX: Final = "newsflow:retention:"
#: The lock that lets one replica trim a stream per interval.
LOCK_PREFIX: Final = "newsflow:lock:retention:"
#: Entries removed per XTRIM call, so one call never blocks Redis for long.
TRIM_LIMIT: Final = 10_000
#: XTRIM calls per stream and pass; the rest waits for the next pass.
MAX_CALLS: Final = 100
#: How long leaving :meth:`Trimmer.running` waits for a pass in progress to end.
STOP_TIMEOUT_S: Final = 5.0


@dataclass(frozen=True, order=True)
class StreamId:
    """A stream entry id (``<ms>-<seq>``), ordered as Redis orders them."""

    ms: int
    seq: int

    @classmethod
    def parse(cls, value: str | bytes) -> StreamId:
        ms, _, seq = text(value).partition("-")
        return cls(int(ms), int(seq or 0))

    def successor(self) -> StreamId:
        return StreamId(self.ms, self.seq + 1)

    def __str__(self) -> str:
        return f"{self.ms}-{self.seq}"


@dataclass(frozen=True)
class GroupPosition:
    """How far one consumer group has got on a stream."""

    name: str
    last_delivered: StreamId
    #: The smallest id the group has delivered and not acknowledged; None if none.
    oldest_pending: StreamId | None

    @property
    def needs_from(self) -> StreamId:
        """The oldest entry this group may still read: nothing below it is its concern."""
        unread = self.last_delivered.successor()
        if self.oldest_pending is None:
            return unread
        return min(self.oldest_pending, unread)


def window_floor(now_ms: int, window_s: float) -> StreamId:
    """The first id young enough to be inside the retention window."""
    return StreamId(max(0, now_ms - int(window_s * 1000)), 0)


def floor(groups: Iterable[GroupPosition], now_ms: int, window_s: float) -> StreamId:
    """The MINID to trim a stream to: below the window and below every group's need."""
    return min([window_floor(now_ms, window_s), *(g.needs_from for g in groups)])


async def positions(redis: Redis, stream: str) -> list[GroupPosition]:
    """Every group of ``stream`` with its last-delivered id and oldest pending entry.

    The pipeline's own group of the stream (:data:`newsflow.streams.GROUPS`) is
    there even before its service created it, at the start of the stream: entries
    pushed before a service first runs wait for it (its group is made at id 0).
    Raises redis' ResponseError when the stream does not exist.
    """
    out: list[GroupPosition] = []
    expected = streams.GROUPS.get(stream)
    for info in await redis.xinfo_groups(stream):
        name = text(info["name"])
        oldest: StreamId | None = None
        if int(info["pending"]):
            summary: Any = await redis.xpending(stream, name)
            if summary and summary.get("min"):
                oldest = StreamId.parse(summary["min"])
        out.append(GroupPosition(name, StreamId.parse(info["last-delivered-id"]), oldest))
    if expected is not None and expected not in {g.name for g in out}:
        out.append(GroupPosition(expected, StreamId(0, 0), None))
    return out


@dataclass(frozen=True)
class TrimResult:
    stream: str
    floor: StreamId
    trimmed: int
    #: The group that holds the floor below the window, if one does.
    held_by: str | None = None
    window_s: float = 0.0


async def trim(
    redis: Redis, stream: str, *, window_s: float, now_ms: int | None = None
) -> TrimResult | None:
    """Trim ``stream`` to its floor; None when the stream does not exist.

    ``news:dead`` is refused: dead letters are only ever removed by an operator.
    The group positions are read before the trim; a group can only move forward
    meanwhile, so the floor stays safe.
    """
    if stream in streams.NEVER_TRIMMED:
        raise ValueError(f"{stream} is never trimmed automatically")
    try:
        groups = await positions(redis, stream)
    except ResponseError:  # no such stream yet
        return None
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    minid = floor(groups, now_ms, window_s)
    holder = min(groups, key=lambda g: g.needs_from, default=None)
    held_by = holder.name if holder and holder.needs_from < window_floor(now_ms, window_s) else None
    trimmed = 0
    for _ in range(MAX_CALLS):
        removed = int(
            await redis.xtrim(stream, minid=str(minid), approximate=True, limit=TRIM_LIMIT)
        )
        trimmed += removed
        if removed < TRIM_LIMIT:
            break
    return TrimResult(stream, minid, trimmed, held_by, window_s)


async def record(redis: Redis, result: TrimResult, *, now_ms: int) -> None:
    """Leave what a pass did where ``newsflow status`` reads it."""
    key = f"{STATE_PREFIX}{result.stream}"
    pipe = redis.pipeline(transaction=True)
    pipe.hset(
        key,
        mapping={
            "at_ms": now_ms,
            "floor": str(result.floor),
            "trimmed": result.trimmed,
            "held_by": result.held_by or "",
            "window_s": result.window_s,
        },
    )
    pipe.hincrby(key, "total", result.trimmed)
    await pipe.execute()


@dataclass(frozen=True)
class StreamRetention:
    """What the last trim pass of one stream recorded (see :func:`record`)."""

    stream: str
    at_ms: int
    floor: str
    trimmed: int
    total: int
    held_by: str
    window_s: float


async def last_passes(redis: Redis, names: Sequence[str]) -> dict[str, StreamRetention]:
    """The last recorded pass of each of ``names`` that has one."""
    pipe = redis.pipeline(transaction=False)
    for stream in names:
        pipe.hgetall(f"{STATE_PREFIX}{stream}")
    rows: list[Mapping[Any, Any]] = await pipe.execute()
    out: dict[str, StreamRetention] = {}
    for stream, row in zip(names, rows, strict=True):
        if not row:
            continue
        values = {text(k): text(v) for k, v in row.items()}
        out[stream] = StreamRetention(
            stream,
            int(values.get("at_ms", 0)),
            values.get("floor", ""),
            int(values.get("trimmed", 0)),
            int(values.get("total", 0)),
            values.get("held_by", ""),
            float(values.get("window_s", 0)),
        )
    return out


async def run_pass(
    redis: Redis, names: Sequence[str], *, window_s: float, interval_s: float, owner: str
) -> list[TrimResult]:
    """Trim each of ``names`` whose lock this process wins; the rest are another's turn."""
    done: list[TrimResult] = []
    for stream in names:
        won = await redis.set(
            f"{LOCK_PREFIX}{stream}", owner, nx=True, px=max(1, int(interval_s * 1000 * 0.9))
        )
        if not won:
            continue
        now_ms = int(time.time() * 1000)
        result = await trim(redis, stream, window_s=window_s, now_ms=now_ms)
        if result is None:
            continue
        await record(redis, result, now_ms=now_ms)
        done.append(result)
    return done


class Trimmer:
    """The background loop of one worker process: a pass every ``interval_s``."""

    def __init__(
        self,
        redis: Redis,
        names: Sequence[str],
        *,
        window_s: float,
        interval_s: float,
        owner: str,
        on_pass: Callable[[list[TrimResult]], None] | None = None,
    ) -> None:
        self.redis = redis
        self.names = tuple(names)
        self.window_s = window_s
        self.interval_s = interval_s
        self.owner = owner
        #: Called with each pass's results (the worker's metrics hang here).
        self.on_pass = on_pass

    async def loop(self, stop: asyncio.Event | None = None) -> None:
        """A pass every ``interval_s`` until ``stop`` is set (or the task is cancelled).

        The first pass waits until Redis has answered (:meth:`connected`); from then
        on every failed pass is logged.
        """
        stop = stop or asyncio.Event()
        if not await self.connected(stop):
            return
        while not stop.is_set():
            try:
                results = await run_pass(
                    self.redis,
                    self.names,
                    window_s=self.window_s,
                    interval_s=self.interval_s,
                    owner=self.owner,
                )
            except (RedisError, OSError) as exc:  # Redis away: the next pass tries again
                log.warning("retention: trim pass failed: %s", exc)
            except Exception:  # a bug must not stop the worker; it is logged every pass
                log.exception("retention: trim pass failed")
            else:
                for result in results:
                    if result.trimmed:
                        log.info(
                            "retention: trimmed %d entries of %s below %s",
                            result.trimmed,
                            result.stream,
                            result.floor,
                        )
                if self.on_pass is not None:
                    self.on_pass(results)
            # Waiting on ``stop``, not only sleeping: a cancellation swallowed inside
            # redis-py (seen with a Redis that refuses the database) must not keep
            # the process alive, a pass a minute, after SIGTERM.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval_s)

    async def connected(self, stop: asyncio.Event) -> bool:
        """Wait, quietly, until Redis answers a PING; False if ``stop`` is set first.

        The trimmer starts with the worker, before the worker has reached Redis.
        While Redis is unreachable, or answers with an error waiting cannot cure (a
        wrong password, a database it does not have), the worker's own start-up
        wait says so ("waiting for Redis", or the fatal "cannot use Redis"); a pass
        tried meanwhile only added a "trim pass failed" line in front of it, which
        sent operators after the trimmer. Each PING races ``stop``, so a stop
        request ends the wait at once, whatever redis-py is retrying.
        """
        delay = 0.2
        while not stop.is_set():
            ping = asyncio.ensure_future(self.redis.ping())
            stopped = asyncio.ensure_future(stop.wait())
            try:
                await asyncio.wait({ping, stopped}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopped.cancel()
                ping.cancel()
            if not ping.done() or ping.cancelled():
                return False  # stopping
            problem = ping.exception()
            if problem is None:
                return True
            if isinstance(problem, RedisError | OSError):
                log.debug("retention: no pass until Redis answers: %s", problem)
            else:  # not Redis being away: a bug, which must show (and not end the loop)
                log.error(
                    "retention: checking Redis before the first pass failed",
                    exc_info=(type(problem), problem, problem.__traceback__),
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)
            delay = min(delay * 2, 5.0)
        return False

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run :meth:`loop` in the background for the duration of the block."""
        stop = asyncio.Event()
        task = asyncio.create_task(self.loop(stop))
        try:
            yield
        finally:
            stop.set()
            task.cancel()
            # Bounded: a pass stuck on a Redis that does not answer must not hold
            # the process's exit.
            await asyncio.wait({task}, timeout=STOP_TIMEOUT_S)


def observe(metrics: WorkerMetrics, results: Sequence[TrimResult]) -> None:
    """Show a pass in the worker's metrics."""
    now = time.time()
    for result in results:
        metrics.trimmed.labels(result.stream).inc(result.trimmed)
        metrics.retention_floor.labels(result.stream).set(result.floor.ms / 1000)
        metrics.last_trim.labels(result.stream).set(now)


def trimmer_for(worker: Worker) -> Trimmer:
    """The trimmer of a worker service: the streams :data:`streams.TRIMMED_BY` gives it."""
    settings = worker.settings
    return Trimmer(
        worker.redis,
        streams.TRIMMED_BY.get(worker.service, ()),
        window_s=settings.retention_window_s,
        interval_s=settings.retention_interval_s,
        owner=settings.consumer_name,
        on_pass=lambda results: observe(worker.metrics, results),
    )
