"""``NEWSFLOW_MAX_LIVE_CLIENTS`` holds under concurrent opens: each request takes its
slot before it awaits anything, and gives it back however its stream ends."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import FastAPI

from tests.unit.gateway.conftest import Start


class Client:
    """One raw ASGI request to ``/v1/stream``: its status once the answer starts, and
    a disconnect to send when the test is done with it."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.started = asyncio.Event()
        self.gone = asyncio.Event()
        self.status = 0

    async def receive(self) -> dict[str, Any]:
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.started.set()

    async def run(self) -> None:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/v1/stream",
            "raw_path": b"/v1/stream",
            "root_path": "",
            "query_string": b"",
            "headers": [(b"host", b"testserver"), (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", 1234),
            "server": ("testserver", 80),
            "state": {},
        }
        await self.app(scope, self.receive, self.send)


async def test_concurrent_opens_never_exceed_the_limit_and_every_slot_comes_back(
    start: Start,
) -> None:
    async with start(max_live_clients=2) as gw:
        clients = [Client(gw.app) for _ in range(8)]
        tasks = [asyncio.create_task(c.run()) for c in clients]
        await asyncio.wait_for(asyncio.gather(*(c.started.wait() for c in clients)), 30)
        statuses = sorted(c.status for c in clients)
        assert statuses == [200, 200] + [503] * 6
        hub = gw.app.state.gateway.live
        assert hub.clients == 2
        for c in clients:
            c.gone.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 30)
        assert hub.clients == 0
        # The slots are free again: a new client is let in.
        again = Client(gw.app)
        task = asyncio.create_task(again.run())
        await asyncio.wait_for(again.started.wait(), 30)
        assert again.status == 200
        again.gone.set()
        await asyncio.wait_for(task, 30)
        assert hub.clients == 0
