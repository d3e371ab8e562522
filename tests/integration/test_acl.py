"""Redis ACLs from ``newsflow acl`` on a real redis-server: a publisher can XADD to
news:ingest and nothing else, and the pipeline runs end to end with one user per
service."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis as redis_sync
from pymongo import AsyncMongoClient

from newsflow import streams
from newsflow.runtime.keys import API_KEYS, new_key
from newsflow.runtime.redis_factory import create_redis
from newsflow.runtime.retention import trimmer_for
from newsflow.runtime.worker import serve
from newsflow_enrichment.app import create_worker as create_enrichment
from newsflow_enrichment.settings import EnrichmentSettings
from newsflow_gateway.app import create_app
from newsflow_gateway.settings import GatewaySettings
from newsflow_ingest.app import create_worker as create_ingest
from newsflow_ingest.settings import IngestSettings
from newsflow_storage.app import create_worker as create_storage
from newsflow_storage.settings import StorageSettings
from newsflow_tools.acl import render
from newsflow_tools.cli import main as cli_main
from tests.helpers import eventually_async
from tests.redis_ha import Node, start_node
from tests.unit.gateway.fakes import Fakes

pytestmark = pytest.mark.integration

#: A user of the test's own, to read the ACL LOG; not one ``newsflow acl`` prints.
AUDITOR = "user auditor on >auditor ~* &* +@all\n"


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[tuple[Node, dict[str, str]]]:
    acl, err = io.StringIO(), io.StringIO()
    passwords = render("file", {}, acl, err)
    path = tmp_path / "users.acl"
    path.write_text(acl.getvalue() + AUDITOR)
    node = start_node(
        tmp_path / "redis",
        extra=["--aclfile", str(path)],
        ready_options={"username": "auditor", "password": "auditor"},
    )
    try:
        yield node, passwords
    finally:
        node.stop()


def url(node: Node, user: str, passwords: dict[str, str]) -> str:
    return f"redis://{user}:{passwords[user]}@127.0.0.1:{node.port}/0"


def test_a_publisher_may_xadd_to_news_ingest_and_nothing_else(
    secured: tuple[Node, dict[str, str]],
) -> None:
    node, passwords = secured
    publisher = redis_sync.Redis.from_url(url(node, "publisher", passwords))
    anonymous = node.client()
    try:
        assert publisher.xadd(streams.INGEST, {"item": "{}"})
        refused = [
            lambda: publisher.xadd(streams.STORED, {"event": "{}"}),
            lambda: publisher.xadd(streams.INGESTED, {"event": "{}"}),
            lambda: publisher.xread({streams.STORED: "0"}),
            lambda: publisher.xrange(streams.INGEST),
            lambda: publisher.xreadgroup("ingest", "me", {streams.INGEST: ">"}),
            lambda: publisher.xtrim(streams.INGEST, maxlen=0),
            lambda: publisher.delete(streams.INGEST),
            lambda: publisher.get("newsflow:idem:ingest:x"),
            lambda: publisher.flushall(),
            lambda: publisher.config_get("*"),
            lambda: publisher.keys("*"),
        ]
        for attempt in refused:
            with pytest.raises(redis_sync.exceptions.NoPermissionError):
                attempt()
        with pytest.raises(redis_sync.exceptions.AuthenticationError):
            anonymous.ping()  # the default user is off
    finally:
        publisher.close()
        anonymous.close()


def test_push_as_the_publisher_user_reports_rejections_it_may_not_record(
    secured: tuple[Node, dict[str, str]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The publisher may only XADD news:ingest: recording a rejection on news:rejected
    is refused, and push says so once and still pushes the good item."""
    node, passwords = secured
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text('{"title": "good"}\n{"nope": 1}\n{"nope": 2}\n')
    code = cli_main(["push", str(mixed), "--redis-url", url(node, "publisher", passwords)])
    out, err = capsys.readouterr()
    assert code == 1  # rejections, as documented
    assert "line 2: rejected" in out
    assert "line 3: rejected" in out
    assert err.count("not recorded on news:rejected: this Redis user may not write there") == 1
    assert "Traceback" not in err
    auditor = redis_sync.Redis.from_url(f"redis://auditor:auditor@127.0.0.1:{node.port}/0")
    try:
        assert auditor.xlen(streams.INGEST) == 1
        assert auditor.xlen(streams.REJECTED) == 0
    finally:
        auditor.close()


async def test_the_pipeline_runs_end_to_end_with_one_user_per_service(
    secured: tuple[Node, dict[str, str]], mongo_server: Any, mongo_db_name: str, tmp_path: Path
) -> None:
    node, passwords = secured
    common: dict[str, Any] = {
        "mongodb_url": mongo_server.url,
        "mongodb_database": mongo_db_name,
        "poll_ms": 100,
        "retention_interval_s": 0.2,
        "retention_window_s": 0.001,
    }
    workers = [
        create_ingest(IngestSettings(redis_url=url(node, "ingest", passwords), **common)),
        create_enrichment(
            EnrichmentSettings(redis_url=url(node, "enrichment", passwords), **common)
        ),
        create_storage(StorageSettings(redis_url=url(node, "storage", passwords), **common)),
    ]
    tasks = [asyncio.create_task(serve(w, b)) for w, b in workers]
    trimming = contextlib.AsyncExitStack()
    for worker, _ in workers:
        await trimming.enter_async_context(trimmer_for(worker).running())
    publisher = create_redis(url(node, "publisher", passwords))
    fakes = Fakes()
    fakes.redis = create_redis(url(node, "gateway", passwords))  # type: ignore[assignment]
    key, doc = new_key("Gateway Wire", ["publish"])
    await fakes.mongo.db[API_KEYS].insert_one(doc)
    app = create_app(GatewaySettings(index_dir=tmp_path / "index"), clients=fakes.clients)
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_server.url)
    auditor = redis_sync.Redis.from_url(
        f"redis://auditor:auditor@127.0.0.1:{node.port}/0", decode_responses=True
    )
    try:
        item = {"title": "Publisher XADD story", "published_at": "2021-02-01", "source": "Wire"}
        await publisher.xadd(streams.INGEST, {"item": orjson.dumps(item)})
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://gw") as client,
        ):
            posted = await client.post(
                "/v1/items",
                json={"title": "Gateway story", "published_at": "2021-02-01"},
                headers={"Authorization": f"Bearer {key}"},
            )
            assert posted.status_code == 202, posted.text
            items = mongo[mongo_db_name]["items"]

            async def both_stored() -> bool:
                return await items.count_documents({}) == 2

            await eventually_async(both_stored, within=60)

            async def trimmed() -> bool:  # each service's trimmer ran under its own user
                return all(
                    auditor.hget(f"newsflow:retention:{s}", "at_ms")
                    for names in streams.TRIMMED_BY.values()
                    for s in names
                    if auditor.exists(s)
                )

            await eventually_async(trimmed, within=30)
        titles = sorted([d["title"] async for d in items.find({}, {"title": 1})])
        assert titles == ["Gateway story", "Publisher XADD story"]
        # Nothing was refused but redis-py's optional CLIENT handshakes on connecting.
        denied = [(e["username"], e["object"]) for e in auditor.acl_log(count=1000)]
        assert {o for _, o in denied} == {"client"}, denied
    finally:
        for worker, _ in workers:
            worker.request_stop()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 60)
        await trimming.aclose()
        await publisher.aclose()
        auditor.close()
        await mongo.close()
