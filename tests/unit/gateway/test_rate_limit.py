"""The publish rate limit: no 60-second window lets more than the limit through."""

from __future__ import annotations

import random
from bisect import bisect_left
from types import SimpleNamespace

import fakeredis
import pytest

from newsflow_gateway.auth import rate_limit
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.settings import GatewaySettings
from tests.unit.gateway.conftest import Start, assert_problem


def state(limit: int) -> SimpleNamespace:
    return SimpleNamespace(
        redis=fakeredis.FakeAsyncRedis(),
        settings=GatewaySettings(rate_limit_per_minute=limit),
    )


async def admitted(st: SimpleNamespace, times: list[float]) -> list[float]:
    passed, refusals = [], []
    for now in times:
        try:
            await rate_limit(st, "k1", now=now)  # type: ignore[arg-type]
        except ProblemError as refused:
            refusals.append(refused)
        else:
            passed.append(now)
    for refused in refusals:
        assert refused.status == 429
        assert refused.headers is not None
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    return passed


async def test_no_double_limit_across_a_minute_boundary() -> None:
    """The report: 289 requests late in one minute, 331 early in the next."""
    st = state(600)
    late = [59_950 + 49 * i / 289 for i in range(289)]  # minute 999, from :10 to :59
    early = [60_000 + 9 * i / 331 for i in range(331)]  # minute 1000, from :00 to :09
    passed = await admitted(st, late + early)  # all within 59 seconds
    assert len(passed) == 600
    assert passed[-1] == early[310]


async def test_no_window_of_60_seconds_passes_more_than_the_limit() -> None:
    rng = random.Random(7)
    times = sorted(rng.uniform(0, 300) for _ in range(400))
    passed = await admitted(state(50), times)
    for i, t in enumerate(passed):
        assert bisect_left(passed, t + 60) - i <= 50
    assert len(passed) >= 5 * 50 * 0.8  # and the limit is used, not starved


async def test_retry_after_says_when_a_place_frees_up() -> None:
    st = state(2)
    await admitted(st, [100.0, 130.0])
    with pytest.raises(ProblemError) as refused:
        await rate_limit(st, "k1", now=140.0)  # type: ignore[arg-type]
    assert refused.value.headers == {"Retry-After": "20"}
    assert await admitted(st, [160.5]) == [160.5]  # the one at 100 has left the window


async def test_publish_answers_429_with_retry_after(start: Start) -> None:
    async with start(rate_limit_per_minute=2) as gw:
        key = {"Authorization": f"Bearer {await gw.key('publish')}", "Content-Type": "text/html"}
        for _ in range(2):
            assert_problem(await gw.client.post("/v1/items", content=b"x", headers=key), 415)
        busy = await gw.client.post("/v1/items", content=b"x", headers=key)
        assert_problem(busy, 429)
        assert 1 <= int(busy.headers["retry-after"]) <= 60
