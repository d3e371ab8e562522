"""The pipeline end to end, as a newcomer and a publisher use it, on real processes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import orjson
import pytest

from tests.conftest import SAMPLE
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

ASSET_TITLE = (
    "OSCE holds online training on international co-operation and mutual legal assistance "
    "in asset recovery for criminal justice practitioners in Albania"
)


def push_sample(stack: Stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow_tools.cli",
            "push",
            str(SAMPLE),
            "--redis-url",
            stack.redis_url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def total(stack: Stack, **params: object) -> int:
    response = stack.get("/v1/items", **params)
    assert response.status_code == 200, response.text
    return int(response.json()["total"])


def test_sample_newsroom_plain_xadd_and_rejections(stack: Stack) -> None:
    stack.start_all()
    result = push_sample(stack)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("pushed 7 items (6 distinct stories), rejected 0")

    eventually(lambda: total(stack) == 6, timeout=30)
    page = stack.get("/v1/items", limit=100).json()
    titles = [i["title"] for i in page["items"]]
    assert titles.count(ASSET_TITLE) == 1
    asset = next(i for i in page["items"] if i["title"] == ASSET_TITLE)
    detail = stack.get(f"/v1/items/{asset['id']}").json()
    assert {"oceea", "tntd", "secretariat"} <= {o["id"] for o in detail["offices"]}
    assert len(detail["copies"]) == 2
    # newest first
    dates = [i["published_at"] for i in page["items"]]
    assert dates == sorted(dates, reverse=True)

    # A publisher in any language: one plain XADD, queryable within 5 seconds.
    redis = stack.redis()
    item = {
        "title": "Plain XADD reaches the gateway",
        "published_at": "2021-01-08",
        "offices": ["OSCE Mission to Serbia"],
        "content_type": "News",
    }
    redis.xadd("news:ingest", {"item": orjson.dumps(item)})
    started = time.monotonic()
    eventually(lambda: total(stack, q="plain xadd gateway") == 1, timeout=5, interval=0.05)
    assert time.monotonic() - started < 5

    # Bad input lands on the rejected stream with its reason; nothing else stops.
    redis.xadd("news:ingest", {"item": '{"title": "Bad", "published_at": "sometime"}'})
    redis.xadd("news:ingest", {"item": orjson.dumps({"title": "After the bad one"})})
    eventually(lambda: redis.xlen("news:rejected") == 1)
    ((_, fields),) = redis.xrange("news:rejected")
    event = orjson.loads(fields[b"event"])
    assert event["errors"][0]["field"] == "published_at"
    assert "sometime" in event["payload"]
    eventually(lambda: total(stack, q="after bad one") == 1, timeout=10)
    assert total(stack) == 8
    redis.close()


@pytest.mark.parametrize("fault", ["before_ack", "before_handle"])
def test_storage_killed_mid_message_loses_and_duplicates_nothing(stack: Stack, fault: str) -> None:
    for service in ("ingest", "enrichment", "gateway"):
        stack.start(f"{service}-1", service)
    doomed = stack.start("storage-doomed", "storage", NEWSFLOW_FAULT=f"{fault}:1")
    assert push_sample(stack).returncode == 0
    assert doomed.wait(timeout=30) == -signal.SIGKILL
    redis = stack.redis()
    assert redis.xpending("news:enriched", "storage")["pending"] > 0
    stack.procs.pop("storage-doomed")

    stack.start("storage-2", "storage")
    eventually(lambda: total(stack) == 6, timeout=30)
    eventually(lambda: redis.xpending("news:enriched", "storage")["pending"] == 0, timeout=15)
    docs = list(stack.items().find({}, {"title": 1, "copies": 1}))
    assert len(docs) == 6
    asset = next(d for d in docs if d["title"] == ASSET_TITLE)
    assert len(asset["copies"]) == 2
    stored = [orjson.loads(f[b"event"]) for _, f in redis.xrange("news:stored")]
    assert {(e["item_id"], e["copy_key"]) for e in stored} == {
        (d["_id"], k) for d in docs for k in d["copies"]
    }
    redis.close()
