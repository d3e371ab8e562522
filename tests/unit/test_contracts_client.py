"""An ordinary OpenAPI generator makes a working client from the gateway's document.

``openapi-python-client`` generates a package from ``/openapi.json``; the test then
publishes with a key (the bearer scheme the document declares) and reads through the
generated functions, against the in-process gateway. Skipped, saying so, where the
generator is not installed (it is not yet a ``[dev]`` dependency).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, cast

import httpx
import pytest

from newsflow import streams
from tests.unit.gateway.conftest import Start
from tests.unit.gateway.conftest import start as start  # the in-process gateway fixture

pytest.importorskip("openapi_python_client", reason="pip install openapi-python-client")

PACKAGE = "newsflow_generated_client"


def _generate(spec: dict[str, Any], where: Path) -> None:
    path = where / "openapi.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(path),
            "--meta",
            "none",
            "--output-path",
            str(where / PACKAGE),
        ],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (where / PACKAGE / "client.py").exists(), result.stdout


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def _load(name: str) -> ModuleType:
    return importlib.import_module(f"{PACKAGE}.{name}")


def _story() -> dict[str, Any]:
    when = datetime(2021, 1, 7, tzinfo=UTC)
    return {
        "_id": "b" * 32,
        "title": "Mission opens an office",
        "published_at": when,
        "sort_at": when,
        "topics": [],
        "_v": 1,
    }


async def test_a_generated_client_publishes_and_reads(start: Start, generated: Path) -> None:
    async with start() as gw:
        spec = (await gw.client.get("/openapi.json")).json()
        _generate(spec, generated)
        client_module = _load("client")
        publish = _load("api.publishing.publish_v1_items_post")
        list_items = _load("api.items.list_items_v1_items_get")
        get_item = _load("api.items.get_item_v1_items_item_id_get")
        body_model = _load("models.publish_v1_items_post_json_body")

        def client(token: str) -> Any:
            return client_module.AuthenticatedClient(
                base_url="http://testserver",
                token=token,
                httpx_args={"transport": httpx.ASGITransport(app=gw.app)},
            )

        # Publishing: the generator sends the ninjs form of the body; the key is the
        # bearer token the document declares.
        item = body_model.PublishV1ItemsPostJsonBody.from_dict(
            {"headline": "OSCE Mission opens an office", "versioncreated": "2021-01-07T10:00:00Z"}
        )
        refused = await publish.asyncio_detailed(client=client("nfk_x_y"), body=item)
        assert refused.status_code == 401
        key = await gw.key("publish")
        accepted = await publish.asyncio_detailed(client=client(key), body=item)
        assert accepted.status_code == 202, accepted.content
        (published,) = accepted.parsed.items
        entries = cast(list[Any], await gw.fakes.redis.xrange(streams.INGEST))
        assert [entry_id.decode() for entry_id, _ in entries] == [published.entry_id]
        sent = json.loads(entries[0][1][streams.ITEM_FIELD.encode()])
        assert sent["title"] == "OSCE Mission opens an office"

        # Reading: a story the pipeline stored, through the generated list and get.
        await gw.store(_story())
        reader = client(await gw.key("read"))
        listed = await list_items.asyncio_detailed(client=reader, q="office")
        assert listed.status_code == 200, listed.content
        assert [found.id for found in listed.parsed.items] == ["b" * 32]
        one = await get_item.asyncio_detailed(client=reader, item_id="b" * 32)
        assert one.status_code == 200, one.content
        assert one.parsed.title == "Mission opens an office"
