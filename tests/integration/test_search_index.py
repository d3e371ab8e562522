"""The gateway's search index against real Redis and MongoDB, in real gateway processes.

- SIGKILLed again and again while it follows ``news:stored``, the index still holds
  every story exactly once, each at its newest version.
- An index rebuilt from MongoDB answers a set of queries exactly as the index that
  followed the log does; a rebuild killed halfway resumes where it was.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
from pymongo import MongoClient

from newsflow import streams
from newsflow.events import ItemStored
from newsflow_gateway.index.index import SearchIndex
from newsflow_storage.merge import story_snapshot
from tests.helpers import eventually

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TOPICS = ["elections", "human-rights", "gender-equality", "media-freedom", "policing"]
OFFICES = ["odihr", "rfom", "hcnm", "mission-serbia"]
WORDS = "election observation mission report media freedom police reform rights gender".split()


def story(n: int, version: int = 1) -> dict[str, Any]:
    """A stored story as storage writes it to MongoDB (datetimes, ``_v``)."""
    rng = random.Random(n)
    when = datetime(2020, 1, 1, tzinfo=UTC) + timedelta(hours=7 * n)
    topic, office = TOPICS[n % len(TOPICS)], OFFICES[n % len(OFFICES)]
    words = " ".join(rng.choice(WORDS) for _ in range(8))
    return {
        "_id": f"{n:032x}",
        "_v": version,
        "title": f"Story {n} v{version}: the {words}",
        "summary": f"The OSCE reports on {words} in the region.",
        "body": f"The mission said that the {words} was discussed with the partners.",
        "language": "en",
        "published_at": when,
        "sort_at": when,
        "first_received_at": when,
        "topics": [{"id": topic, "name": topic, "source": "inferred", "confidence": 0.9}],
        "offices": [{"id": office, "name": office, "source": "declared", "confidence": 1.0}],
        "countries": [],
        "content_type": None,
        "topic_ids": [topic],
        "office_ids": [office],
        "country_ids": [],
        "content_type_id": None,
        "taxonomy_version": "test",
    }


def announce(r: redis_sync.Redis, doc: dict[str, Any]) -> str:
    event = ItemStored(
        correlation_id=uuid.uuid4().hex,
        item_id=doc["_id"],
        copy_key="k",
        revision=doc["_v"],
        created=doc["_v"] == 1,
        story=story_snapshot(doc),
    )
    return r.xadd(streams.STORED, event.to_fields()).decode()  # type: ignore[union-attr,arg-type]


class Gateway:
    """One gateway process with its own index folder."""

    def __init__(self, env: dict[str, str], index_dir: Path, log: Path) -> None:
        self.env, self.index_dir, self.log = env, index_dir, log
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        from newsflow_tools import embedded

        self.port = embedded.free_port()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "newsflow_gateway"],
                cwd=REPO,
                env={
                    **self.env,
                    "GATEWAY_PORT": str(self.port),
                    "NEWSFLOW_INDEX_DIR": str(self.index_dir),
                },
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self, sig: int = signal.SIGKILL) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self.proc = None

    def readyz(self) -> dict[str, Any]:
        body: dict[str, Any] = httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=5).json()
        return body

    def wait_at(self, position: str, timeout: float = 60) -> None:
        """Until the gateway is ready and its index holds ``position``."""

        def there() -> bool:
            assert self.proc is not None
            assert self.proc.poll() is None, self.log.read_text()
            body = self.readyz()
            return body["status"] == "ready" and body["index"]["position"] == position

        eventually(there, timeout=timeout, interval=0.2)

    def get(self, path: str, **params: Any) -> Any:
        response = httpx.get(f"http://127.0.0.1:{self.port}{path}", params=params, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def env(redis_url: str, mongo_server: Any, mongo_db_name: str) -> dict[str, str]:
    return {
        **os.environ,
        "REDIS_URL": redis_url,
        "MONGODB_URL": mongo_server.url,
        "MONGODB_DATABASE": mongo_db_name,
        "NEWSFLOW_LOG_LEVEL": "INFO",
        "NEWSFLOW_INDEX_COMMIT_MS": "50",
        "PYTHONUNBUFFERED": "1",
    }


@pytest.fixture
def gateways(env: dict[str, str], tmp_path: Path) -> Iterator[list[Gateway]]:
    made: list[Gateway] = []
    yield made
    for gw in made:
        if gw.proc is not None and gw.proc.poll() is None:
            gw.kill(signal.SIGTERM)


def test_sigkill_while_following_keeps_every_story_exactly_once(
    env: dict[str, str], redis_url: str, tmp_path: Path, gateways: list[Gateway]
) -> None:
    r = redis_sync.Redis.from_url(redis_url)
    gw = Gateway(env, tmp_path / "index", tmp_path / "gateway.log")
    gateways.append(gw)
    gw.start()
    eventually(lambda: gw.readyz()["status"] == "ready", timeout=60)
    rng = random.Random(7)
    newest: dict[str, int] = {}
    last = ""
    for _round in range(6):
        for _ in range(150):
            n = rng.randrange(400)
            version = newest.get(f"{n:032x}", 0) + 1
            newest[f"{n:032x}"] = version
            last = announce(r, story(n, version))
        # Kill it while it is applying and committing what was just announced.
        eventually(lambda: gw.readyz()["index"]["state"] != "starting", timeout=30)
        time.sleep(rng.uniform(0.0, 0.3))
        gw.kill()
        gw.start()
    gw.wait_at(last)
    gw.kill(signal.SIGTERM)
    index = SearchIndex.open(gw.index_dir)
    page = index.search(limit=500)
    ids = [h.id for h in page.hits]
    assert sorted(ids) == sorted(newest), "each story exactly once"
    assert page.total == len(newest) == index.num_docs()
    assert index.versions(list(newest)) == newest
    for hit in page.hits:
        assert hit.document["title"].startswith(f"Story {int(hit.id, 16)} v{newest[hit.id]}:")
    index.close()


QUERIES: list[dict[str, Any]] = [
    {},
    {"sort": "oldest", "limit": 50},
    {"q": "election", "sort": "relevance"},
    {"q": '"media freedom"'},
    {"q": "police OR gender -rights"},
    {"q": "title:repor*"},
    {"topic": "elections", "office": ["odihr", "rfom"]},
    {"from": "2020-03-01T00:00:00Z", "to": "2020-06-30T23:59:59Z"},
]


def answers(gw: Gateway) -> list[Any]:
    out: list[Any] = []
    for params in QUERIES:
        page = gw.get("/v1/items", **params)
        if params.get("sort") == "relevance":
            # Scores count replaced versions until segments merge: only the matches agree.
            out.append(page["total"])
        else:
            out.append((page["total"], [i["id"] for i in page["items"]]))
        filters = {k: v for k, v in params.items() if k not in ("sort", "limit")}
        out.append(gw.get("/v1/facets", **filters))
    out.append(gw.get("/v1/offices"))
    return out


def test_a_rebuilt_index_answers_as_the_followed_one_and_a_killed_rebuild_resumes(
    env: dict[str, str],
    redis_url: str,
    mongo_server: Any,
    mongo_db_name: str,
    tmp_path: Path,
    gateways: list[Gateway],
) -> None:
    r = redis_sync.Redis.from_url(redis_url)
    items = MongoClient(mongo_server.url, tz_aware=True)[mongo_db_name]["items"]
    follower = Gateway(env, tmp_path / "followed", tmp_path / "followed.log")
    gateways.append(follower)
    follower.start()
    eventually(lambda: follower.readyz()["status"] == "ready", timeout=60)
    # Storage's two steps for each story: write the record, then announce it.
    docs = [story(n) for n in range(1200)]
    items.insert_many(docs)
    for doc in docs[:1000]:
        announce(r, doc)
    for doc in docs[1000:1100]:  # rewritten: a newer version in the record and the log
        newer = {**doc, "_v": 2, "title": doc["title"].replace(" v1:", " v2:")}
        items.replace_one({"_id": doc["_id"]}, newer)
        announce(r, newer)
    for doc in docs[1100:]:
        last = announce(r, doc)
    follower.wait_at(last)

    rebuilt = Gateway(
        {**env, "NEWSFLOW_INDEX_REBUILD_BATCH": "50"}, tmp_path / "rebuilt", tmp_path / "rb.log"
    )
    gateways.append(rebuilt)
    rebuilt.start()

    def rebuilding_halfway() -> bool:
        progress = rebuilt.readyz()["index"].get("progress") or {}
        return 300 <= progress.get("done", 0) < 1200

    eventually(rebuilding_halfway, timeout=120, interval=0.05)
    rebuilt.kill()
    rebuilt.start()
    rebuilt.wait_at(last, timeout=180)
    assert "resuming the rebuild" in rebuilt.log.read_text()
    assert rebuilt.readyz()["index"]["stories"] == 1200
    assert answers(rebuilt) == answers(follower)
