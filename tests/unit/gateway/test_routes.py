"""Routes in-process: health, problem details, publish auth, admin dead letters,
OPTIONS and the OpenAPI document."""

from __future__ import annotations

import orjson

from newsflow import streams
from newsflow.events import DeadLetter
from tests.unit.gateway.conftest import Start, assert_problem


async def test_health_and_readiness(start: Start) -> None:
    async with start() as gw:
        assert (await gw.client.get("/healthz")).json() == {"status": "ok"}
        ready = await gw.client.get("/readyz")
        assert ready.status_code == 200
        body = ready.json()
        assert (body["status"], body["failing"]) == ("ready", {})
        assert body["index"]["state"] == "ready"
        assert body["index"]["stories"] == 0
        gw.fakes.mongo.admin.down = True
        down = await gw.client.get("/readyz")
        assert down.status_code == 503
        assert down.json()["failing"] == {"mongodb": "fake MongoDB is down"}
    assert gw.fakes.mongo.closed


async def test_bad_parameters_are_problem_details(start: Start) -> None:
    async with start() as gw:
        limit = assert_problem(await gw.client.get("/v1/items?limit=0"), 422)
        assert [e["field"] for e in limit["errors"]] == ["limit"]
        unknown = assert_problem(await gw.client.get("/v1/items?topic=nope"), 422)
        assert unknown["errors"][0]["field"] == "topic"
        extra = assert_problem(await gw.client.get("/v1/items?colour=red"), 422)
        assert extra["errors"][0]["field"] == "colour"
        missing = assert_problem(await gw.client.get("/v1/items/" + "0" * 32), 404)
        assert missing["instance"] == "/v1/items/" + "0" * 32


async def test_an_echoed_script_stays_inert_json(start: Start) -> None:
    """Problem details echo what the caller sent; they are JSON, never HTML, with
    nosniff and a CSP that forbids any script."""
    async with start() as gw:
        response = await gw.client.get("/v1/items", params={"topic": "<script>alert(1)</script>"})
        body = assert_problem(response, 422)
        assert "<script>alert(1)</script>" in body["detail"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["content-security-policy"].startswith("default-src 'none'")


async def test_publishing_needs_a_key_with_the_publish_scope(start: Start) -> None:
    async with start() as gw:
        anonymous = await gw.client.post("/v1/items", json={"title": "x"})
        assert_problem(anonymous, 401)
        assert anonymous.headers["www-authenticate"] == 'Bearer realm="newsflow"'
        malformed = await gw.client.post(
            "/v1/items", json={}, headers={"Authorization": "Bearer nope"}
        )
        assert assert_problem(malformed, 401)["detail"].startswith("malformed API key")
        unknown = await gw.client.post(
            "/v1/items", json={}, headers={"Authorization": "Bearer nfk_abcdefgh_" + "x" * 32}
        )
        assert_problem(unknown, 401)
        reader = await gw.key("read")
        forbidden = await gw.client.post(
            "/v1/items", json={}, headers={"Authorization": f"Bearer {reader}"}
        )
        assert assert_problem(forbidden, 403)["detail"] == "this key lacks the 'publish' scope"


async def test_admin_lists_and_replays_dead_letters(start: Start) -> None:
    async with start() as gw:
        redis = gw.fakes.redis
        letter = DeadLetter(
            service="storage",
            source_stream=streams.ENRICHED,
            group="storage",
            entry_id="1-0",
            correlation_id="c-1",
            delivery_count=5,
            error="boom",
            fields={"event": '{"x": 1}'},
        )
        dead_id = (await redis.xadd(streams.DEAD, letter.to_fields())).decode()
        publisher = await gw.key("publish")
        denied = await gw.client.get(
            "/v1/admin/dead-letters", headers={"Authorization": f"Bearer {publisher}"}
        )
        assert_problem(denied, 403)
        admin = {"Authorization": f"Bearer {await gw.key('admin')}"}
        listed = (await gw.client.get("/v1/admin/dead-letters", headers=admin)).json()
        assert [(i["dead_letter_id"], i["error"]) for i in listed["items"]] == [(dead_id, "boom")]
        retried = await gw.client.post(
            "/v1/admin/dead-letters/retry", json={"ids": [dead_id]}, headers=admin
        )
        assert retried.json() == {"replayed": 1}
        assert await redis.xlen(streams.DEAD) == 0
        [(_, fields)] = await redis.xrange(streams.ENRICHED)
        assert orjson.loads(fields[b"event"]) == {"x": 1}


async def test_options_and_405_list_every_method_of_the_path(start: Start) -> None:
    async with start() as gw:
        options = await gw.client.options("/v1/items")
        assert options.status_code == 204
        assert options.headers["allow"] == "GET, HEAD, OPTIONS, POST"
        assert options.headers["x-content-type-options"] == "nosniff"
        put = await gw.client.put("/v1/items", json={})
        assert_problem(put, 405)
        assert put.headers["allow"] == "GET, HEAD, OPTIONS, POST"
        assert (await gw.client.options("/v1/items/" + "a" * 32)).headers["allow"] == (
            "GET, HEAD, OPTIONS"
        )
        assert (await gw.client.options("/v1/stream")).headers["allow"] == "GET, OPTIONS"
        assert_problem(await gw.client.options("/nowhere"), 404)


async def test_head_answers_what_get_answers_without_the_body(start: Start) -> None:
    async with start() as gw:
        for path in ("/v1/items", "/v1/feeds/atom", "/healthz", "/openapi.json"):
            got = await gw.client.get(path)
            head = await gw.client.head(path)
            assert head.status_code == got.status_code == 200, path
            assert head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"]
            assert head.headers["content-length"] == got.headers["content-length"]
        # A POST-only path stays refused, and the endless live feed is not run for HEAD.
        refused = await gw.client.head("/v1/admin/dead-letters/retry")
        assert (refused.status_code, refused.content) == (405, b"")
        assert refused.headers["allow"] == "OPTIONS, POST"
        stream = await gw.client.head("/v1/stream")
        assert stream.status_code == 405
        assert stream.headers["allow"] == "GET, OPTIONS"


async def test_cors_preflight_still_reaches_cors(start: Start) -> None:
    async with start(cors_origins=["https://app.example.org"]) as gw:
        preflight = await gw.client.options(
            "/v1/items",
            headers={"Origin": "https://app.example.org", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://app.example.org"


async def test_openapi_declares_what_the_server_refuses(start: Start) -> None:
    async with start() as gw:
        spec = (await gw.client.get("/openapi.json")).json()
    items = {p["name"]: p for p in spec["paths"]["/v1/items"]["get"]["parameters"]}
    assert items["content_type"]["schema"]["items"]["minLength"] == 1
    assert items["cursor"]["schema"]["anyOf"][0]["pattern"] == "^[A-Za-z0-9_-]*$"
    stream = {p["name"]: p for p in spec["paths"]["/v1/stream"]["get"]["parameters"]}
    header = stream["last-event-id"]["schema"]["anyOf"][0]
    assert header["minLength"] == 1
    assert header["pattern"] == "^[0-9]{1,20}(-[0-9]{1,20})?$"
    body = spec["paths"]["/v1/items"]["post"]["requestBody"]["content"]["application/json"]
    assert body["schema"]["oneOf"][1]["minItems"] == 1
