"""``newsflow run``: the whole stack on one machine, supervised.

Starts embedded Redis and SecantusDB (unless ``REDIS_URL`` / ``MONGODB_URL`` point
elsewhere), the four services as separate processes (with replicas), loads the
sample newsroom, prints the URLs, and then supervises: a service that dies is
restarted with back-off and the restart is logged, like a compose restart policy.
A service that exits with EX_CONFIG (78: it cannot start with its configuration) is
not restarted; the runner prints its last lines and stops the stack, exiting 78
(:meth:`Supervisor.check` says why). Ctrl-C stops everything cleanly.

While it runs, ``<data_dir>/stack.json`` names its Redis, MongoDB and gateway, so
the other ``newsflow`` commands find them (:mod:`newsflow_tools.stack_state`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import orjson
from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.runtime.service import EX_CONFIG
from newsflow_tools import embedded, stack_state
from newsflow_tools.push import print_report, push

SAMPLE = Path(__file__).parent / "data" / "osce-newsroom-sample.txt"
SERVICES = ("ingest", "enrichment", "storage", "gateway")
MODULES = {name: f"newsflow_{name}" for name in SERVICES}


def parse_replicas(spec: str) -> dict[str, int]:
    """``"enrichment=2,storage=2"`` → ``{"enrichment": 2, "storage": 2}``."""
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, sep, count = part.partition("=")
        name = name.strip()
        if not sep or name not in SERVICES or name == "gateway":
            raise ValueError(f"bad replica spec {part!r}: use ingest|enrichment|storage=N")
        if not count.strip().isdigit() or not 1 <= int(count) <= 16:
            raise ValueError(f"bad replica count in {part!r}: 1 to 16")
        out[name] = int(count)
    return out


class RunSettings(BaseSettings):
    """Settings of the local runner."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore", env_file=".env")

    redis_url: str | None = Field(
        default=None, validation_alias=AliasChoices("REDIS_URL", "NEWSFLOW_REDIS_URL")
    )
    mongodb_url: str | None = Field(
        default=None, validation_alias=AliasChoices("MONGODB_URL", "NEWSFLOW_MONGODB_URL")
    )
    gateway_port: int = Field(
        default=8000,
        ge=1,
        le=65535,
        validation_alias=AliasChoices("GATEWAY_PORT", "NEWSFLOW_GATEWAY_PORT"),
    )
    replicas: str = Field(default="", description="e.g. enrichment=2,storage=2")
    data_dir: Path = Field(default=Path(".data"))
    redis_port: int = Field(
        default=6390, ge=1, le=65535, description="Preferred port of the embedded Redis."
    )
    mongodb_port: int = Field(
        default=27017, ge=1, le=65535, description="Preferred port of the embedded SecantusDB."
    )

    @field_validator("replicas")
    @classmethod
    def _replicas(cls, value: str) -> str:
        parse_replicas(value)
        return value


