"""The operator console in-process: login, the session cookie, CSRF, dead-letter
actions and every refusal, on the gateway's fake clients."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

import httpx
import orjson
import pytest

from newsflow import streams
from newsflow.events import DeadLetter, FieldError, ItemRejected
from newsflow.runtime.keys import API_KEYS
from newsflow_gateway.web.ops_session import COOKIE
from tests.unit.gateway.conftest import Gateway, Start

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def letter(error: str = "boom") -> DeadLetter:
    return DeadLetter(
        service="enrichment",
        source_stream=streams.INGESTED,
        group="enrichment",
        entry_id="1-0",
        correlation_id="c-1",
        delivery_count=5,
        error=error,
        fields={"event": '{"x": 1}'},
    )


async def dead_letter(gw: Gateway, error: str = "boom") -> str:
    entry_id: bytes = await gw.fakes.redis.xadd(streams.DEAD, letter(error).to_fields())
    return entry_id.decode()


async def log_in(gw: Gateway, client: httpx.AsyncClient | None = None) -> str:
    """Log in with a new admin key; the console's CSRF token."""
    client = client or gw.client
    response = await client.post("/ops/login", data={"key": await gw.key("admin")})
    assert response.status_code == 303, response.text
    console = await client.get("/ops")
    match = re.search(r'name="csrf" value="([^"]+)"', console.text)
    assert match is not None, console.text
    return match.group(1)


async def test_the_console_asks_for_a_key_and_sets_no_cookie(start: Start) -> None:
    async with start() as gw:
        page = await gw.client.get("/ops")
        assert page.status_code == 200
        assert 'action="/ops/login" method="post"' in page.text
        assert 'type="password"' in page.text
        assert "set-cookie" not in page.headers
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "same-origin"  # forms send their Origin


@pytest.mark.parametrize(
    ("key", "status", "message"),
    [
        ("", 401, "That is not an API key"),
        ("hunter2", 401, "That is not an API key"),
        ("nfk_0123456789abcdef_" + "x" * 43, 401, "Unknown or revoked API key."),
    ],
)
async def test_a_bad_key_is_refused_with_the_form_again(
    start: Start, key: str, status: int, message: str
) -> None:
    async with start() as gw:
        response = await gw.client.post("/ops/login", data={"key": key})
        assert response.status_code == status
        assert message in response.text
        assert 'role="alert"' in response.text
        assert COOKIE not in response.headers.get("set-cookie", "")


async def test_a_key_without_the_admin_scope_is_refused(start: Start) -> None:
    async with start() as gw:
        publisher = await gw.key("publish", "read")
        response = await gw.client.post("/ops/login", data={"key": publisher})
        assert response.status_code == 403
        assert "lacks the admin scope" in response.text
        assert "set-cookie" not in response.headers


