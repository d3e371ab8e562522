"""The retention trimmer says nothing until Redis has answered, and everything after.

A worker started with Redis unreachable (or unusable: a wrong password, a database
it does not have) logged "retention: trim pass failed" before its own start-up
line ("waiting for Redis", or the fatal "cannot use Redis"), which sent operators
after the trimmer. The first pass now waits for a PING to succeed; once Redis has
answered, a failed pass is logged as before.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from typing import Any

import fakeredis
import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import AuthenticationError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError

from newsflow import streams
from newsflow.runtime.retention import Trimmer, TrimResult

NAMES = (streams.INGEST,)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def records(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """The retention logger's records at every level (read ``.records`` when asserting)."""
    with caplog.at_level(logging.DEBUG, logger="newsflow.runtime.retention"):
        yield caplog


def failed(records: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in records.records if "trim pass failed" in r.getMessage()]


async def run_for(trimmer: Trimmer, seconds: float) -> None:
    """Run the trimmer's loop for ``seconds``, then stop it as the worker does."""
    async with trimmer.running():
        await asyncio.sleep(seconds)


def trimmer(redis: Any, passes: list[list[TrimResult]]) -> Trimmer:
    return Trimmer(
        redis, NAMES, window_s=3600, interval_s=0.05, owner="test", on_pass=passes.append
    )


async def test_no_trim_pass_and_no_failure_line_while_redis_is_unreachable(
    records: pytest.LogCaptureFixture,
) -> None:
    # No retries inside redis-py, so each refused command fails at once, as many times
    # as a worker's start-up wait would take.
    redis = Redis(host="127.0.0.1", port=free_port(), retry=Retry(NoBackoff(), 0))
    passes: list[list[TrimResult]] = []
    try:
        await run_for(trimmer(redis, passes), 0.8)
    finally:
        await redis.aclose()
    assert failed(records) == []
    assert [r for r in records.records if r.levelno >= logging.WARNING] == []
    assert passes == []


class Refusing:
    """A Redis that answers every command with an error waiting cannot cure."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    async def ping(self) -> bool:
        raise self.error

    async def set(self, *args: Any, **kwargs: Any) -> bool:
        raise self.error


@pytest.mark.parametrize(
    "error",
    [
        RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
        ResponseError("DB index is out of range"),
        AuthenticationError("invalid username-password pair or user is disabled."),
    ],
)
async def test_no_failure_line_before_the_workers_fatal_start_up_line(
    records: pytest.LogCaptureFixture, error: Exception
) -> None:
    passes: list[list[TrimResult]] = []
    await run_for(trimmer(Refusing(error), passes), 0.3)
    assert failed(records) == []
    assert passes == []


class ComesLater:
    """fakeredis that refuses the first ``refusals`` PINGs, as a Redis still starting."""

    def __init__(self, refusals: int) -> None:
        self.redis = fakeredis.FakeAsyncRedis()
        self.refusals = refusals

    async def ping(self) -> bool:
        if self.refusals:
            self.refusals -= 1
            raise RedisConnectionError("Connection refused")
        return bool(await self.redis.ping())

    def __getattr__(self, name: str) -> Any:
        return getattr(self.redis, name)


async def test_the_first_pass_runs_once_redis_answers(records: pytest.LogCaptureFixture) -> None:
    redis = ComesLater(refusals=2)
    await redis.redis.xadd(streams.INGEST, {"item": "{}"})
    passes: list[list[TrimResult]] = []
    async with trimmer(redis, passes).running():
        for _ in range(200):
            if passes:
                break
            await asyncio.sleep(0.02)
    assert redis.refusals == 0
    assert passes
    assert [r.stream for r in passes[0]] == [streams.INGEST]
    assert failed(records) == []


class FailsAfterConnecting(ComesLater):
    """Answers PING, then loses the connection when a pass takes its lock."""

    async def set(self, *args: Any, **kwargs: Any) -> bool:
        raise RedisConnectionError("Connection reset by peer")


async def test_a_failed_pass_after_connecting_is_still_logged(
    records: pytest.LogCaptureFixture,
) -> None:
    passes: list[list[TrimResult]] = []
    async with trimmer(FailsAfterConnecting(refusals=1), passes).running():
        for _ in range(200):
            if failed(records):
                break
            await asyncio.sleep(0.02)
    (first, *_) = failed(records)
    assert first.levelno == logging.WARNING
    assert "Connection reset by peer" in first.getMessage()
    assert passes == []


class Buggy(ComesLater):
    async def set(self, *args: Any, **kwargs: Any) -> bool:
        raise KeyError("a bug")


async def test_a_bug_in_a_pass_after_connecting_is_logged_with_its_traceback(
    records: pytest.LogCaptureFixture,
) -> None:
    async with trimmer(Buggy(refusals=0), []).running():
        for _ in range(200):
            if failed(records):
                break
            await asyncio.sleep(0.02)
    (first, *_) = failed(records)
    assert first.levelno == logging.ERROR
    assert first.exc_info is not None


class BuggyPing(ComesLater):
    async def ping(self) -> bool:
        raise KeyError("a bug")


async def test_a_bug_before_connecting_is_not_hidden(records: pytest.LogCaptureFixture) -> None:
    """Only Redis being away is waited for quietly; anything else is logged, and waited out."""
    passes: list[list[TrimResult]] = []
    async with trimmer(BuggyPing(refusals=0), passes).running():
        for _ in range(200):
            if any(r.levelno == logging.ERROR for r in records.records):
                break
            await asyncio.sleep(0.02)
    (error, *_) = [r for r in records.records if r.levelno == logging.ERROR]
    assert "before the first pass" in error.getMessage()
    assert error.exc_info is not None
    assert passes == []
