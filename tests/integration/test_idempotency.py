"""Idempotency keys on a real redis-server: claims are atomic, so ingest is the final judge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from newsflow.domain.normalise import normalise
from newsflow.runtime.idempotency import Verdict, claim, claim_value, item_key, recall, verdict
from newsflow.runtime.redis_factory import create_redis

pytestmark = pytest.mark.integration

NOW = datetime(2026, 11, 26, tzinfo=UTC)


async def test_two_stories_claiming_one_key_at_once_one_wins(redis_url: str) -> None:
    a = normalise({"title": "Story A", "idempotency_key": "k", "source": "wire"}, now=NOW)
    b = normalise({"title": "Story B", "idempotency_key": "k", "source": "wire"}, now=NOW)
    key = item_key(a)
    assert key
    assert key == item_key(b)
    redis, other = create_redis(redis_url), create_redis(redis_url)
    held_a, held_b = await asyncio.gather(
        claim(redis, {key: claim_value(a, "1-0")}, 60),
        claim(other, {key: claim_value(b, "2-0")}, 60),
    )
    verdicts = {verdict(a, held_a[key], "1-0"), verdict(b, held_b[key], "2-0")}
    assert verdicts == {Verdict.NEW, Verdict.CONFLICT}
    assert 0 < await redis.ttl(key) <= 60
    remembered = (await recall(redis, [key, "newsflow:idem:ingest:none"]))[key]
    assert remembered.story_id in {a.id, b.id}
    await redis.aclose()
    await other.aclose()
