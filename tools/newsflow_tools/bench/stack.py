"""The servers and service processes a benchmark runs against.

The bench measures the real thing: the same service entry points ``newsflow run``
starts, as separate processes, on the embedded redis-server and SecantusDB (or on
``REDIS_URL`` / ``MONGODB_URL``). Each configuration gets its own database and a
flushed Redis, so runs do not see each other's data.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
from pymongo import MongoClient

from newsflow.runtime.redis_factory import create_redis_sync
from newsflow_tools import embedded
from newsflow_tools.runner import MODULES, service_env


@dataclass
class Servers:
    """Redis and MongoDB for the whole bench; the embedded ones are ours to stop."""

    redis_url: str
    mongodb_url: str
    owned: list[embedded.EmbeddedServer] = field(default_factory=list)
    workdir: Path = Path()
    _generation: int = 0

    def pids(self) -> dict[str, int]:
        """Server processes we started (their CPU time is reported too)."""
        return {s.name: s.pid for s in self.owned}

    def versions(self) -> dict[str, str]:
        client = create_redis_sync(self.redis_url)
        try:
            info: Any = client.info("server")
        finally:
            client.close()
        mongo: MongoClient[dict[str, Any]] = MongoClient(
            self.mongodb_url, serverSelectionTimeoutMS=5000
        )
        try:
            build = mongo.admin.command("buildInfo")
        finally:
            mongo.close()
        return {
            "redis": str(info.get("redis_version")),
            "mongodb_wire_server": str(build.get("version")),
            "redis_embedded": str(any(s.name == "redis-server" for s in self.owned)),
            "mongodb_embedded": str(any(s.name == "secantusd" for s in self.owned)),
        }

    def flush_redis(self) -> None:
        client = create_redis_sync(self.redis_url)
        try:
            client.flushdb()
        finally:
            client.close()

    def fresh_database(self, name: str) -> None:
        """Start a phase on an empty store. On a server we were given, drop the
        database. Our own SecantusDB is replaced by a new one on new files instead:
        it takes half a minute to drop 20,000 documents, and a server still holding
        the earlier phases' data writes measurably slower, which would make the
        phases incomparable."""
        for k, server in enumerate(self.owned):
            if server.name == "secantusd":
                server.stop()
                self._generation += 1
                fresh = embedded.start_secantus(self.workdir / f"mongo-{self._generation}")
                self.owned[k] = fresh
                self.mongodb_url = fresh.url
                shutil.rmtree(self.workdir / f"mongo-{self._generation - 1}", ignore_errors=True)
                return
        self.drop_database(name)

    def drop_database(self, name: str) -> None:
        """Remove a phase's database from a server we were given (ours is thrown away)."""
        if any(s.name == "secantusd" for s in self.owned):
            return
        mongo: MongoClient[dict[str, Any]] = MongoClient(self.mongodb_url)
        try:
            mongo.drop_database(name)
        finally:
            mongo.close()

    def stop(self) -> None:
        for server in reversed(self.owned):
            server.stop()


def start_servers(workdir: Path, redis_url: str | None, mongodb_url: str | None) -> Servers:
    """The given URLs, or embedded servers in ``workdir`` (Redis without AOF: the
    bench measures the pipeline, and ``newsflow run`` fsyncs only once a second)."""
    owned: list[embedded.EmbeddedServer] = []
    try:
        if not redis_url:
            owned.append(embedded.start_redis(workdir / "redis", appendonly=False))
            redis_url = owned[-1].url
        if not mongodb_url:
            owned.append(embedded.start_secantus(workdir / "mongo-0"))
            mongodb_url = owned[-1].url
    except BaseException:
        for server in owned:
            server.stop()
        raise
    return Servers(redis_url=redis_url, mongodb_url=mongodb_url, owned=owned, workdir=workdir)


@dataclass
class Stack:
    """The three workers (with replicas) and the gateway, as real processes."""

    servers: Servers
    database: str
    replicas: dict[str, int]
    logs: Path
    batch_size: int = 100
    gateway_port: int = 0
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    health_ports: dict[str, int] = field(default_factory=dict)
    index_dir: Path | None = None

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    def _env(self, **extra: str) -> dict[str, str]:
        env = service_env(
            os.environ, redis_url=self.servers.redis_url, mongodb_url=self.servers.mongodb_url
        )
        env.update(
            MONGODB_DATABASE=self.database,
            NEWSFLOW_LOG_LEVEL="WARNING",
            NEWSFLOW_BATCH_SIZE=str(self.batch_size),
            # The bench pushes 20,000 items at once; readiness by lag is not the point.
            NEWSFLOW_READY_MAX_LAG="1000000",
        )
        env.update(extra)
        return env

    def _spawn(self, name: str, service: str, **extra: str) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        log = (self.logs / f"{self.database}-{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [sys.executable, "-m", MODULES[service]],
            env=self._env(**extra),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def start(self, timeout: float = 60.0) -> None:
        for service in ("ingest", "enrichment", "storage"):
            for n in range(1, self.replicas.get(service, 1) + 1):
                name = f"{service}-{n}"
                port = embedded.free_port()
                self.health_ports[name] = port
                self._spawn(
                    name,
                    service,
                    NEWSFLOW_CONSUMER_NAME=f"bench-{name}-{os.getpid()}",
                    NEWSFLOW_HTTP_PORT=str(port),
                )
        self.start_gateway()
        self._wait_ready([f"http://127.0.0.1:{p}/readyz" for p in self.health_ports.values()])
        self._wait_ready([f"{self.gateway}/readyz"], timeout)

    def start_gateway(self, **extra: str) -> None:
        """The gateway, on its own index folder (``NEWSFLOW_INDEX_DIR``; by default a new
        one beside the logs, never the ``.data/index`` of ``newsflow run``)."""
        self.gateway_port = embedded.free_port()
        extra.setdefault(
            "NEWSFLOW_INDEX_DIR",
            str(self.logs.parent / f"index-{self.database}-{self.gateway_port}"),
        )
        self.index_dir = Path(extra["NEWSFLOW_INDEX_DIR"])
        self._spawn("gateway", "gateway", GATEWAY_PORT=str(self.gateway_port), **extra)

    def wait_gateway(self, timeout: float = 60.0) -> None:
        self._wait_ready([f"{self.gateway}/readyz"], timeout)

    def _wait_ready(self, urls: list[str], timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        for url in urls:
            while True:
                for name, proc in self.procs.items():
                    if proc.poll() is not None:
                        raise RuntimeError(f"{name} exited; see {self.logs}")
                try:
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{url} not ready after {timeout:.0f} s; see {self.logs}")
                time.sleep(0.2)

    def cpu_seconds(self, extra: dict[str, int] | None = None) -> dict[str, float]:
        """User plus system CPU seconds so far of each service process (and of the
        server processes in ``extra``)."""
        pids = {name: proc.pid for name, proc in self.procs.items()}
        pids.update(extra or {})
        out: dict[str, float] = {}
        for name, pid in pids.items():
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:
                continue
            out[name] = times.user + times.system
        return out

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
