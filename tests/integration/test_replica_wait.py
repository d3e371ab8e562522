"""Acceptance waits for a replica (WAIT) on a real primary and replica.

An item is answered as accepted only once the replica has it; when the replica does
not confirm in time, push counts the items as not confirmed and the gateway
answers 503 with Retry-After.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from newsflow import streams
from newsflow.domain.formats.common import ParsedItem, ParseResult
from newsflow.events import utcnow
from newsflow.runtime.enqueue import ReplicaWait, check, enqueue
from newsflow.runtime.keys import API_KEYS, new_key
from newsflow.runtime.redis_factory import create_redis
from newsflow_gateway.app import create_app
from newsflow_gateway.settings import GatewaySettings
from newsflow_tools import cli
from newsflow_tools.push import print_report
from tests.redis_ha import Deployment, deployment
from tests.unit.gateway.fakes import Fakes

pytestmark = pytest.mark.integration


def items(n: int, prefix: str = "Mission report") -> ParseResult:
    return ParseResult(
        items=[
            ParsedItem(
                i + 1, {"title": f"{prefix} {i}", "published_at": "2021-02-01", "source": "Test"}
            )
            for i in range(n)
        ]
    )


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Deployment]:
    with deployment(tmp_path, replicas=1) as started:
        yield started


async def test_accepted_items_are_already_on_the_replica(pair: Deployment) -> None:
    redis = create_redis(pair.primary.url)
    replica = pair.replicas[0].client()
    try:
        for atomic in (False, True):
            report = await enqueue(
                redis,
                check(items(1_200), now=utcnow()),
                service="test",
                atomic=atomic,
                wait=ReplicaWait(1, 5_000),
            )
            assert report.replicas_acked == 1
            assert not report.unconfirmed
            # WAIT confirmed it, so the replica holds every accepted entry right now.
            last = report.accepted[-1].entry_id
            assert replica.xrange(streams.INGEST, min=last, max=last)
        assert replica.xlen(streams.INGEST) == 2_400
    finally:
        replica.close()
        await redis.aclose()


async def test_without_a_replica_push_counts_the_items_not_accepted(pair: Deployment) -> None:
    pair.replicas[0].kill()
    redis = create_redis(pair.primary.url)
    try:
        report = await enqueue(
            redis, check(items(1_200), now=utcnow()), service="test", wait=ReplicaWait(1, 100)
        )
        assert report.accepted == []
        assert len(report.unconfirmed) == 500  # the first batch; the rest was not sent
        assert report.replicas_acked == 0
        assert await redis.xlen(streams.INGEST) == 500
        out = io.StringIO()
        print_report(report, out)
        assert "pushed 0 items" in out.getvalue()
        assert "not confirmed: 1200 items, from line 1 on: 500 were written" in out.getvalue()
        assert "may still be stored" in out.getvalue()
        assert "again is safe" in out.getvalue()
        # Not asking for a replica (one host) accepts as before.
        plain = await enqueue(redis, check(items(10), now=utcnow()), service="test", wait=None)
        assert len(plain.accepted) == 10
        assert plain.replicas_acked is None
    finally:
        await redis.aclose()


async def test_the_gateway_answers_503_when_no_replica_confirms(
    pair: Deployment, tmp_path: Path
) -> None:
    fakes = Fakes()
    fakes.redis = create_redis(pair.primary.url)  # type: ignore[assignment]
    key, doc = new_key("Test Wire", ["publish"])
    await fakes.mongo.db[API_KEYS].insert_one(doc)
    settings = GatewaySettings(
        index_dir=tmp_path / "index", redis_wait_replicas=1, redis_wait_timeout_ms=300
    )
    app = create_app(settings, clients=fakes.clients)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    body: dict[str, Any] = {"title": "Mission report", "published_at": "2021-02-01"}
    headers = {"Authorization": f"Bearer {key}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://gw") as client,
    ):
        accepted = await client.post("/v1/items", json=body, headers=headers)
        assert accepted.status_code == 202, accepted.text
        pair.replicas[0].kill()
        refused = await client.post("/v1/items", json=body, headers=headers)
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["retry-after"] == "5"
        detail = refused.json()["detail"]
        assert "written on the Redis primary but not confirmed by 1 Redis replica(s)" in detail
        assert "within 300 ms" in detail
        assert "may still be stored. Sending them again is safe" in detail


def test_newsflow_push_fails_when_no_replica_confirms(
    pair: Deployment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("NEWSFLOW_REDIS_WAIT_REPLICAS", "1")
    monkeypatch.setenv("NEWSFLOW_REDIS_WAIT_TIMEOUT_MS", "200")
    path = tmp_path / "items.jsonl"
    path.write_bytes(
        b"\n".join(
            orjson.dumps({"title": f"Pushed story {n}", "published_at": "2021-02-01"})
            for n in range(20)
        )
    )
    argv = ["push", str(path), "--redis-url", pair.primary.url, "--max-lag", "0"]
    assert cli.main(argv) == 0
    assert "pushed 20 items" in capsys.readouterr().out
    pair.replicas[0].kill()
    assert cli.main(argv) == 1
    out = capsys.readouterr().out
    assert "pushed 0 items" in out
    assert "not confirmed: 20 items, from line 1 on: 20 were written" in out
