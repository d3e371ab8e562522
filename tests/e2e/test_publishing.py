"""Publishing over HTTP and bad input end to end, against the running stack."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from newsflow.domain.formats.xmlguard import REFUSED
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
        assert ok.json() == {"items": [], "unreadable": []}

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
        "not valid JSON: unexpected end of data at column 21",
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
        assert out[0] == "line 2: rejected: not valid JSON: unexpected end of data at column 21"
        assert "line 4: rejected: author: unknown field" in out
        assert "line 9: rejected: url: must be an http or https URL" in out
        assert out[-1] == f"pushed 1 items (1 distinct stories), rejected {len(BAD_INPUTS)}"
        redis = stack.redis()
        events = [orjson.loads(f[b"event"]) for _, f in redis.xrange("news:rejected")]
        redis.close()
        pushed = [e for e in events if e["service"] == "push"]
        assert len(pushed) == len(BAD_INPUTS)  # recorded, not only printed
        assert {"field": "author", "message": "unknown field"} in pushed[2]["errors"]


def stored_story(stack: Stack, story_id: str) -> None:
    eventually(lambda: stack.get(f"/v1/items/{story_id}").status_code == 200, timeout=30)


def rejection_of(stack: Stack, entry_id: str) -> dict[str, Any]:
    redis = stack.redis()

    def find() -> dict[str, Any] | None:
        for _, fields in redis.xrange("news:rejected"):
            event = orjson.loads(fields[b"event"])
            if event["ingest_entry_id"] == entry_id:
                return dict(event)
        return None

    try:
        return eventually(find, timeout=20)
    finally:
        redis.close()


class TestIdempotencyKeyConflicts:
    """An item's idempotency_key reused for another story is a conflict, by every door."""

    def test_http_answers_409_naming_the_key(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        story = {**GOOD, "title": "First story under key http-1", "idempotency_key": "http-1"}
        first = post(stack, keys["publish"], story)
        assert first.status_code == 202, first.text
        (accepted,) = first.json()["items"]
        stored_story(stack, accepted["id"])

        repeat = post(stack, keys["publish"], story)  # a true repeat: same answer, no-op
        assert repeat.status_code == 202, repeat.text
        assert repeat.json()["items"][0]["id"] == accepted["id"]

        other = {**story, "title": "A different story reusing key http-1"}
        body = problem(post(stack, keys["publish"], other), 409)
        assert body["errors"][0]["field"] == "idempotency_key"
        assert accepted["id"] in body["errors"][0]["message"]
        batch = problem(post(stack, keys["publish"], [{**GOOD, "title": "Fine"}, other]), 409)
        assert [e["field"] for e in batch["errors"]] == ["items[1].idempotency_key"]
        settle(stack)
        assert stack.get(f"/v1/items/{accepted['id']}").json()["title"] == story["title"]

    def test_redis_sends_the_conflict_to_rejected(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, _ = pub
        redis = stack.redis()
        story = {**GOOD, "title": "Wire story under key redis-1", "idempotency_key": "redis-1"}
        story["source"] = "Wire"
        redis.xadd("news:ingest", {"item": orjson.dumps(story)})
        settle(stack)
        before = stored_total(stack)
        repeat_id = redis.xadd("news:ingest", {"item": orjson.dumps(story)}).decode()
        other = {**story, "title": "Another wire story reusing key redis-1"}
        conflict_id = redis.xadd("news:ingest", {"item": orjson.dumps(other)}).decode()
        redis.close()

        event = rejection_of(stack, conflict_id)
        assert event["errors"][0]["field"] == "idempotency_key"
        assert event["reason"].startswith("idempotency_key: already used for a different story")
        assert orjson.loads(orjson.loads(event["payload"])["item"])["title"] == other["title"]
        settle(stack)
        assert stored_total(stack) == before  # neither the repeat nor the conflict stored
        redis = stack.redis()
        ids = {
            orjson.loads(f[b"event"])["ingest_entry_id"] for _, f in redis.xrange("news:rejected")
        }
        redis.close()
        assert repeat_id not in ids  # a true repeat is a silent no-op


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE rss [\n<!ENTITY lol "lol">\n'
    + "".join(f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">\n' for n in range(1, 10))
    + ']>\n<rss version="2.0"><channel><title>&lol9;</title>'
    "<item><title>&lol9;</title></item></channel></rss>"
).replace("&lol0;", "&lol;")


def large_feed(entries: int = 100, size: int = 20_000) -> bytes:
    """A feed near the 2 MB limit whose last entry has no title: parsed in full, then refused.

    Refused, so the load stays on the gateway: stored stories would set ingest,
    enrichment and storage working on the same two cores and measure them instead.
    """
    body = "Paragraph of a long report on the OSCE's work. " * (size // 48)
    items = "".join(
        f"<item><title>Long report {n}</title><description>{body}</description></item>"
        for n in range(entries - 1)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Big</title>'
        f"{items}<item><description>untitled</description></item></channel></rss>"
    ).encode()


def large_json(entries: int = 100, size: int = 20_000) -> bytes:
    body = "Paragraph of a long report on the OSCE's work. " * (size // 48)
    items = [{"title": f"Long JSON report {n}", "body": body} for n in range(entries - 1)]
    return orjson.dumps([*items, {"title": "last", "author": "refused"}])


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


class TestHostileXml:
    def test_dtds_are_refused_with_422(self, pub: tuple[Stack, dict[str, str]]) -> None:
        stack, keys = pub
        started = time.perf_counter()
        response = post(stack, keys["publish"], BILLION_LAUGHS, content_type="application/rss+xml")
        body = problem(response, 422)
        assert time.perf_counter() - started < 2
        assert body["errors"] == [{"field": "items[0]", "message": REFUSED}]

    def test_readers_keep_their_latency_while_hostile_and_large_posts_run(
        self, pub: tuple[Stack, dict[str, str]], tmp_path: Path
    ) -> None:
        stack, _ = pub
        key = create(stack.items().database[API_KEYS], "Load Wire", ["publish"])
        bodies = [
            (BILLION_LAUGHS.encode(), "application/rss+xml"),
            (large_feed(), "application/rss+xml"),
            (large_json(), "application/json"),
        ]
        assert all(len(b) < 2 * 1024 * 1024 for b, _ in bodies)
        reader = httpx.Client(base_url=stack.gateway, timeout=30)

        def sample(n: int) -> list[float]:
            times = []
            for _ in range(n):
                started = time.perf_counter()
                assert reader.get("/healthz").status_code == 200
                times.append(time.perf_counter() - started)
            return times

        sample(20)  # warm up the connection
        before = sample(100)
        # The publishers run in a process of their own, so that their threads do not
        # compete with the reader for this process' GIL; they stop when `stop` exists.
        for n, (data, _) in enumerate(bodies):
            (tmp_path / f"body{n}").write_bytes(data)
        answers, stop = tmp_path / "answers", tmp_path / "stop"
        publishers = subprocess.Popen(
            [
                sys.executable,
                "-c",
                PUBLISHERS,
                stack.gateway,
                key,
                str(answers),
                str(stop),
                *(f"{tmp_path / f'body{n}'}={ct}" for n, (_, ct) in enumerate(bodies)),
            ]
        )
        try:
            eventually(
                lambda: answers.exists() and len(answers.read_text().split()) >= 3, timeout=60
            )
            # Three rounds, judged by the best: a parse on the event loop (the old
            # code: 534 ms) stalls every round, while one burst of the machine's own
            # noise on this 2-core host cannot fail the test alone.
            busy = min(p99(sample(150)) for _ in range(3))
        finally:
            stop.touch()
            publishers.wait(timeout=60)  # every post answered: the gateway is idle again
        after = sample(100)
        reader.close()
        # Idle is measured on both sides of the load, so that the machine's own
        # noise over the test's time weighs the same on both sides of the comparison.
        idle = p99(before + after)
        codes = answers.read_text().split()
        message = f"p99 idle {idle * 1000:.1f} ms, busy {busy * 1000:.1f} ms ({len(codes)} posts)"
        print(message)
        assert busy <= 2 * idle + 0.005, message  # 2x, and 5 ms for a machine's own jitter
        assert set(codes) <= {"422", "429"}, codes  # every hostile or broken post refused
        assert codes.count("422") >= 3


#: Posts each body (path=content-type) over and over, one thread per body, and
#: writes each answer's status to a file.
PUBLISHERS = """
import os, sys, threading, time, httpx
# Real publishers post from other machines; on this 2-core test host the load
# generator runs niced, so what is measured is the gateway, not the CPU it takes.
os.nice(10)
gateway, key, answers, stop, *specs = sys.argv[1:]
lock = threading.Lock()
def post(spec):
    path, content_type = spec.rsplit("=", 1)
    data = open(path, "rb").read()
    headers = {"Content-Type": content_type, "Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=gateway, timeout=60) as client:
        while not os.path.exists(stop):
            status = client.post("/v1/items", content=data, headers=headers).status_code
            with lock, open(answers, "a") as out:
                out.write(f"{status}\\n")
            time.sleep(0.05)  # all three together near the per-key limit of 10 a second
threads = [threading.Thread(target=post, args=(s,)) for s in specs]
for t in threads:
    t.start()
for t in threads:
    t.join()
"""
