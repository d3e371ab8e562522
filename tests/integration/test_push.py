"""`newsflow push` against a real redis-server: plain entries, rejections, slowing down on lag."""

from __future__ import annotations

import orjson
import pytest
import redis as redis_sync

from newsflow.domain.formats import ParseResult
from newsflow.domain.formats.common import ParsedItem
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.normalise import normalise
from newsflow.events import utcnow
from newsflow.runtime.idempotency import claim_value, item_key
from newsflow.runtime.redis_factory import create_redis
from newsflow_tools.push import push, push_async
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration


def test_push_writes_plain_entries(redis_url: str) -> None:
    report = push(parse_newsroom(SAMPLE.read_text(encoding="utf-8")), redis_url)
    assert len(report.accepted) == 7
    assert len({a.item_id for a in report.accepted}) == 6
    client = redis_sync.Redis.from_url(redis_url)
    entries = client.xrange("news:ingest")
    assert [list(fields) for _, fields in entries] == [[b"item"]] * 7
    assert [a.entry_id for a in report.accepted] == [i.decode() for i, _ in entries]
    assert orjson.loads(entries[0][1][b"item"])["offices"] == [
        "Office of the Co-ordinator of OSCE Economic and Environmental Activities",
        "OSCE Secretariat",
    ]
    assert client.xlen("news:rejected") == 0
    client.close()


def test_push_rejections_go_to_news_rejected(redis_url: str) -> None:
    result = parse_newsroom(SAMPLE.read_text(encoding="utf-8"))
    result.items.append(ParsedItem(99, {"title": "Bad", "author": "me"}))
    report = push(result, redis_url)
    assert len(report.accepted) == 7
    (rejected,) = report.rejected
    assert (rejected.line, rejected.reason) == (99, "author: unknown field")
    client = redis_sync.Redis.from_url(redis_url)
    ((_, fields),) = client.xrange("news:rejected")
    event = orjson.loads(fields[b"event"])
    assert event["service"] == "push"
    assert event["reason"] == "author: unknown field"
    assert event["errors"] == [{"field": "author", "message": "unknown field"}]
    assert orjson.loads(orjson.loads(event["payload"])["item"])["author"] == "me"
    client.close()


def test_push_rejects_a_key_reused_for_another_story(redis_url: str) -> None:
    story = {"title": "Keyed story", "idempotency_key": "k-1", "source": "wire"}
    item = normalise(story, now=utcnow())
    key = item_key(item)
    assert key
    client = redis_sync.Redis.from_url(redis_url)
    client.set(key, claim_value(item, "1-0"))  # what ingest remembers for the first story
    items = [ParsedItem(1, story), ParsedItem(2, {**story, "title": "Another story"})]
    report = push(ParseResult(items=items), redis_url)
    assert [a.line for a in report.accepted] == [1]  # the repeat goes on; ingest drops it
    (conflict,) = report.rejected
    assert conflict.line == 2
    assert conflict.reason.startswith("idempotency_key: already used for a different story")
    ((_, fields),) = client.xrange("news:rejected")
    assert orjson.loads(fields[b"event"])["errors"][0]["field"] == "idempotency_key"
    assert client.xlen("news:ingest") == 1
    client.close()


async def test_push_waits_while_the_pipeline_lags(redis_url: str) -> None:
    client = create_redis(redis_url)
    await client.xgroup_create("news:ingest", "ingest", id="0", mkstream=True)
    for n in range(3):
        await client.xadd("news:ingest", {"item": orjson.dumps({"title": f"waiting {n}"})})
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await client.xreadgroup("ingest", "drainer", {"news:ingest": ">"}, count=1)  # catch up

    report = await push_async(
        parse_newsroom(SAMPLE.read_text(encoding="utf-8")), redis_url, max_lag=1, sleep=sleep
    )
    assert len(report.accepted) == 7
    assert len(waits) == 2  # lag 3 -> 2 -> 1: two pauses before the batch went out
    await client.aclose()
