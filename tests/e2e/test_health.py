"""Health and metrics endpoints of every service, on real processes and real servers.

Workers (ingest, enrichment, storage) serve /healthz, /readyz and /metrics on
``NEWSFLOW_HTTP_PORT``; the gateway serves /healthz and /readyz next to its API.
Readiness follows the dependencies: storage and the gateway answer 503 while their
MongoDB is stopped, and 200 again once it is back.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families

from newsflow import streams
from tests.e2e.checker import settled, story_id
from tests.e2e.conftest import Stack
from tests.e2e.test_faults import OwnedServers, make_item, push, start_pipeline
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

WORKERS = {"ingest-1": "ingest", "enrichment-1": "enrichment", "storage-1": "storage"}
GROUP_OF = {
    "ingest": (streams.INGEST, "ingest"),
    "enrichment": (streams.INGESTED, "enrichment"),
    "storage": (streams.ENRICHED, "storage"),
}
#: Metric families (name, type) every worker's /metrics must expose. Counters are
#: exposed as ``<name>_total``, the histogram as ``_bucket``/``_count``/``_sum``.
METRICS = {
    ("newsflow_items_in", "counter"),
    ("newsflow_items_out", "counter"),
    ("newsflow_items_failed", "counter"),
    ("newsflow_dead_letters", "counter"),
    ("newsflow_handler_seconds", "histogram"),
    ("newsflow_group_lag", "gauge"),
    ("newsflow_group_pending", "gauge"),
}
POISON = "HEALTH-POISON"


@dataclass
class Health:
    servers: OwnedServers
    stack: Stack
    ports: dict[str, int]
    sent: list[str]
    poison: str

    def worker(self, name: str, path: str) -> httpx.Response:
        return httpx.get(f"http://127.0.0.1:{self.ports[name]}{path}", timeout=30)

    def scrape(self, name: str) -> list[Metric]:
        response = self.worker(name, "/metrics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        return list(text_string_to_metric_families(response.text))

    def samples(self, name: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        return {
            (s.name, tuple(sorted(s.labels.items()))): s.value
            for family in self.scrape(name)
            for s in family.samples
        }


@pytest.fixture(scope="module")
def health(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Health]:
    """Three workers with their HTTP endpoint and the gateway, on servers of their own;
    three good items and one that enrichment always fails (dead after 1 delivery)."""
    root = tmp_path_factory.mktemp("health")
    servers = OwnedServers(root / "servers", appendonly=False)
    servers.start_redis()
    servers.start_mongo()
    logs = root / "logs"
    logs.mkdir()
    stack = Stack(servers.redis_url, servers.mongodb_url, "health", logs)
    try:
        ports = start_pipeline(
            stack,
            http=True,
            per_service={
                "enrichment": {
                    "NEWSFLOW_FAULT": f"fail_on:{POISON}",
                    "NEWSFLOW_MAX_DELIVERIES": "1",
                }
            },
        )
        redis = stack.redis()
        poison = make_item("health", 9, title=f"{POISON} item")
        sent = push(redis, [make_item("health", n) for n in range(3)] + [poison])
        settled(
            redis, stack.items(), sent=sent, expected_dead=[story_id(poison)], gateway=stack.get
        )
        redis.close()
        yield Health(servers, stack, ports, sent, story_id(poison))
    except BaseException:
        for path in sorted(logs.glob("*.log")):
            sys.stderr.write(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}\n")
        raise
    finally:
        stack.stop_all()
        servers.stop()


@pytest.mark.timeout(120)
def test_every_service_answers_healthz_and_readyz(health: Health) -> None:
    for name in WORKERS:
        live = health.worker(name, "/healthz")
        assert live.status_code == 200, (name, live.text)
        assert live.json() == {"status": "ok"}
        ready = health.worker(name, "/readyz")
        assert ready.status_code == 200, (name, ready.text)
        assert ready.json() == {"status": "ready", "failing": {}}
        assert health.worker(name, "/nope").status_code == 404
    assert health.stack.get("/healthz").json() == {"status": "ok"}
    ready = health.stack.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert (body["status"], body["failing"]) == ("ready", {})
    assert body["index"]["state"] == "ready"
    assert body["index"]["stories"] == 3


@pytest.mark.timeout(60)
def test_worker_metrics_count_items_failures_and_dead_letters(health: Health) -> None:
    for name, service in WORKERS.items():
        families = {(f.name, f.type) for f in health.scrape(name)}
        assert families >= METRICS, (name, sorted(METRICS - families))
        samples = health.samples(name)

        def value(metric: str, service: str = service, samples: dict = samples) -> float:
            # A labelled counter has no sample before its first increment.
            return samples.get((metric, (("service", service),)), 0.0)

        # Ingest and enrichment read all four items; the poison never reached storage.
        handled = 3 if service == "storage" else 4
        assert value("newsflow_items_in_total") == handled, name
        assert value("newsflow_handler_seconds_count") >= 1, name
        if service == "enrichment":
            assert value("newsflow_items_out_total") == 3
            assert value("newsflow_items_failed_total") == 1
            assert value("newsflow_dead_letters_total") == 1
        else:
            assert value("newsflow_items_out_total") == handled, name
            assert value("newsflow_items_failed_total") == 0, name
            assert value("newsflow_dead_letters_total") == 0, name
        stream, group = GROUP_OF[service]
        pending = ("newsflow_group_pending", (("group", group), ("stream", stream)))
        eventually(lambda name=name, pending=pending: health.samples(name)[pending] == 0)


@pytest.mark.timeout(60)
def test_worker_lag_gauge_is_zero_once_drained(health: Health) -> None:
    """``newsflow_group_lag`` must say 0 when every entry was delivered. On Redis 6.2
    (the embedded redis-server) XINFO GROUPS has no ``lag`` field; the gauge must be
    computed then, as ``newsflow status`` does, not reported as -1."""
    for name, service in WORKERS.items():
        stream, group = GROUP_OF[service]
        key = ("newsflow_group_lag", (("group", group), ("stream", stream)))
        try:
            eventually(lambda name=name, key=key: health.samples(name)[key] == 0, timeout=5)
        except AssertionError:
            reported = health.samples(name).get(key)
            pytest.fail(f"{name}: newsflow_group_lag is {reported} with nothing undelivered")


@pytest.mark.timeout(60)
def test_gateway_serves_prometheus_metrics(health: Health) -> None:
    """Every service, the gateway too, answers /metrics with Prometheus text."""
    response = health.stack.get("/metrics")
    assert response.status_code == 200, f"gateway /metrics answered {response.status_code}"
    families = list(text_string_to_metric_families(response.text))
    assert families, "gateway /metrics is empty"


@pytest.mark.timeout(120)
def test_readiness_503_while_mongodb_is_down(health: Health) -> None:
    health.servers.stop_mongo()
    try:
        # Liveness does not depend on MongoDB; readiness of its users does.
        storage = health.worker("storage-1", "/readyz")
        assert storage.status_code == 503, storage.text
        assert storage.json()["status"] == "not ready"
        assert set(storage.json()["failing"]) == {"mongodb"}
        gateway = health.stack.get("/readyz")
        assert gateway.status_code == 503, gateway.text
        assert set(gateway.json()["failing"]) == {"mongodb"}
        assert health.worker("storage-1", "/healthz").status_code == 200
        assert health.stack.get("/healthz").status_code == 200
        for name in ("ingest-1", "enrichment-1"):
            assert health.worker(name, "/readyz").status_code == 200, name
    finally:
        health.servers.start_mongo()
    eventually(lambda: health.worker("storage-1", "/readyz").status_code == 200, timeout=30)
    eventually(lambda: health.stack.get("/readyz").status_code == 200, timeout=30)
