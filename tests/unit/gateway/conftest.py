"""Run the gateway in-process: ``create_app`` with fake clients, its lifespan run,
and an httpx client on ``ASGITransport``."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from newsflow import streams
from newsflow.events import ItemStored
from newsflow.runtime.keys import API_KEYS, new_key
from newsflow.runtime.mongo import ITEMS
from newsflow_gateway.app import create_app
from newsflow_gateway.settings import GatewaySettings
from tests.unit.gateway.fakes import Fakes


@dataclass
class Gateway:
    app: FastAPI
    client: httpx.AsyncClient
    fakes: Fakes

    async def store(self, doc: dict[str, Any]) -> None:
        """Store ``doc`` as storage would: write it to the (fake) store, announce it on
        news:stored, and wait until the gateway's search index has committed it."""
        await self.fakes.mongo.db[ITEMS].insert_one(doc)
        event = ItemStored(
            event_id=uuid.uuid4().hex,
            correlation_id=uuid.uuid4().hex,
            item_id=doc["_id"],
            copy_key="test",
            revision=1,
            created=True,
        )
        entry_id = await self.fakes.redis.xadd(
            streams.STORED, {streams.EVENT_FIELD: event.model_dump_json()}
        )
        search = self.app.state.gateway.search
        for _ in range(500):
            if search.position() == entry_id.decode():
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"the index did not commit {entry_id!r}: {search.status()}")

    async def key(self, *scopes: str, publisher: str = "Test Wire") -> str:
        """A new API key with ``scopes``, stored in the fake key collection."""
        key, doc = new_key(publisher, list(scopes))
        await self.fakes.mongo.db[API_KEYS].insert_one(doc)
        return key


Start = Callable[..., AbstractAsyncContextManager[Gateway]]


@pytest.fixture
def start(tmp_path: Path) -> Start:
    """``async with start(rate_limit_per_minute=2) as gw:`` a gateway with those settings."""

    @asynccontextmanager
    async def run(
        setup: Callable[[FastAPI], None] | None = None,
        fakes: Fakes | None = None,
        **settings: Any,
    ) -> AsyncIterator[Gateway]:
        fakes = fakes or Fakes()
        settings.setdefault("index_dir", tmp_path / "index")
        app = create_app(GatewaySettings(**settings), clients=fakes.clients)
        if setup is not None:
            setup(app)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
        ):
            search = app.state.gateway.search
            for _ in range(500):  # as a deployment waits for /readyz
                if search.status()["state"] == "ready":
                    break
                await asyncio.sleep(0.01)
            yield Gateway(app, client, fakes)

    return run


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body
