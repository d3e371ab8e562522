"""Test helpers: polling with a deadline instead of fixed sleeps."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def eventually(check: Callable[[], T], timeout: float = 20.0, interval: float = 0.1) -> T:
    """Call ``check`` until it returns a truthy value or stops raising; return that value."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s") from last
        time.sleep(interval)


async def eventually_async(
    check: Callable[[], Awaitable[T]], within: float = 20.0, interval: float = 0.1
) -> T:
    deadline = time.monotonic() + within
    last: BaseException | None = None
    while True:
        try:
            value = await check()
            if value:
                return value
        except Exception as exc:
            last = exc
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within}s") from last
        await asyncio.sleep(interval)
