"""The gateway publishes its contracts: the bearer-key scheme in OpenAPI, the AsyncAPI
document at ``/asyncapi.json`` and its page at ``/asyncapi``."""

from __future__ import annotations

import json
from typing import Any

from newsflow.contracts.asyncapi import asyncapi_document
from tests.unit.gateway.conftest import Start
from tests.unit.gateway.conftest import start as start  # the in-process gateway fixture

BEARER: list[dict[str, list[str]]] = [{"bearerKey": []}]
OPTIONAL: list[dict[str, list[str]]] = [{}, {"bearerKey": []}]


def _security(spec: dict[str, Any]) -> dict[tuple[str, str], Any]:
    return {
        (path, method): operation.get("security")
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    }


async def test_openapi_declares_the_bearer_key_scheme(start: Start) -> None:
    async with start() as gw:
        spec = (await gw.client.get("/openapi.json")).json()
    scheme = spec["components"]["securitySchemes"]["bearerKey"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert "nfk_" in scheme["bearerFormat"]
    security = _security(spec)
    assert security[("/v1/items", "post")] == BEARER
    assert security[("/v1/admin/dead-letters", "get")] == BEARER
    assert security[("/v1/admin/dead-letters/retry", "post")] == BEARER
    # Reading is open by default: a key may be sent (and a bad one is refused).
    for read in ("/v1/items", "/v1/items/{item_id}", "/v1/facets", "/v1/stream"):
        assert security[(read, "get")] == OPTIONAL, read
    for open_path in ("/healthz", "/readyz", "/asyncapi.json"):
        assert security[(open_path, "get")] is None, open_path
    post = spec["paths"]["/v1/items"]["post"]["responses"]
    assert {"401", "403"} <= set(post)
    assert "application/problem+json" in post["401"]["content"]


async def test_with_read_requires_key_reads_need_the_key_too(start: Start) -> None:
    async with start(read_requires_key=True) as gw:
        key = await gw.key("read")
        spec = (
            await gw.client.get("/openapi.json", headers={"Authorization": f"Bearer {key}"})
        ).json()
    security = _security(spec)
    for read in ("/v1/items", "/v1/facets", "/v1/topics"):
        assert security[(read, "get")] == BEARER, read
    assert security[("/healthz", "get")] is None


async def test_what_the_document_declares_is_what_the_server_does(start: Start) -> None:
    """Every operation declared keyed answers 401 without a key; optional ones do not."""
    async with start() as gw:
        spec = (await gw.client.get("/openapi.json")).json()
        for (path, method), security in _security(spec).items():
            if security is None or "{" in path or path == "/v1/stream":
                continue
            answer = await gw.client.request(method.upper(), path, json={"ids": ["1-0"]})
            if security == BEARER:
                assert answer.status_code == 401, (path, method, answer.text)
            else:
                assert answer.status_code != 401, (path, method, answer.text)
            bad = await gw.client.request(
                method.upper(), path, headers={"Authorization": "Bearer nfk_bad"}
            )
            assert bad.status_code == 401, (path, method)


async def test_the_gateway_serves_the_asyncapi_document(start: Start) -> None:
    async with start() as gw:
        answer = await gw.client.get("/asyncapi.json")
        page = await gw.client.get("/asyncapi")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == json.loads(json.dumps(asyncapi_document()))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "news:stored" in page.text
    assert "ItemStored" in page.text
    assert "<script" not in page.text
    assert "src=" not in page.text
    assert "<link" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]
