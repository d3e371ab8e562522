"""Fault injection on real processes: real redis-server, real SecantusDB, real services.

Every scenario ends with the invariant checker (:mod:`tests.e2e.checker`): each
accepted item is exactly once in the store or in ``news:dead``, nothing is pending,
every group's lag is 0, and the store holds no duplicate.

Scenarios 3, 4 and 5 kill or stop a server, so they run on servers the test owns
(:class:`OwnedServers`), restarted on the same port and data directory.
"""

from __future__ import annotations

import os
import re
import signal
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis as redis_sync
from prometheus_client.parser import text_string_to_metric_families

from newsflow import embedded, status, streams
from tests.e2e.checker import settled, story_id
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

DAY = "2024-05-02"
#: Items of the burst (scenario 10) in ``make test``; the soak test pushes 5,000.
BURST = int(os.environ.get("NEWSFLOW_BURST_ITEMS", "500"))
SOAK_BURST = 5_000


# -- publishers ---------------------------------------------------------------------------


def make_item(tag: str, n: int, **extra: Any) -> dict[str, Any]:
    """A valid item with a title unique to (tag, n)."""
    return {
        "title": f"Fault scenario {tag} story {n:05d} on border management in Serbia",
        "summary": "The OSCE Mission to Serbia trained border police on risk analysis.",
        "published_at": DAY,
        "content_type": "News",
        "offices": ["OSCE Mission to Serbia"],
        "topics": ["Border management and security"],
        **extra,
    }


def push(redis: redis_sync.Redis, items: list[dict[str, Any]], chunk: int = 500) -> list[str]:
    """XADD ``items`` to news:ingest in pipelines, as ``newsflow push`` does; their story ids."""
    for start in range(0, len(items), chunk):
        pipe = redis.pipeline(transaction=False)
        for item in items[start : start + chunk]:
            pipe.xadd(streams.INGEST, {streams.ITEM_FIELD: orjson.dumps(item)})
        pipe.execute()
    return [story_id(item) for item in items]


