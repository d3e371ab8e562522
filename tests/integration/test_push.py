"""`newsflow push` against a real redis-server: plain entries, and slowing down on lag."""

from __future__ import annotations

import orjson
import pytest
import redis as redis_sync

from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow_tools.push import push
from tests.conftest import SAMPLE

pytestmark = pytest.mark.integration


def test_push_writes_plain_entries(redis_url: str) -> None:
    client = redis_sync.Redis.from_url(redis_url)
    report = push(parse_newsroom(SAMPLE.read_text(encoding="utf-8")), client)
    assert report.pushed == 7
    assert len(set(report.item_ids)) == 6
    entries = client.xrange("news:ingest")
    assert [list(fields) for _, fields in entries] == [[b"item"]] * 7
    assert orjson.loads(entries[0][1][b"item"])["offices"] == [
        "Office of the Co-ordinator of OSCE Economic and Environmental Activities",
        "OSCE Secretariat",
    ]
    client.close()


def test_push_waits_while_the_pipeline_lags(redis_url: str) -> None:
    client = redis_sync.Redis.from_url(redis_url)
    client.xgroup_create("news:ingest", "ingest", id="0", mkstream=True)
    for n in range(3):
        client.xadd("news:ingest", {"item": orjson.dumps({"title": f"waiting {n}"})})
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        client.xreadgroup("ingest", "drainer", {"news:ingest": ">"}, count=1)  # ingest catches up

    report = push(
        parse_newsroom(SAMPLE.read_text(encoding="utf-8")), client, max_lag=1, sleep=sleep
    )
    assert report.pushed == 7
    assert len(waits) == 2  # lag 3 -> 2 -> 1: two pauses before the batch went out
    client.close()