async def test_login_sets_an_httponly_strict_cookie_holding_no_key(
    start: Start, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    async with start(ops_session_ttl_s=600) as gw:
        key = await gw.key("admin")
        response = await gw.client.post("/ops/login", data={"key": key})
        assert response.status_code == 303
        assert response.headers["location"] == "/ops"
        cookie = response.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert {"httponly", "path", "max-age"} <= attributes
        assert "samesite=strict" in cookie.lower()
        assert "secure" not in attributes  # plain http here
        assert "path=/ops" in cookie.lower()
        session_id = response.cookies[COOKIE]
        assert key not in cookie
        assert key.split("_")[2] not in session_id
        # Redis holds the session under a digest of its id, with a TTL; never the key.
        (stored,) = await gw.fakes.redis.keys("newsflow:ops:session:*")
        assert session_id.encode() not in stored
        assert 0 < await gw.fakes.redis.ttl(stored) <= 600
        values = b" ".join((await gw.fakes.redis.hgetall(stored)).values())
        assert key.encode() not in values
        assert key.split("_")[2].encode() not in values
        assert all(key not in record.getMessage() for record in caplog.records)


async def test_the_cookie_is_secure_over_https(start: Start) -> None:
    async with start() as gw:
        transport = httpx.ASGITransport(app=gw.app)
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as tls:
            response = await tls.post("/ops/login", data={"key": await gw.key("admin")})
        assert response.status_code == 303
        assert "secure" in {p.strip().lower() for p in response.headers["set-cookie"].split(";")}


async def test_the_console_shows_streams_dead_letters_and_rejections_escaped(
    start: Start,
) -> None:
    async with start() as gw:
        redis = gw.fakes.redis
        await redis.xadd(streams.INGEST, {"item": b"{}"})
        await redis.xgroup_create(streams.INGEST, "ingest", id="0")
        await redis.xreadgroup("ingest", "ingest-7", {streams.INGEST: ">"}, count=1)
        dead_id = await dead_letter(gw, error="<script>alert(1)</script>")
        rejected = ItemRejected(
            correlation_id="c",
            reason="invalid item",
            errors=[FieldError(field="title", message="missing")],
            payload="{}",
            ingest_entry_id="5-0",
        )
        await redis.xadd(streams.REJECTED, rejected.to_fields())
        await redis.xadd(streams.REJECTED, {"junk": b"\xff"})
        await log_in(gw)
        page = (await gw.client.get("/ops")).text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        assert f'action="/ops/dead-letters/{dead_id}/replay"' in page
        assert "ingest-7 (1, idle" in page
        assert "invalid item" in page
        assert "title: missing" in page
        assert "(not a rejection event)" in page
        assert '<script src="/static/ops.js" defer></script>' in page
        panel = await gw.client.get("/ops/panel")
        assert panel.status_code == 200
        assert "<html" not in panel.text
        assert f"letter-{dead_id}" in panel.text


async def test_replay_needs_the_sessions_csrf_token(start: Start) -> None:
    async with start() as gw:
        dead_id = await dead_letter(gw)
        csrf = await log_in(gw)
        url = f"/ops/dead-letters/{dead_id}/replay"
        for form in ("other=1", "csrf=", f"csrf={'x' * len(csrf)}", f"csrf={csrf}x"):
            refused = await gw.client.post(url, content=form, headers=FORM)
            assert refused.status_code == 403, form
            assert "token is missing or wrong" in refused.text
        assert await gw.fakes.redis.xlen(streams.DEAD) == 1
        replayed = await gw.client.post(url, data={"csrf": csrf})
        assert replayed.status_code == 303
        assert replayed.headers["location"] == "/ops?notice=replayed#dead-letters"
        assert await gw.fakes.redis.xlen(streams.DEAD) == 0
        [(_, fields)] = await gw.fakes.redis.xrange(streams.INGESTED)
        assert orjson.loads(fields[b"event"]) == {"x": 1}
        assert (
            "put back on its source stream"
            in (await gw.client.get(replayed.headers["location"])).text
        )
        again = await gw.client.post(url, data={"csrf": csrf})
        assert again.status_code == 404
        assert "No such dead letter" in again.text


async def test_a_token_of_another_session_is_refused(start: Start) -> None:
    async with start() as gw:
        dead_id = await dead_letter(gw)
        transport = httpx.ASGITransport(app=gw.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            other_csrf = await log_in(gw, other)
        await log_in(gw)
        refused = await gw.client.post(
            f"/ops/dead-letters/{dead_id}/delete", data={"csrf": other_csrf}
        )
        assert refused.status_code == 403


async def test_delete_drops_the_letter_without_replaying_it(start: Start) -> None:
    async with start() as gw:
        dead_id = await dead_letter(gw)
        csrf = await log_in(gw)
        deleted = await gw.client.post(f"/ops/dead-letters/{dead_id}/delete", data={"csrf": csrf})
        assert deleted.status_code == 303
        assert await gw.fakes.redis.xlen(streams.DEAD) == 0
        assert await gw.fakes.redis.xlen(streams.INGESTED) == 0
        gone = await gw.client.post(f"/ops/dead-letters/{dead_id}/delete", data={"csrf": csrf})
        assert gone.status_code == 404


@pytest.mark.parametrize("bad_id", ["garbage", "1-", "(1-0", "18446744073709551616-0", "9" * 5000])
async def test_an_id_that_is_no_stream_id_is_a_404_page(start: Start, bad_id: str) -> None:
    async with start() as gw:
        csrf = await log_in(gw)
        response = await gw.client.post(f"/ops/dead-letters/{bad_id}/replay", data={"csrf": csrf})
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("text/html")
        assert "not a dead-letter id" in response.text


@pytest.mark.parametrize(
    ("body", "headers", "status"),
    [
        (b"csrf=%ff%fe", FORM, 400),  # percent-encoded bytes that are not UTF-8
        (b"csrf=\xff\xfe", FORM, 400),  # raw bytes that are not ASCII
        (b"a=1&b=2&c=3&d=4&e=5&f=6&g=7&h=8&i=9", FORM, 400),  # too many fields
        (b"&" * 8, FORM, 400),  # too many empty fields
        (b"csrf=" + b"x" * 5000, FORM, 413),
        (b'{"csrf": "x"}', {"Content-Type": "application/json"}, 415),
        (b"csrf=x", {}, 415),
    ],
)
async def test_hostile_forms_get_a_4xx_page(
    start: Start, body: bytes, headers: dict[str, str], status: int
) -> None:
    async with start() as gw:
        dead_id = await dead_letter(gw)
        await log_in(gw)
        for url in (f"/ops/dead-letters/{dead_id}/replay", "/ops/logout", "/ops/login"):
            response = await gw.client.post(url, content=body, headers=headers)
            assert response.status_code == status, (url, response.text)
            assert response.headers["content-type"].startswith("text/html")
        assert await gw.fakes.redis.xlen(streams.DEAD) == 1


async def test_actions_without_a_session_are_401_pages(start: Start) -> None:
    async with start() as gw:
        dead_id = await dead_letter(gw)
        for url in (f"/ops/dead-letters/{dead_id}/replay", "/ops/logout"):
            response = await gw.client.post(url, data={"csrf": "x"})
            assert response.status_code == 401
            assert "log in again" in response.text
        panel = await gw.client.get("/ops/panel")
        assert panel.status_code == 401
        forged = await gw.client.get("/ops/panel", headers={"Cookie": f"{COOKIE}={'forged' * 30}"})
        assert forged.status_code == 401
        assert await gw.fakes.redis.xlen(streams.DEAD) == 1


async def test_logins_are_rate_limited_per_client(start: Start) -> None:
    async with start(ops_login_per_minute=2) as gw:
        for _ in range(2):
            assert (await gw.client.post("/ops/login", data={"key": "x"})).status_code == 401
        limited = await gw.client.post("/ops/login", data={"key": await gw.key("admin")})
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert "Too many logins" in limited.text
        assert "set-cookie" not in limited.headers


async def test_logout_ends_the_session_everywhere(start: Start) -> None:
    async with start() as gw:
        csrf = await log_in(gw)
        session_id = gw.client.cookies[COOKIE]
        assert (await gw.client.post("/ops/logout", data={"csrf": "wrong"})).status_code == 403
        out = await gw.client.post("/ops/logout", data={"csrf": csrf})
        assert out.status_code == 303
        assert await gw.fakes.redis.keys("newsflow:ops:session:*") == []
        assert COOKIE not in gw.client.cookies  # the browser was told to drop it
        replayed = await gw.client.get("/ops/panel", headers={"Cookie": f"{COOKIE}={session_id}"})
        assert replayed.status_code == 401


async def test_revoking_the_key_ends_its_sessions(start: Start) -> None:
    async with start() as gw:
        await log_in(gw)
        for doc in gw.fakes.mongo.db[API_KEYS].docs.values():
            doc["revoked_at"] = datetime.now(UTC)
        assert (await gw.client.get("/ops/panel")).status_code == 401
        assert 'action="/ops/login"' in (await gw.client.get("/ops")).text
        assert await gw.fakes.redis.keys("newsflow:ops:session:*") == []


JUNK = {"event": "{junk"}


async def test_an_entry_that_is_no_dead_letter_is_listed_raw_and_can_only_be_deleted(
    start: Start,
) -> None:
    async with start() as gw:
        junk_id = (await gw.fakes.redis.xadd(streams.DEAD, JUNK)).decode()
        null_id = (
            await gw.fakes.redis.xadd(
                streams.DEAD, {"event": letter().model_dump_json().replace('"c-1"', "null")}
            )
        ).decode()
        good_id = await dead_letter(gw, error="<b>real</b>")
        csrf = await log_in(gw)
        page = (await gw.client.get("/ops")).text
        assert f"letter-{good_id}" in page
        assert "&lt;b&gt;real&lt;/b&gt;" in page
        for bad_id in (junk_id, null_id):
            assert f'action="/ops/dead-letters/{bad_id}/delete"' in page
            assert f'action="/ops/dead-letters/{bad_id}/replay"' not in page
            replayed = await gw.client.post(
                f"/ops/dead-letters/{bad_id}/replay", data={"csrf": csrf}
            )
            assert replayed.status_code == 409, replayed.text
            assert replayed.headers["content-type"].startswith("text/html")
            assert "not a dead letter" in replayed.text
        assert "{junk" in page
        deleted = await gw.client.post(f"/ops/dead-letters/{junk_id}/delete", data={"csrf": csrf})
        assert deleted.status_code == 303
        assert await gw.fakes.redis.xlen(streams.DEAD) == 2


async def test_a_letter_aimed_outside_the_pipeline_is_not_replayed(start: Start) -> None:
    async with start() as gw:
        await gw.fakes.redis.hset("newsflow:ops:session:x", mapping={"a": "1"})
        aimed = letter().model_copy(update={"source_stream": "newsflow:ops:session:x"})
        dead_id = (await gw.fakes.redis.xadd(streams.DEAD, aimed.to_fields())).decode()
        csrf = await log_in(gw)
        response = await gw.client.post(f"/ops/dead-letters/{dead_id}/replay", data={"csrf": csrf})
        assert response.status_code == 409
        assert "cannot replay to" in response.text
        assert await gw.fakes.redis.hgetall("newsflow:ops:session:x") == {b"a": b"1"}
        assert await gw.fakes.redis.xlen(streams.DEAD) == 1


async def test_the_admin_api_lists_unreadable_entries_and_refuses_to_replay_them(
    start: Start,
) -> None:
    async with start() as gw:
        junk_id = (await gw.fakes.redis.xadd(streams.DEAD, JUNK)).decode()
        good_id = await dead_letter(gw)
        admin = {"Authorization": f"Bearer {await gw.key('admin')}"}
        listed = await gw.client.get("/v1/admin/dead-letters", headers=admin)
        assert listed.status_code == 200, listed.text
        body = listed.json()
        assert [i["dead_letter_id"] for i in body["items"]] == [good_id]
        assert [u["dead_letter_id"] for u in body["unreadable"]] == [junk_id]
        assert "not a dead letter" in body["unreadable"][0]["reason"]
        retried = await gw.client.post(
            "/v1/admin/dead-letters/retry", json={"ids": [junk_id]}, headers=admin
        )
        assert retried.status_code == 409
        assert retried.headers["content-type"] == "application/problem+json"
        assert await gw.fakes.redis.xlen(streams.DEAD) == 2


async def test_a_form_with_too_many_fields_is_told_so(start: Start) -> None:
    async with start() as gw:
        csrf = await log_in(gw)
        body = f"csrf={csrf}&" + "&".join(f"f{n}=1" for n in range(8))
        response = await gw.client.post("/ops/logout", content=body, headers=FORM)
        assert response.status_code == 400
        assert "at most 8 fields" in response.text
        assert "not valid UTF-8" not in response.text


CROSS_SITE = [
    {"Origin": "https://evil.example"},
    {"Origin": "null"},
    {"Origin": "null", "Sec-Fetch-Site": "same-site"},
    {"Origin": "http://testserver.evil.example"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Origin": "http://testserver", "Sec-Fetch-Site": "cross-site"},
]


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_a_cross_site_login_is_refused(start: Start, headers: dict[str, str]) -> None:
    async with start() as gw:
        key = await gw.key("admin")
        response = await gw.client.post("/ops/login", data={"key": key}, headers=headers)
        assert response.status_code == 403
        assert response.headers["content-type"].startswith("text/html")
        assert "Cross-site request refused" in response.text
        assert "set-cookie" not in response.headers


@pytest.mark.parametrize("headers", CROSS_SITE)
async def test_cross_site_console_posts_are_refused(start: Start, headers: dict[str, str]) -> None:
    async with start() as gw:
        dead_id = await dead_letter(gw)
        csrf = await log_in(gw)
        for url in (f"/ops/dead-letters/{dead_id}/replay", f"/ops/dead-letters/{dead_id}/delete"):
            response = await gw.client.post(url, data={"csrf": csrf}, headers=headers)
            assert response.status_code == 403, url
        assert await gw.fakes.redis.xlen(streams.DEAD) == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {"Sec-Fetch-Site": "none"},
        {"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    ],
)
async def test_same_origin_and_headerless_logins_work(
    start: Start, headers: dict[str, str]
) -> None:
    async with start() as gw:
        key = await gw.key("admin")
        response = await gw.client.post("/ops/login", data={"key": key}, headers=headers)
        assert response.status_code == 303, response.text


async def test_odd_entries_on_news_dead_are_shown_clipped_and_never_break_the_page(
    start: Start,
) -> None:
    async with start() as gw:
        odd = [
            {"x": b"\xff\xfe" * 500},  # no event field, bytes that are not UTF-8
            {"event": b"\xff"},
            {"event": "<script>" + "y" * 5000},
            {"event": '{"fields": {"' + "k" * 3000 + '": 1}}'},
        ]
        ids = [(await gw.fakes.redis.xadd(streams.DEAD, fields)).decode() for fields in odd]
        csrf = await log_in(gw)
        page = await gw.client.get("/ops")
        assert page.status_code == 200
        assert "<script>y" not in page.text
        assert "y" * 201 not in page.text
        assert "k" * 201 not in page.text
        for entry_id in ids:
            assert f'action="/ops/dead-letters/{entry_id}/delete"' in page.text
            replay = await gw.client.post(
                f"/ops/dead-letters/{entry_id}/replay", data={"csrf": csrf}
            )
            assert replay.status_code == 409
        admin = {"Authorization": f"Bearer {await gw.key('admin')}"}
        listed = await gw.client.get("/v1/admin/dead-letters", headers=admin)
        assert [u["dead_letter_id"] for u in listed.json()["unreadable"]] == ids