@dataclass
class Managed:
    """One supervised service process."""

    name: str
    service: str
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    next_start: float = 0.0
    started_at: float = 0.0
    #: Where this start's output begins in the log (which keeps earlier runs').
    log_offset: int = 0

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.log_offset = log.tell()
        self.process = subprocess.Popen(
            [sys.executable, "-m", MODULES[self.service]],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.started_at = time.monotonic()

    def last_lines(self, count: int = 10) -> list[str]:
        """The last ``count`` non-blank lines this start wrote to its log."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self.log_offset)
                text = log.read().decode("utf-8", "replace")
        except OSError:
            return []
        return [line for line in text.splitlines() if line.strip()][-count:]


@dataclass
class Supervisor:
    """Starts, watches and restarts service processes."""

    out: TextIO
    procs: list[Managed] = field(default_factory=list)
    #: Services that exited with EX_CONFIG: down for good, reported once.
    config_failed: list[Managed] = field(default_factory=list)

    def add(self, managed: Managed) -> None:
        self.procs.append(managed)
        managed.start()

    def check(self) -> None:
        """Restart a service that died, with back-off; never one that exited EX_CONFIG.

        A crash may pass (Redis was away, a bug met one bad entry), so it is
        restarted. Exit code 78 means the service read its configuration and cannot
        start with it (an invalid setting, a missing taxonomy or topic model): the
        same environment fails the same way on every restart, and a restart loop
        only buries the one line that says why under "restarting in 30s". So it is
        not restarted; its last lines are printed once, and :func:`run` stops the
        whole stack, exiting 78, rather than keep the other services running: this
        is a one-machine stack, and without one stage the pipeline accepts items at
        the door that never become stories, which looks like success until someone
        searches. Stopping puts the reason at the end of the output, where an
        operator looks; fixing it means changing the environment and running again,
        which restarts everything anyway.
        """
        now = time.monotonic()
        for proc in self.procs:
            assert proc.process is not None
            code = proc.process.poll()
            if code is None:
                if now - proc.started_at > 60:
                    proc.restarts = 0  # stable again: reset the back-off
                continue
            if code == EX_CONFIG:
                if proc not in self.config_failed:
                    self.config_failed.append(proc)
                    self._report_config_failure(proc)
                continue
            if proc.next_start == 0.0:
                delay = min(2.0**proc.restarts, 30.0)
                proc.next_start = now + delay
                self.out.write(
                    f"[supervisor] {proc.name} exited with code {code}; "
                    f"restarting in {delay:.0f}s (log: {proc.log_path})\n"
                )
                self.out.flush()
            elif now >= proc.next_start:
                proc.restarts += 1
                proc.next_start = 0.0
                proc.start()
                self.out.write(f"[supervisor] restarted {proc.name} (restart #{proc.restarts})\n")
                self.out.flush()

    def _report_config_failure(self, proc: Managed) -> None:
        lines = proc.last_lines()
        self.out.write(
            f"[supervisor] {proc.name} exited with code {EX_CONFIG}: it cannot start with "
            "its configuration; not restarting it (the same configuration fails again). "
            f"Its last lines (log: {proc.log_path}):\n"
        )
        self.out.write("".join(f"    {line}\n" for line in lines) or "    (nothing)\n")
        self.out.flush()

    def stop(self, timeout: float = 20.0) -> None:
        for proc in self.procs:
            if proc.process and proc.process.poll() is None:
                proc.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            if proc.process is None:
                continue
            try:
                proc.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                proc.process.kill()
                proc.process.wait()


def http_json(url: str, timeout: float = 5.0) -> Any:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - our own URL
        return orjson.loads(response.read())


def wait_until(predicate: Any, timeout: float, interval: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if predicate():
                return True
        time.sleep(interval)
    return False


def service_env(base: Mapping[str, str], *, redis_url: str, mongodb_url: str) -> dict[str, str]:
    env = dict(base)
    env.update(REDIS_URL=redis_url, MONGODB_URL=mongodb_url, PYTHONUNBUFFERED="1")
    return env


def run(settings: RunSettings, out: TextIO = sys.stdout, *, seed: bool = True) -> int:
    """Run the stack until interrupted. Returns the process exit code."""
    data = settings.data_dir.resolve()
    state_path = stack_state.path_in(data)
    other = stack_state.read(state_path)
    if other is not None and other.pid != os.getpid() and _alive(other.pid):
        out.write(
            f"another newsflow run (pid {other.pid}) is using {data} (see {state_path}); "
            "stop it first, or give this one its own NEWSFLOW_DATA_DIR\n"
        )
        return 1

    stop = False

    def on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    logs = data / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    servers: list[embedded.EmbeddedServer] = []
    supervisor = Supervisor(out)
    try:
        redis_url = settings.redis_url
        if not redis_url:
            server = embedded.start_redis(
                data / "redis", port=embedded.free_port(settings.redis_port)
            )
            servers.append(server)
            redis_url = server.url
            out.write(f"embedded Redis (redis-server, AOF on) at {redis_url}\n")
        mongodb_url = settings.mongodb_url
        if not mongodb_url:
            out.write("starting embedded SecantusDB (MongoDB wire protocol)...\n")
            out.flush()
            server = embedded.start_secantus(
                data / "mongo", port=embedded.free_port(settings.mongodb_port)
            )
            servers.append(server)
            mongodb_url = server.url
            out.write(f"embedded SecantusDB at {mongodb_url}\n")
        env = service_env(os.environ, redis_url=redis_url, mongodb_url=mongodb_url)
        replicas = parse_replicas(settings.replicas)
        for service in ("ingest", "enrichment", "storage"):
            for n in range(1, replicas.get(service, 1) + 1):
                name = f"{service}-{n}"
                port = embedded.free_port()
                supervisor.add(
                    Managed(
                        name,
                        service,
                        {
                            **env,
                            "NEWSFLOW_CONSUMER_NAME": f"{name}-{os.getpid()}",
                            "NEWSFLOW_HTTP_PORT": str(port),
                        },
                        logs / f"{name}.log",
                    )
                )
                out.write(f"started {name} (health and metrics on http://127.0.0.1:{port})\n")
        gateway_url = f"http://127.0.0.1:{settings.gateway_port}"
        supervisor.add(
            Managed(
                "gateway",
                "gateway",
                {
                    **env,
                    "GATEWAY_PORT": str(settings.gateway_port),
                    "NEWSFLOW_INDEX_DIR": str(data / "index" / "gateway-1"),
                },
                logs / "gateway.log",
            )
        )
        out.flush()
        if not _wait_for_gateway(gateway_url, out, supervisor):
            if supervisor.config_failed:
                return _config_stop(out)
            out.write(f"the gateway did not become ready; see {logs / 'gateway.log'}\n")
            return 1
        stack_state.write(
            state_path,
            stack_state.StackState(
                pid=os.getpid(),
                started_at=datetime.now(UTC),
                redis_url=redis_url,
                mongodb_url=mongodb_url,
                gateway_url=gateway_url,
            ),
        )
        if seed:
            _seed(redis_url, gateway_url, out, supervisor)
        if supervisor.config_failed:
            return _config_stop(out)
        out.write(
            "\nNewsflow is running.\n"
            f"  Newsroom: {gateway_url}/   (open it in a browser: search, stories, offices)\n"
            f"  Console:  {gateway_url}/ops   (operators; log in with an admin key)\n"
            f"  API:      {gateway_url}/v1/items   (docs: {gateway_url}/docs)\n"
            f"  Redis:    {redis_url}\n"
            f"  MongoDB:  {mongodb_url}\n"
            f"  Logs:     {logs}\n"
            f"  State:    {state_path}   (newsflow status, push, dlq... find the stack here)\n"
            "Press Ctrl-C to stop.\n"
        )
        out.flush()
        while not stop:
            supervisor.check()
            if supervisor.config_failed:
                return _config_stop(out)
            time.sleep(0.5)
        out.write("\nstopping...\n")
        return 0
    finally:
        stack_state.remove(state_path, os.getpid())
        supervisor.stop()
        for server in reversed(servers):
            server.stop()
        out.write("stopped.\n")
        out.flush()


def _config_stop(out: TextIO) -> int:
    """Stop the stack because a service cannot start with its configuration."""
    out.write(
        "\na service cannot start with its configuration (see above); stopping the "
        "stack: fix it and run again\n"
    )
    return EX_CONFIG


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def _readiness(url: str) -> dict[str, Any]:
    """``/readyz``'s body, whether it answers 200 or 503."""
    try:
        body = http_json(f"{url}/readyz")
    except urllib.error.HTTPError as exc:
        body = orjson.loads(exc.read())
    return body if isinstance(body, dict) else {}


def _wait_for_gateway(
    url: str, out: TextIO, supervisor: Supervisor | None = None, quiet_s: float = 60
) -> bool:
    """Wait until the gateway is ready. A rebuild of its search index from a large
    store takes longer than a minute: keep waiting while the rebuild moves.

    The services are supervised meanwhile; False at once when one cannot start with
    its configuration (the gateway among them: it would never become ready).
    """
    deadline, seen = time.monotonic() + quiet_s, None
    while time.monotonic() < deadline:
        if supervisor is not None:
            supervisor.check()
            if supervisor.config_failed:
                return False
        with contextlib.suppress(OSError, ValueError):
            body = _readiness(url)
            if body.get("status") == "ready":
                return True
            progress = (body.get("index") or {}).get("progress") or {}
            done = progress.get("done")
            if done is not None and done != seen:
                seen, deadline = done, time.monotonic() + quiet_s
                out.write(
                    f"search index: rebuilding from MongoDB, {done} of about "
                    f"{progress.get('total')} stories\n"
                )
                out.flush()
        time.sleep(0.5)
    return False


def _searchable(gateway_url: str) -> set[str]:
    """Every story id the gateway's search finds (newest first, page by page)."""
    found: set[str] = set()
    cursor = ""
    while True:
        page = http_json(
            f"{gateway_url}/v1/items?limit=100" + (f"&cursor={cursor}" if cursor else "")
        )
        found.update(item["id"] for item in page["items"])
        cursor = page.get("next_cursor") or ""
        if not cursor:
            return found


def _seed(
    redis_url: str, gateway_url: str, out: TextIO, supervisor: Supervisor | None = None
) -> None:
    """Push the sample newsroom and wait until its stories are queryable.

    The services are supervised meanwhile; the wait ends at once when one cannot
    start with its configuration (the stories would never arrive).
    """
    result = parse_newsroom(SAMPLE.read_text(encoding="utf-8"))
    report = push(result, redis_url)
    out.write(f"loaded the sample newsroom ({SAMPLE.name}): ")
    print_report(report, out)
    expected = {a.item_id for a in report.accepted}

    def arrived() -> bool:
        if supervisor is not None:
            supervisor.check()
            if supervisor.config_failed:
                return True
        return expected <= _searchable(gateway_url)

    if wait_until(arrived, 60, interval=0.5):
        if supervisor is not None and supervisor.config_failed:
            return
        out.write(f"all {len(expected)} sample stories are stored and searchable\n")
    else:
        out.write("the sample stories did not all arrive within 60 s; check the logs\n")
