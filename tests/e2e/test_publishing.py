"""Publishing over HTTP and bad input end to end, against the running stack."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from newsflow.runtime.keys import API_KEYS, create
from tests.conftest import SAMPLE
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

GOOD = {
    "title": "Mission to Serbia supports judicial reform",
    "published_at": "2021-02-01",
    "offices": ["OSCE Mission to Serbia"],
    "topics": ["Rule of law"],
}

RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>OSCE feed</title><language>en</language>
<item><title>ODIHR opens an election observation mission in Moldova</title>
<link>https://www.osce.org/odihr/elections/moldova/1</link>
<description>&lt;p&gt;The mission was opened in &lt;b&gt;Chisinau&lt;/b&gt;.&lt;/p&gt;</description>
<category>Elections</category><category>Not a taxonomy topic</category>
<pubDate>Tue, 02 Feb 2021 10:00:00 GMT</pubDate></item>
</channel></rss>"""

NINJS = {
    "uri": "urn:example:1",
    "type": "text",
    "headlines": [{"value": "HCNM visits Kyrgyzstan"}],
    "descriptions": [{"value": "The High Commissioner discussed integration."}],
    "firstcreated": "2021-02-03T09:00:00Z",
    "subjects": [{"name": "National minority issues"}],
    "language": "en",
}


@pytest.fixture(scope="module")
def pub(module_stack: Stack) -> tuple[Stack, dict[str, str]]:
    col = module_stack.items().database[API_KEYS]
    keys = {
        "publish": create(col, "Example Wire", ["publish"]),
        "read": create(col, "Reader", ["read"]),
        "admin": create(col, "Ops", ["admin", "read"]),
    }
    return module_stack, keys


