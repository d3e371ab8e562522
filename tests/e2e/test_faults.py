"""Fault injection on real processes: real redis-server, real SecantusDB, real services.

Every scenario ends with the invariant checker (:mod:`tests.e2e.checker`): each
accepted item is exactly once in the store or in ``news:dead``, nothing is pending,
every group's lag is 0, and the store holds no duplicate (the gateway neither).

Servers that a scenario kills or stops belong to it (:class:`OwnedServers`) and come
back on the same port and data directory. Scenarios that do not kill or restart
service processes (3, 5, 5b, 6, 7, 8, 10) share one pipeline (:func:`shared`: its own
Redis with AOF and its own SecantusDB), emptied between tests, because starting six
Python processes costs 6-15 s on two cores. Scenarios 1, 2, 4 and 9 start their own.
Fault points (:mod:`tests.faults`) are switched on per process with ``NEWSFLOW_FAULT``,
which makes :class:`Stack` start the test-only entry point
(``python -m tests.e2e.faulty_service <service>``) instead of the service's own.

The full burst of 5,000 items takes about 2.5 minutes on SecantusDB (~35 stories/s
stored); ``make test`` pushes ``NEWSFLOW_BURST_ITEMS`` (default 500, ~10 s), and
:func:`test_soak_burst_of_5000` (marker ``soak``) runs with ``make soak``.
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

from newsflow import streams
from newsflow.runtime.lag import group_state
from newsflow_tools import embedded, status
from tests.e2e.checker import check, group_problems, settled, story_id
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
    redis_port: int = 0
    mongo_port: int = 0
    redis: embedded.EmbeddedServer | None = None
    mongo: embedded.EmbeddedServer | None = None

    def __post_init__(self) -> None:
        self.redis_port = self.redis_port or embedded.free_port()
        while not self.mongo_port or self.mongo_port == self.redis_port:
            self.mongo_port = embedded.free_port()

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

    def kill_mongo(self) -> None:
        assert self.mongo is not None
        self.mongo.kill()
        self.mongo = None

    def stop(self) -> None:
        for server in (self.redis, self.mongo):
            if server is not None:
                server.stop()


@pytest.fixture
def owned(tmp_path: Path) -> Iterator[OwnedServers]:
    """A redis-server without persistence and a SecantusDB for one test."""
    servers = OwnedServers(tmp_path / "servers", appendonly=False)
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
    stack = Stack(owned.redis_url, owned.mongodb_url, f"t_{uuid.uuid4().hex[:12]}", logs)
    yield stack
    stack.stop_all()
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print_logs(logs)


def print_logs(logs: Path) -> None:
    for path in sorted(logs.glob("*.log")):
        sys.stderr.write(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}\n")


def assert_all_alive(stack: Stack) -> None:
    for name, proc in stack.procs.items():
        assert proc.poll() is None, f"{name} exited with {proc.returncode}:\n{stack.log(name)}"


# -- 1. SIGKILL after writing, before acking; and before writing -------------------------


@pytest.mark.timeout(90)
def test_workers_killed_before_ack_and_before_write(stack: Stack) -> None:
    env = {"NEWSFLOW_BATCH_SIZE": "10"}
    stack.start("ingest-1", "ingest", **env)
    stack.start("enrichment-doomed", "enrichment", NEWSFLOW_FAULT="before_ack:1", **env)
    stack.start("storage-after-write", "storage", NEWSFLOW_FAULT="before_ack:1", **env)
    stack.start("storage-before-write", "storage", NEWSFLOW_FAULT="before_handle:1", **env)
    stack.start("gateway-1", "gateway")
    wait_consuming(
        stack, ["ingest-1", "enrichment-doomed", "storage-after-write", "storage-before-write"]
    )
    redis = stack.redis()
    sent = push(redis, [make_item("kill", n) for n in range(40)])

    # Enrichment dies after tagging its first batch, before publishing and acking it.
    killed(stack, "enrichment-doomed")
    assert group_pending(redis, streams.INGESTED) > 0
    stack.start("enrichment-1", "enrichment", **env)
    # Each storage process dies at its first batch: one after writing it to MongoDB,
    # the other before writing anything. Both batches stay pending.
    killed(stack, "storage-after-write")
    killed(stack, "storage-before-write")
    assert stack.items().count_documents({}) > 0, "the before_ack batch was not written"
    assert group_pending(redis, streams.ENRICHED) > 0

    stack.start("storage-1", "storage", **env)
    report = settled(redis, stack.items(), sent=sent, expected_dead=[], gateway=stack.get)
    assert len(report.stored) == 40
    assert all(len(d["copies"]) == 1 for d in report.docs.values())
    redis.close()


# -- 2. SIGSTOP longer than the reclaim idle time, then SIGCONT ---------------------------


def blocked_readers(redis: redis_sync.Redis) -> int:
    """Clients blocked in XREADGROUP right now."""
    return sum(1 for c in redis.client_list() if c.get("cmd") == "xreadgroup" and "b" in c["flags"])


@pytest.mark.timeout(90)
def test_paused_worker_late_write_neither_duplicates_nor_regresses(stack: Stack) -> None:
    # storage-1 blocks up to 60 s in XREADGROUP, so a SIGSTOP finds it there: the
    # entry that arrives meanwhile is delivered to it, and sits unread in its socket.
    stack.start("ingest-1", "ingest")
    stack.start("enrichment-1", "enrichment")
    paused_port = start_worker(stack, "storage-1", "storage", NEWSFLOW_POLL_MS="60000")
    stack.start("gateway-1", "gateway")
    wait_consuming(stack, ["ingest-1", "enrichment-1", "storage-1"])
    redis, items = stack.redis(), stack.items()
    sent = push(redis, [make_item("pause", 0)])
    eventually(
        lambda: items.count_documents({}) == 1 and not group_pending(redis, streams.ENRICHED)
    )
    # ingest and enrichment block 100 ms at a time; a third blocked reader is storage-1.
    eventually(lambda: blocked_readers(redis) >= 3)

    paused = stack.procs["storage-1"]
    old = make_item("pause", 1, revision=1, source="wire", summary="First version.")
    new = make_item("pause", 1, revision=2, source="wire", summary="Corrected version.")
    sid = story_id(old)
    os.kill(paused.pid, signal.SIGSTOP)
    paused_at = time.monotonic()
    try:
        sent += push(redis, [old])
        eventually(lambda: consumers(redis, streams.ENRICHED).get("storage-1") == 1, timeout=10)
        start_worker(stack, "storage-2", "storage")
        sent += push(redis, [new])

        # storage-2 stores revision 2 and reclaims revision 1 from the paused process
        # once it has been idle for NEWSFLOW_RECLAIM_IDLE_MS.
        def taken_over() -> bool:
            doc = items.find_one({"_id": sid})
            return (
                doc is not None
                and [c["revision"] for c in doc["copies"].values()] == [2]
                and group_pending(redis, streams.ENRICHED) == 0
            )

        eventually(taken_over, timeout=30)
        assert time.monotonic() - paused_at >= 1.5
        before = items.find_one({"_id": sid})
        announced = redis.xlen(streams.STORED)
    finally:
        os.kill(paused.pid, signal.SIGCONT)

    # The paused process wakes up, handles revision 1 late, and acks it.
    eventually(lambda: metric(paused_port, "newsflow_items_out_total") == 2, timeout=15)
    after = items.find_one({"_id": sid})
    assert [c["revision"] for c in after["copies"].values()] == [2]
    assert after["summary"] == "Corrected version."
    assert after["_v"] == before["_v"], "the late write changed the stored story"
    assert redis.xlen(streams.STORED) == announced, "the late no-op announced a store"
    settled(redis, items, sent=sent, expected_dead=[], gateway=stack.get)
    assert stack.get(f"/v1/items/{sid}").json()["copies"][0]["revision"] == 2
    redis.close()


# -- 4. Redis restarted empty -------------------------------------------------------------


@pytest.mark.timeout(120)
def test_redis_restarted_empty_services_recover(owned: OwnedServers, owned_stack: Stack) -> None:
    stack = owned_stack
    start_pipeline(stack)
    redis = stack.redis()
    before = push(redis, [make_item("empty", n) for n in range(20)])
    settled(redis, stack.items(), sent=before, expected_dead=[])

    owned.kill_redis()
    owned.start_redis()
    assert redis.xlen(streams.INGEST) == 0, "Redis came back with data"
    after = push(redis, [make_item("empty", n) for n in range(20, 40)])

    def recovered() -> Any:
        # A service that exits instead of recreating its group fails the test at once.
        exited = {n: p.returncode for n, p in stack.procs.items() if p.poll() is not None}
        if exited:
            pytest.fail(
                f"exited instead of recovering: {exited}\n"
                + "\n".join(stack.log(n)[-1500:] for n in exited)
            )
        return check(redis, stack.items(), sent=before + after, expected_dead=[])

    eventually(recovered, timeout=60, interval=0.25)
    report = settled(redis, stack.items(), sent=before + after, expected_dead=[], gateway=stack.get)
    assert len(report.stored) == 40
    redis.close()


# -- 9. rolling restart under steady load -------------------------------------------------


@dataclass
class GatewayProbe:
    """A client behind a load balancer: round-robin over the gateways in service, moving
    on to the next one when a connection is refused. Records every status code."""

    urls: list[str]
    paths: list[str]
    codes: list[int] = field(default_factory=list)
    server_errors: list[str] = field(default_factory=list)
    unanswered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def set_urls(self, urls: list[str]) -> None:
        with self._lock:
            self.urls = list(urls)

    def start(self) -> GatewayProbe:
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        n = 0
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                with self._lock:
                    k = n % len(self.urls)
                    urls = self.urls[k:] + self.urls[:k]
                n += 1
                for url in urls:
                    try:
                        response = client.get(f"{url}{self.paths[n % len(self.paths)]}")
                    except httpx.TransportError:
                        continue
                    self.codes.append(response.status_code)
                    if response.status_code >= 500:
                        self.server_errors.append(f"{url}: {response.status_code} {response.text}")
                    break
                else:
                    self.unanswered += 1
                self._stop.wait(0.2)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


@pytest.mark.timeout(240)
def test_rolling_restart_of_every_replica_under_load(stack: Stack) -> None:
    start_pipeline(stack, enrichment=2, storage=2, NEWSFLOW_BATCH_SIZE="10")
    gateways = {"gateway-1": stack.gateway}
    stack.start("gateway-2", "gateway")
    gateways["gateway-2"] = stack.gateway
    load = LoadGenerator(stack.redis_url, "rolling", rate=10).start()
    eventually(lambda: len(load.accepted) >= 10)
    first = load.accepted[0]
    eventually(lambda: stack.get(f"/v1/items/{first}").status_code == 200)
    # Mostly one story (cheap), sometimes a listing (SecantusDB counts every match).
    paths = [f"/v1/items/{first}"] * 3 + ["/v1/items?limit=5"]
    probe = GatewayProbe(list(gateways.values()), paths).start()

    # Two waves; in each, every service gets its new replica before an old one stops.
    waves = [
        ["ingest-1", "enrichment-1", "storage-1", "gateway-1"],
        ["enrichment-2", "storage-2", "gateway-2"],
    ]
    for wave, olds in enumerate(waves, start=1):
        stack.start(f"gateway-r{wave}", "gateway")  # returns once it is ready
        gateways[f"gateway-r{wave}"] = stack.gateway
        probe.set_urls(list(gateways.values()))
        workers = [o for o in olds if not o.startswith("gateway")]
        for old in workers:
            service = old.split("-")[0]
            stack.start(f"{service}-r{wave}", service, NEWSFLOW_BATCH_SIZE="10")
        wait_consuming(stack, [f"{o.split('-')[0]}-r{wave}" for o in workers])
        for old in olds:
            gateways.pop(old, None)
        probe.set_urls(list(gateways.values()))  # out of the balancer before it stops
        stopping = {old: stack.procs.pop(old) for old in olds}
        for proc in stopping.values():
            proc.send_signal(signal.SIGTERM)
        for old, proc in stopping.items():
            code = proc.wait(timeout=30)
            # Workers exit 0 when asked to stop; uvicorn re-raises SIGTERM after a
            # graceful shutdown.
            expected = {0, -signal.SIGTERM} if old.startswith("gateway") else {0}
            assert code in expected, f"{old} exited with {code}:\n{stack.log(old)}"
    sent = load.stop()
    probe.stop()

    assert probe.server_errors == []
    assert probe.unanswered == 0
    assert len(probe.codes) > 10
    assert set(probe.codes) == {200}
    assert len(sent) > 20
    redis = stack.redis()
    report = settled(redis, stack.items(), sent=sent, expected_dead=[], gateway=stack.get)
    assert len(report.stored) == len(set(sent))
    redis.close()


# -- one pipeline shared by the scenarios that do not kill or restart processes -----------


@dataclass
class Shared:
    """ingest ×1, enrichment ×2, storage ×2 and the gateway on servers of their own.

    Enrichment fails every entry that contains ``POISON-PILL`` (fault ``fail_on``) and
    dead-letters after 3 deliveries. Ingest reads one entry at a time, so entries reach
    the next stages one by one and the replicas interleave; enrichment and storage read
    up to 50.
    """

    servers: OwnedServers
    stack: Stack
    ports: dict[str, int]

    def metrics(self, name: str = "newsflow_items_out_total") -> dict[str, float]:
        return {worker: metric(port, name) for worker, port in self.ports.items()}


POISON = "POISON-PILL"
SHARED_MAX_DELIVERIES = 3


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    root = tmp_path_factory.mktemp("shared")
    servers = OwnedServers(root / "servers", appendonly=True)
    servers.start_redis()
    servers.start_mongo()
    logs = root / "logs"
    logs.mkdir()
    stack = Stack(servers.redis_url, servers.mongodb_url, "shared", logs)
    try:
        ports = start_pipeline(
            stack,
            enrichment=2,
            storage=2,
            http=True,
            NEWSFLOW_BATCH_SIZE="50",
            per_service={
                "ingest": {"NEWSFLOW_BATCH_SIZE": "1"},
                "enrichment": {
                    "NEWSFLOW_FAULT": f"fail_on:{POISON}",
                    "NEWSFLOW_MAX_DELIVERIES": str(SHARED_MAX_DELIVERIES),
                },
            },
        )
        yield Shared(servers, stack, ports)
    finally:
        stack.stop_all()
        servers.stop()


@pytest.fixture
def pipeline(shared: Shared, request: pytest.FixtureRequest) -> Iterator[Shared]:
    """The shared pipeline, idle and emptied (store and dead letters) for one test."""
    assert_all_alive(shared.stack)
    redis = shared.stack.redis()
    eventually(lambda: not group_problems(redis)[0], timeout=30)
    shared.stack.items().delete_many({})
    redis.delete(streams.DEAD)
    redis.close()
    # The store was emptied behind the pipeline's back (no service deletes stories):
    # the gateway's search index, its read model, starts afresh with it.
    shared.stack.stop("gateway-1")
    fresh = shared.stack.logs / f"index-{uuid.uuid4().hex[:8]}"
    shared.stack.start("gateway-1", "gateway", NEWSFLOW_INDEX_DIR=str(fresh))
    yield shared
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print_logs(shared.stack.logs)


# -- 6. a poison item ---------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_poison_item_dead_lettered_after_n_tries_others_flow(pipeline: Shared) -> None:
    stack = pipeline.stack
    redis, items = stack.redis(), stack.items()
    batch = [make_item("poison", n) for n in range(20)]
    poison = make_item("poison", 99, title=f"{POISON} item that enrichment always fails")
    batch.insert(10, poison)
    sent = push(redis, batch)
    poison_id = story_id(poison)

    # The others are stored while the poison is still being retried.
    eventually(lambda: items.count_documents({}) == 20, timeout=30)
    assert redis.xlen(streams.DEAD) == 0
    assert items.count_documents({"_id": poison_id}) == 0

    report = settled(redis, items, sent=sent, expected_dead=[poison_id], gateway=stack.get)
    letter = report.dead[poison_id]
    assert letter.service == "enrichment"
    assert letter.delivery_count == SHARED_MAX_DELIVERIES
    assert "injected failure" in letter.error
    assert len(report.stored) == 20
    redis.close()


# -- 7. one item pushed 100 times concurrently --------------------------------------------


@pytest.mark.timeout(60)
def test_same_item_pushed_100_times_concurrently_is_one_document(pipeline: Shared) -> None:
    stack = pipeline.stack
    item = make_item("same", 1, source="wire")
    go = threading.Barrier(4)

    def publisher() -> None:
        client = redis_sync.Redis.from_url(stack.redis_url)
        go.wait()
        pipe = client.pipeline(transaction=False)
        for _ in range(25):
            pipe.xadd(streams.INGEST, {streams.ITEM_FIELD: orjson.dumps(item)})
        pipe.execute()
        client.close()

    before = pipeline.metrics()
    threads = [threading.Thread(target=publisher) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    redis = stack.redis()
    report = settled(
        redis, stack.items(), sent=[story_id(item)] * 100, expected_dead=[], gateway=stack.get
    )
    (doc,) = report.docs.values()
    assert len(doc["copies"]) == 1
    assert stack.get("/v1/items", q="fault scenario same story").json()["total"] == 1
    after = pipeline.metrics()
    stored = {n: after[n] - before[n] for n in ("storage-1", "storage-2")}
    assert sum(stored.values()) >= 100, stored
    redis.close()


# -- 8. revisions 3, 1, 2 across replicas -------------------------------------------------


@pytest.mark.timeout(60)
def test_revisions_3_1_2_across_replicas_store_3(pipeline: Shared) -> None:
    stack = pipeline.stack
    redis = stack.redis()
    stories = 12
    batch = [
        make_item("rev", n, revision=rev, source="wire", summary=f"Revision {rev}.")
        for n in range(stories)
        for rev in (3, 1, 2)
    ]
    before = pipeline.metrics()
    sent = push(redis, batch)
    report = settled(redis, stack.items(), sent=sent, expected_dead=[], gateway=stack.get)
    assert len(report.stored) == stories
    for doc in report.docs.values():
        assert [c["revision"] for c in doc["copies"].values()] == [3], doc["_id"]
    assert {d["summary"] for d in stack.items().find({}, {"summary": 1})} == {"Revision 3."}
    after = pipeline.metrics()
    work = {n: after[n] - before[n] for n in ("storage-1", "storage-2")}
    assert all(work.values()), f"one replica handled every revision: {work}"
    assert sum(work.values()) >= 3 * stories
    sid = story_id(batch[0])
    assert stack.get(f"/v1/items/{sid}").json()["copies"][0]["revision"] == 3
    redis.close()


# -- 10. a burst of items over two enrichment and two storage replicas ---------------------


def burst(pipeline: Shared, count: int) -> dict[str, float]:
    stack = pipeline.stack
    redis = stack.redis()
    items = [make_item("burst", n) for n in range(count)]
    ids = [story_id(item) for item in items]
    before = pipeline.metrics()
    started = time.monotonic()
    push(redis, items)
    pushed = time.monotonic() - started
    settled(redis, stack.items(), sent=ids, expected_dead=[], gateway=stack.get, timeout=300)
    elapsed = time.monotonic() - started
    after = pipeline.metrics()
    split = {name: after[name] - before[name] for name in after}
    for name in ("enrichment-1", "enrichment-2", "storage-1", "storage-2"):
        assert split[name] > 0, f"{name} did no work: {split}"
    # At least once: a replica starved past the reclaim idle time may see an entry twice.
    assert split["ingest-1"] >= count, split
    assert split["enrichment-1"] + split["enrichment-2"] >= count, split
    assert split["storage-1"] + split["storage-2"] >= count, split
    # settled() saw lag 0 and nothing pending in every group (computed by newsflow_tools.status;
    # the workers' newsflow_group_lag gauge is -1 on Redis 6.2, see test_health.py).
    redis.close()
    return {"count": count, "push_s": round(pushed, 2), "total_s": round(elapsed, 1), **split}


@pytest.mark.timeout(240)
def test_burst_split_between_replicas_and_lag_back_to_zero(pipeline: Shared) -> None:
    figures = burst(pipeline, BURST)
    print(f"\nburst: {figures}")


@pytest.mark.soak
@pytest.mark.timeout(400)
def test_soak_burst_of_5000(request: pytest.FixtureRequest) -> None:
    """The full burst of the issue: about 2.5 minutes on SecantusDB. ``make soak``
    (``-m soak``) or ``NEWSFLOW_SOAK=1``; skipped under any other ``-m`` selection."""
    expr = request.config.getoption("markexpr") or ""
    wanted = "soak" in expr and "not soak" not in expr
    if not wanted and os.environ.get("NEWSFLOW_SOAK") != "1":
        pytest.skip("soak test: run with -m soak or NEWSFLOW_SOAK=1")
    figures = burst(request.getfixturevalue("pipeline"), SOAK_BURST)
    print(f"\nburst: {figures}")


# -- 3. redis-server SIGKILLed and restarted with AOF, under load -------------------------


@pytest.mark.timeout(90)
def test_redis_killed_and_restarted_with_aof_under_load(pipeline: Shared) -> None:
    stack, servers = pipeline.stack, pipeline.servers
    load = LoadGenerator(stack.redis_url, "aof", rate=50, limit=200).start()
    eventually(lambda: len(load.accepted) >= 60, timeout=20)
    servers.kill_redis()
    killed_with = len(load.accepted)
    servers.start_redis()
    sent = load.join(timeout=60)
    assert 60 <= killed_with < 200, "Redis was not killed under load"
    assert len(set(sent)) == 200
    redis = stack.redis()
    # Everything acknowledged before the kill survived it (AOF) and got stored once.
    report = settled(
        redis, stack.items(), sent=sent, expected_dead=[], gateway=stack.get, timeout=60
    )
    assert len(report.stored) == 200
    assert_all_alive(stack)
    print(f"\nredis killed after {killed_with} accepted items; publisher retries: {load.errors}")
    redis.close()


# -- 5. MongoDB stopped for 10 s ----------------------------------------------------------


@pytest.mark.timeout(120)
def test_mongodb_down_no_acks_reads_from_the_index_then_everything_stored(pipeline: Shared) -> None:
    stack, servers, ports = pipeline.stack, pipeline.servers, pipeline.ports
    redis = stack.redis()
    sent = push(redis, [make_item("mongo", n) for n in range(10)])
    settled(redis, stack.items(), sent=sent, expected_dead=[])
    announced = redis.xlen(streams.STORED)
    enriched = redis.xlen(streams.ENRICHED)

    servers.stop_mongo()
    down_at = time.monotonic()
    outage = threading.Event()
    answers: list[tuple[str, int | str]] = []
    urls = [
        f"{stack.gateway}/v1/items",
        f"{stack.gateway}/v1/items/{sent[0]}",
        f"{stack.gateway}/readyz",
        f"http://127.0.0.1:{ports['storage-1']}/readyz",
    ]

    def probe(url: str) -> None:
        while not outage.is_set():
            try:
                answers.append((url, httpx.get(url, timeout=30).status_code))
            except httpx.HTTPError as exc:
                answers.append((url, type(exc).__name__))

    probes = [threading.Thread(target=probe, args=(url,), daemon=True) for url in urls]
    for thread in probes:
        thread.start()
    during = push(redis, [make_item("mongo", n) for n in range(10, 30)])
    eventually(lambda: redis.xlen(streams.ENRICHED) == enriched + 20)

    def held() -> tuple[int, int]:
        # Pending and lag from one XINFO GROUPS row: asked one after the other, a
        # delivery in between moves one entry from lag to pending unseen (sum 19).
        state = status.run_sync(
            redis, lambda client: group_state(client, streams.ENRICHED, "storage")
        )
        assert state is not None
        return state[1], state[0]

    eventually(lambda: held()[0] > 0)
    samples = 0
    while time.monotonic() - down_at < 10:  # the outage: watch that nothing is acked
        pending, lag = held()
        assert pending > 0, (pending, lag)
        assert pending + lag == 20, (pending, lag)
        assert redis.xlen(streams.STORED) == announced
        samples += 1
        outage.wait(0.25)
    outage.set()
    for thread in probes:
        thread.join(timeout=30)
    servers.start_mongo()

    assert samples >= 20
    assert {url for url, _ in answers} == set(urls), answers
    # Searches keep answering from the gateway's index, with what was stored before;
    # what needs the record (one story, readiness) says 503.
    searches = {code for url, code in answers if url == urls[0]}
    assert searches == {200}, answers
    assert {code for url, code in answers if url != urls[0]} == {503}, answers
    report = settled(
        redis, stack.items(), sent=sent + during, expected_dead=[], gateway=stack.get, timeout=60
    )
    assert len(report.stored) == 30
    assert stack.get("/readyz").status_code == 200
    assert (
        metric(ports["storage-1"], "newsflow_transient_errors_total")
        + metric(ports["storage-2"], "newsflow_transient_errors_total")
        > 0
    )
    redis.close()


# -- 5b. MongoDB killed right after a store was acknowledged ------------------------------


@pytest.mark.timeout(120)
def test_mongodb_killed_right_after_an_ack_loses_no_item(pipeline: Shared) -> None:
    """Storage acks an entry (XACK, and ItemStored on news:stored) only after its write;
    that write must survive a crash of the MongoDB server that follows the ack."""
    stack, servers = pipeline.stack, pipeline.servers
    redis, items = stack.redis(), stack.items()
    sent: list[str] = []
    for n in range(3):
        last = redis.xrevrange(streams.STORED, count=1)
        after = last[0][0] if last else b"0-0"
        sent += push(redis, [make_item("durable", n)])
        announced = redis.xread({streams.STORED: after}, count=1, block=30_000)
        servers.kill_mongo()  # the moment the store was acknowledged
        assert announced, "the item was not stored"
        servers.start_mongo()
    # Everything was acknowledged before the crash: nothing will be retried, so there is
    # nothing to wait for beyond the restart.
    report = settled(redis, items, sent=sent, expected_dead=[], gateway=stack.get, timeout=10)
    assert len(report.stored) == 3
    redis.close()
