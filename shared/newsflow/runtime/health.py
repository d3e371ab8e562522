"""A minimal HTTP endpoint for workers: /healthz, /readyz and /metrics.

Workers are not web services; a few lines of asyncio serve the three paths that
orchestrators and Prometheus need, without a web framework taking over signals.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import orjson

ReadinessCheck = Callable[[], Awaitable[dict[str, str]]]


class HealthServer:
    """Serves liveness, readiness (a dict of failing checks) and metrics."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        alive: Callable[[], bool],
        readiness: ReadinessCheck,
        metrics: Callable[[], bytes],
    ) -> None:
        self._host, self._port = host, port
        self._alive, self._readiness, self._metrics = alive, readiness, metrics
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, self._host, self._port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=5)
            path = request.split(b" ", 2)[1].split(b"?", 1)[0].decode("ascii", "replace")
            status, ctype, body = await self._route(path)
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, IndexError):
            status, ctype, body = 400, "text/plain", b"bad request\n"
        head = (
            f"HTTP/1.1 {status} {'OK' if status == 200 else 'Error'}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(ConnectionError):
            writer.write(head.encode() + body)
            await writer.drain()
        writer.close()

    async def _route(self, path: str) -> tuple[int, str, bytes]:
        if path == "/healthz":
            ok = self._alive()
            return (
                (200 if ok else 503),
                "application/json",
                orjson.dumps({"status": "ok" if ok else "dead"}),
            )
        if path == "/readyz":
            failing = await self._readiness()
            return (
                (200 if not failing else 503),
                "application/json",
                orjson.dumps(
                    {"status": "ready" if not failing else "not ready", "failing": failing}
                ),
            )
        if path == "/metrics":
            return 200, "text/plain; version=0.0.4; charset=utf-8", self._metrics()
        return 404, "application/json", b'{"status": "not found"}'