def post(
    stack: Stack,
    key: str | None,
    body: Any,
    *,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    data = body if isinstance(body, bytes | str) else orjson.dumps(body)
    all_headers = {"Content-Type": content_type, **(headers or {})}
    if key:
        all_headers["Authorization"] = f"Bearer {key}"
    return httpx.post(f"{stack.gateway}/v1/items", content=data, headers=all_headers, timeout=60)


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def stored_total(stack: Stack) -> int:
    return int(stack.items().count_documents({}))


def settle(stack: Stack) -> None:
    """Wait until every group has handled everything on its stream."""
    redis = stack.redis()

    def idle() -> bool:
        for stream, group in (
            ("news:ingest", "ingest"),
            ("news:ingested", "enrichment"),
            ("news:enriched", "storage"),
        ):
            try:
                info = {g["name"].decode(): g for g in redis.xinfo_groups(stream)}
            except Exception:
                continue
            g = info.get(group)
            if g is None:
                continue
            last = g["last-delivered-id"].decode()
            if g["pending"] or redis.xrange(stream, min=f"({last}", count=1):
                return False
        return True

    eventually(idle, timeout=30)
    redis.close()


class TestAuth:
    def test_publishing_is_never_open(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        body = problem(post(stack, None, GOOD), 401)
        assert "publish" in body["detail"]
        problem(post(stack, "nfk_0000000000000000_" + "x" * 43, GOOD), 401)
        problem(post(stack, "not-a-key", GOOD), 401)
        assert problem(post(stack, keys["read"], GOOD), 403)["detail"] == (
            "this key lacks the 'publish' scope"
        )

    def test_source_comes_from_the_key(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        response = post(stack, keys["publish"], {**GOOD, "source": "someone else"})
        assert response.status_code == 202, response.text
        (accepted,) = response.json()["items"]
        assert accepted["entry_id"]
        eventually(lambda: stack.get(f"/v1/items/{accepted['id']}").status_code == 200)
        detail = stack.get(f"/v1/items/{accepted['id']}").json()
        assert detail["sources"] == ["Example Wire"]

    def test_admin_endpoints_need_admin(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        url = f"{stack.gateway}/v1/admin/dead-letters"
        problem(httpx.get(url), 401)
        problem(httpx.get(url, headers={"Authorization": f"Bearer {keys['publish']}"}), 403)
        ok = httpx.get(url, headers={"Authorization": f"Bearer {keys['admin']}"})
        assert ok.status_code == 200
        assert ok.json() == {"items": []}

    def test_keys_cli_create_list_revoke(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, _ = pub
        env = stack.env()

        def cli(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, "-m", "newsflow_tools.cli", "keys", *args],
                capture_output=True,
                text=True,
                env=env,
                timeout=30,
                check=False,
            )

        created = cli("create", "CLI Publisher", "--scopes", "publish")
        assert created.returncode == 0, created.stderr
        key = created.stdout.strip()
        assert key.startswith("nfk_")
        assert "shown only once" in created.stderr
        listed = cli("list")
        key_id = key.split("_")[1]
        assert key_id in listed.stdout
        assert key not in listed.stdout  # the secret is never shown again
        assert post(stack, key, GOOD).status_code == 202
        assert cli("revoke", key_id).returncode == 0
        problem(post(stack, key, GOOD), 401)


class TestFormats:
    def test_batch_jsonl_newsroom_ninjs_and_rss(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        batch = [{**GOOD, "title": f"Batch item {n}"} for n in range(3)]
        assert len(post(stack, keys["publish"], batch).json()["items"]) == 3
        jsonl = "\n".join(
            orjson.dumps({**GOOD, "title": f"JSONL item {n}"}).decode() for n in range(2)
        )
        assert (
            len(
                post(stack, keys["publish"], jsonl, content_type="application/x-ndjson").json()[
                    "items"
                ]
            )
            == 2
        )
        newsroom = post(stack, keys["publish"], SAMPLE.read_bytes(), content_type="text/plain")
        assert len(newsroom.json()["items"]) == 7
        assert len({i["id"] for i in newsroom.json()["items"]}) == 6
        ninjs = post(stack, keys["publish"], NINJS, content_type="application/ninjs+json")
        assert ninjs.status_code == 202, ninjs.text
        rss = post(stack, keys["publish"], RSS, content_type="application/rss+xml")
        assert rss.status_code == 202, rss.text
        rss_id = rss.json()["items"][0]["id"]
        eventually(lambda: stack.get(f"/v1/items/{rss_id}").status_code == 200)
        detail = stack.get(f"/v1/items/{rss_id}").json()
        assert detail["summary"] == "The mission was opened in Chisinau."
        assert detail["copies"][0]["topics"] == ["Elections"]  # only the known category
        assert "elections" in {t["id"] for t in detail["topics"]}

    def test_unsupported_media_type(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        problem(post(stack, keys["publish"], b"x", content_type="image/png"), 415)


class TestLimits:
    def test_body_size_is_counted_while_reading(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        big = b'{"title": "' + b"x" * (10 * 1024 * 1024) + b'"}'
        problem(post(stack, keys["publish"], big), 413)

        def chunks() -> Iterator[bytes]:  # no Content-Length: chunked upload
            for _ in range(40):
                yield b" " * (64 * 1024)
            yield b'{"title": "t"}'

        response = httpx.post(
            f"{stack.gateway}/v1/items",
            content=chunks(),
            timeout=60,
            headers={
                "Authorization": f"Bearer {keys['publish']}",
                "Content-Type": "application/json",
            },
        )
        problem(response, 413)

    def test_batch_size(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        body = problem(post(stack, keys["publish"], [GOOD] * 101), 422)
        assert body["errors"] == [{"field": "items", "message": "at most 100"}]

    def test_idempotency_key(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        item = {**GOOD, "title": "Idempotent story"}
        headers = {"Idempotency-Key": "req-42"}
        first = post(stack, keys["publish"], item, headers=headers)
        second = post(stack, keys["publish"], item, headers=headers)
        assert first.status_code == second.status_code == 202
        assert first.json() == second.json()
        assert second.headers["idempotent-replayed"] == "true"
        redis = stack.redis()
        entries = [orjson.loads(f[b"item"]) for _, f in redis.xrange("news:ingest") if b"item" in f]
        redis.close()
        assert sum(1 for e in entries if e["title"] == "Idempotent story") == 1
        other = post(stack, keys["publish"], {**item, "title": "Different"}, headers=headers)
        assert problem(other, 422)["errors"][0]["field"] == "Idempotency-Key"


BAD_INPUTS: list[tuple[str, bytes, int, str, str]] = [
    (
        "truncated JSON",
        b'{"title": "x", "summ',
        422,
        "items[0]",
        "not valid JSON: unexpected end of data: line 1 column 21 (char 20)",
    ),
    (
        "wrong types",
        orjson.dumps({"title": 5, "offices": "a"}),
        422,
        "title",
        "must be a string",
    ),
    (
        "unknown fields",
        orjson.dumps({"title": "x", "author": "me"}),
        422,
        "author",
        "unknown field",
    ),
    (
        "$-prefixed keys",
        orjson.dumps({"title": "x", "$where": "1"}),
        422,
        "item",
        "field names may not start with '$' or contain '.': ['$where']",
    ),
    (
        "5,000 topics",
        orjson.dumps({"title": "x", "topics": [f"t{i}" for i in range(5000)]}),
        422,
        "topics",
        "at most 50 entries",
    ),
    (
        "control characters",
        orjson.dumps({"title": "bad\u0007bell"}),
        422,
        "title",
        "control character U+0007 is not allowed",
    ),
    (
        "right-to-left override",
        orjson.dumps({"title": "invoice\u202egpj.exe"}),
        422,
        "title",
        "bidirectional control character U+202E is not allowed",
    ),
    (
        "javascript: URL",
        orjson.dumps({"title": "x", "url": "javascript:alert(1)"}),
        422,
        "url",
        "must be an http or https URL",
    ),
    (
        "year 9999",
        orjson.dumps({"title": "x", "published_at": "9999-12-31"}),
        422,
        "published_at",
        "9999-12-31T00:00:00+00:00 is in the future",
    ),
]


class TestBadInput:
    """Each bad input, by every path, leaves the store unchanged."""

    @pytest.mark.parametrize(
        ("name", "body", "status", "field", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
    )
    def test_http(
        self,
        pub: tuple[Stack, dict[str, str]],
        name: str,
        body: bytes,
        status: int,
        field: str,
        message: str,
    ) -> None:
        stack, keys = pub
        settle(stack)
        before = stored_total(stack)
        problem_body = problem(post(stack, keys["publish"], body), status)
        assert {"field": field, "message": message} in problem_body["errors"]
        settle(stack)
        assert stored_total(stack) == before

    def test_ten_megabytes(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        before = stored_total(stack)
        body = problem(post(stack, keys["publish"], b"[" + b" " * 10_000_000 + b"]"), 413)
        assert body["detail"] == "the body may be at most 2097152 bytes"
        assert stored_total(stack) == before

    @pytest.mark.parametrize(
        ("name", "body", "status", "field", "message"), BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS]
    )
    def test_direct_xadd_goes_to_rejected(
        self,
        pub: tuple[Stack, dict[str, str]],
        name: str,
        body: bytes,
        status: int,
        field: str,
        message: str,
    ) -> None:
        stack, _ = pub
        settle(stack)
        before = stored_total(stack)
        redis = stack.redis()
        entry_id = redis.xadd("news:ingest", {"item": body}).decode()

        def rejection() -> dict[str, Any] | None:
            for _, fields in redis.xrange("news:rejected"):
                event = orjson.loads(fields[b"event"])
                if event["ingest_entry_id"] == entry_id:
                    return dict(event)
            return None

        event = eventually(rejection, timeout=20)
        redis.close()
        expected_field = "item" if field == "items[0]" else field
        assert {"field": expected_field, "message": message} in event["errors"]
        settle(stack)
        assert stored_total(stack) == before

    def test_push_reports_each_bad_line(
        self, pub: tuple[Stack, dict[str, str]], tmp_path: Any
    ) -> None:
        stack, _ = pub
        path = tmp_path / "items.jsonl"
        lines = [orjson.dumps(GOOD)] + [b for _, b, *_ in BAD_INPUTS]
        path.write_bytes(b"\n".join(lines) + b"\n")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "newsflow_tools.cli",
                "push",
                str(path),
                "--redis-url",
                stack.redis_url,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 1
        out = result.stdout.splitlines()
        assert out[0] == (
            "line 2: rejected: not valid JSON: unexpected end of data: line 1 column 21 (char 20)"
        )
        assert "line 4: rejected: author: unknown field" in out
        assert "line 9: rejected: url: must be an http or https URL" in out
        assert out[-1] == f"pushed 1 items (1 distinct stories), rejected {len(BAD_INPUTS)}"