@dataclass
class LoadGenerator:
    """A steady publisher in a thread: one XADD per tick, retried until Redis accepts it.

    Only acknowledged XADDs count as accepted. A retry after an ambiguous error may
    push a story twice; the store must still hold it once.
    """

    redis_url: str
    tag: str
    rate: float = 40.0
    limit: int | None = None
    accepted: list[str] = field(default_factory=list)
    errors: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> LoadGenerator:
        self._thread = threading.Thread(target=self._run, name=f"load-{self.tag}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        client = redis_sync.Redis.from_url(
            self.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        n = 0
        try:
            while not self._stop.is_set() and (self.limit is None or n < self.limit):
                item = make_item(self.tag, n)
                while not self._stop.is_set():
                    try:
                        client.xadd(streams.INGEST, {streams.ITEM_FIELD: orjson.dumps(item)})
                    except (redis_sync.ConnectionError, redis_sync.TimeoutError):
                        self.errors += 1
                        self._stop.wait(0.05)  # back-off of a publisher, not a wait
                        continue
                    self.accepted.append(story_id(item))
                    break
                n += 1
                self._stop.wait(1 / self.rate)
        finally:
            client.close()

    def stop(self) -> list[str]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        return list(self.accepted)

    def join(self, timeout: float) -> list[str]:
        assert self._thread is not None
        self._thread.join(timeout=timeout)
        assert not self._thread.is_alive(), "the load generator did not finish"
        return list(self.accepted)


# -- process and group helpers ------------------------------------------------------------


def start_worker(stack: Stack, name: str, service: str, **env: str) -> int:
    """Start a worker with its health/metrics endpoint; return the port."""
    port = embedded.free_port()
    stack.start(name, service, NEWSFLOW_HTTP_PORT=str(port), **env)
    return port


def metric(port: int, name: str) -> float:
    """The summed samples of ``name`` on a worker's /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    )


def consumers(redis: redis_sync.Redis, stream: str) -> dict[str, int]:
    """Consumer name -> pending count in the stream's worker group."""
    try:
        rows = redis.xinfo_consumers(stream, streams.GROUPS[stream])
    except redis_sync.ResponseError:
        return {}
    return {_s(r["name"]): int(r["pending"]) for r in rows}


def _s(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def wait_consuming(stack: Stack, names: list[str], timeout: float = 30) -> None:
    """Wait until each named worker process has started consuming (its start-up log line;
    Redis 6.2 lists a consumer only once it has been delivered something)."""

    def ready() -> bool:
        for name in names:
            proc = stack.procs[name]
            if proc.poll() is not None:
                raise AssertionError(f"{name} exited with {proc.returncode}:\n{stack.log(name)}")
            text = (stack.logs / f"{name}.log").read_text(errors="replace")
            if not re.search(rf"consuming \S+ as \S+/{re.escape(name)}$", text, re.M):
                return False
        return True

    eventually(ready, timeout=timeout)


def start_pipeline(
    stack: Stack,
    *,
    enrichment: int = 1,
    storage: int = 1,
    gateway: bool = True,
    http: bool = False,
    per_service: dict[str, dict[str, str]] | None = None,
    **env: str,
) -> dict[str, int]:
    """Start ingest, enrichment and storage replicas (and the gateway), wait until all read.

    ``env`` goes to every worker, ``per_service[service]`` to that service's replicas.
    Returns the metrics port of each worker when ``http`` is set.
    """
    ports: dict[str, int] = {}
    plan = [("ingest-1", "ingest")]
    plan += [(f"enrichment-{i}", "enrichment") for i in range(1, enrichment + 1)]
    plan += [(f"storage-{i}", "storage") for i in range(1, storage + 1)]
    for name, service in plan:
        extra = {**env, **(per_service or {}).get(service, {})}
        if http:
            ports[name] = start_worker(stack, name, service, **extra)
        else:
            stack.start(name, service, **extra)
    if gateway:
        stack.start("gateway-1", "gateway")
    wait_consuming(stack, [name for name, _ in plan])
    return ports


def group_pending(redis: redis_sync.Redis, stream: str) -> int:
    return int(redis.xpending(stream, streams.GROUPS[stream])["pending"])


def killed(stack: Stack, name: str, timeout: float = 30) -> None:
    """Wait for a process with a fault point to SIGKILL itself."""
    code = stack.procs[name].wait(timeout=timeout)
    assert code == -signal.SIGKILL, f"{name} exited with {code}:\n{stack.log(name)}"
    stack.procs.pop(name)


# -- servers the test owns ----------------------------------------------------------------


@dataclass
class OwnedServers:
    """A redis-server and a SecantusDB for one test, restartable on the same port and data."""

    root: Path
    appendonly: bool
    redis_port: int = field(default_factory=embedded.free_port)
    mongo_port: int = field(default_factory=embedded.free_port)
    redis: embedded.EmbeddedServer | None = None
    mongo: embedded.EmbeddedServer | None = None

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def mongodb_url(self) -> str:
        return f"mongodb://127.0.0.1:{self.mongo_port}/?directConnection=true"

    def start_redis(self) -> None:
        self.redis = embedded.start_redis(
            self.root / "redis", port=self.redis_port, appendonly=self.appendonly
        )
        assert self.redis.url == self.redis_url

    def kill_redis(self) -> None:
        assert self.redis is not None
        self.redis.kill()
        self.redis = None

    def start_mongo(self) -> None:
        self.mongo = embedded.start_secantus(self.root / "mongo", port=self.mongo_port)
        assert self.mongo.url == self.mongodb_url

    def stop_mongo(self) -> None:
        assert self.mongo is not None
        self.mongo.stop()
        self.mongo = None

    def stop(self) -> None:
        for server in (self.redis, self.mongo):
            if server is not None:
                server.stop()


@pytest.fixture
def owned(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[OwnedServers]:
    """Servers for one test; ``@pytest.mark.parametrize("owned", [True], indirect=True)``
    turns Redis AOF on."""
    servers = OwnedServers(tmp_path / "servers", appendonly=getattr(request, "param", False))
    servers.start_redis()
    servers.start_mongo()
    yield servers
    servers.stop()


@pytest.fixture
def owned_stack(
    owned: OwnedServers, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Stack]:
    """A :class:`Stack` on the test's own servers; service logs are printed on failure."""
    logs = tmp_path / "logs"
    logs.mkdir()
    stack = Stack(
        redis_url=owned.redis_url,
        mongodb_url=owned.mongodb_url,
        database=f"t_{uuid.uuid4().hex[:12]}",
        logs=logs,
    )
    yield stack
    stack.stop_all()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        for path in sorted(logs.glob("*.log")):
            sys.stderr.write(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}\n")


