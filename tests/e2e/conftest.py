"""A running stack for end-to-end tests: the four services as real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis as redis_sync
from pymongo import MongoClient

from newsflow_tools import embedded
from newsflow_tools.runner import MODULES
from tests.helpers import eventually

#: The repository root: ``python -m tests...`` runs from here.
REPO = Path(__file__).resolve().parents[2]


@dataclass
class Stack:
    """Services started against the session's servers, each test with its own database."""

    redis_url: str
    mongodb_url: str
    database: str
    logs: Path
    gateway_port: int = 0
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            REDIS_URL=self.redis_url,
            MONGODB_URL=self.mongodb_url,
            MONGODB_DATABASE=self.database,
            NEWSFLOW_RECLAIM_IDLE_MS="1500",
            NEWSFLOW_POLL_MS="100",
            NEWSFLOW_LOG_LEVEL="INFO",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def start(self, name: str, service: str, **extra: str) -> subprocess.Popen[bytes]:
        """Start ``service`` as process ``name`` (its consumer name too)."""
        if service == "gateway":
            self.gateway_port = embedded.free_port()
            extra.setdefault("GATEWAY_PORT", str(self.gateway_port))
            # One index folder per gateway process name: a restart reuses its own.
            extra.setdefault("NEWSFLOW_INDEX_DIR", str(self.logs / f"index-{name}"))
        extra.setdefault("NEWSFLOW_CONSUMER_NAME", name)
        log = (self.logs / f"{name}.log").open("ab")
        # A fault (tests.faults) runs the service through the test-only entry point.
        command = (
            ["-m", "tests.e2e.faulty_service", service]
            if "NEWSFLOW_FAULT" in extra
            else ["-m", MODULES[service]]
        )
        proc = subprocess.Popen(
            [sys.executable, *command],
            cwd=REPO,
            env=self.env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.procs[name] = proc
        if service == "gateway":
            eventually(
                lambda: (
                    httpx.get(f"{self.gateway}/readyz").status_code == 200
                    if proc.poll() is None
                    else self._died(name)
                ),
                timeout=30,
            )
        return proc

    def _died(self, name: str) -> bool:
        raise AssertionError(f"{name} died:\n{self.log(name)}")

    def start_all(self) -> None:
        for service in ("ingest", "enrichment", "storage", "gateway"):
            self.start(f"{service}-1", service)

    def start_with_poisoned_enrichment(self) -> None:
        """The four services, with an enrichment that fails every item whose title
        holds POISON: after two deliveries such an item is a dead letter. The fix is
        to stop ``enrichment-bad`` and start a healthy one."""
        self.start("ingest-1", "ingest")
        self.start(
            "enrichment-bad",
            "enrichment",
            NEWSFLOW_FAULT="fail_on:POISON",
            NEWSFLOW_MAX_DELIVERIES="2",
            NEWSFLOW_RECLAIM_IDLE_MS="500",
        )
        self.start("storage-1", "storage")
        self.start("gateway-1", "gateway")

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")[-5000:]

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        proc = self.procs.pop(name)
        if proc.poll() is None:
            proc.send_signal(sig)
        return proc.wait(timeout=timeout)

    def stop_all(self) -> None:
        for name in list(self.procs):
            try:
                self.stop(name)
            except subprocess.TimeoutExpired:
                self.procs.get(name, subprocess.Popen(["true"])).kill()

    def redis(self) -> redis_sync.Redis:
        return redis_sync.Redis.from_url(self.redis_url)

    def items(self) -> Any:
        client: MongoClient[dict[str, Any]] = MongoClient(self.mongodb_url, tz_aware=True)
        return client[self.database]["items"]

    def get(self, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{self.gateway}{path}", params=params, timeout=30)


@pytest.fixture(scope="module")
def module_stack(
    redis_server: embedded.EmbeddedServer,
    mongo_server: embedded.EmbeddedServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """One running stack shared by a module's read-only tests."""
    client = redis_sync.Redis.from_url(redis_server.url)
    client.flushall()
    client.close()
    s = Stack(
        redis_url=redis_server.url,
        mongodb_url=mongo_server.url,
        database=f"m_{uuid.uuid4().hex[:12]}",
        logs=tmp_path_factory.mktemp("logs"),
    )
    s.start_all()
    yield s
    s.stop_all()


@pytest.fixture
def stack(
    redis_url: str,
    mongo_server: embedded.EmbeddedServer,
    mongo_db_name: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Iterator[Stack]:
    s = Stack(
        redis_url=redis_url, mongodb_url=mongo_server.url, database=mongo_db_name, logs=tmp_path
    )
    yield s
    s.stop_all()
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        for path in sorted(tmp_path.glob("*.log")):
            sys.stderr.write(f"--- {path.name}\n{path.read_text(errors='replace')[-3000:]}\n")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
