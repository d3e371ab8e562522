"""Operator commands on a running stack: status, dead letters, re-enrichment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import orjson
import pytest

from newsflow.domain.taxonomy import DEFAULT_PATH, load_taxonomy
from newsflow.events import DeadLetter
from newsflow.runtime.keys import API_KEYS, create
from newsflow_tools import embedded
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e
DEAD_LETTER = DeadLetter(
    correlation_id="c",
    service="ingest",
    source_stream="news:ingest",
    group="ingest",
    entry_id="1-0",
    delivery_count=5,
    error="boom",
    fields={"item": "{}"},
)


def cli(stack: Stack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "newsflow_tools.cli", *args],
        env=stack.env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def total(stack: Stack, **params: object) -> int:
    return int(stack.get("/v1/items", **params).json()["total"])


def test_status_and_dead_letters_round_trip(stack: Stack) -> None:
    stack.start_with_poisoned_enrichment()
    redis = stack.redis()
    redis.xadd("news:ingest", {"item": orjson.dumps({"title": "POISON pill story"})})
    redis.xadd("news:ingest", {"item": orjson.dumps({"title": "A healthy story"})})
    eventually(lambda: total(stack) == 1, timeout=30)
    eventually(lambda: redis.xlen("news:dead") == 1, timeout=30)

    status = cli(stack, "status", "--gateway-url", stack.gateway)
    assert status.returncode == 0, status.stderr
    assert "search index: ready, 1 stories" in status.stdout
    rows = {
        line.split()[0] + " " + line.split()[2]: line.split()
        for line in status.stdout.splitlines()[1:-1]
        if len(line.split()) > 4
    }
    assert rows["news:ingested enrichment"][3:5] == ["0", "0"]  # lag 0, pending 0
    assert "dead letters: 1" in status.stdout

    listed = cli(stack, "dlq", "list")
    assert "enrichment  news:ingested" in listed.stdout
    assert "error: injected failure (fault fail_on)" in listed.stdout

    # The fix: an enrichment without the fault. Replaying stores the story.
    stack.stop("enrichment-bad")
    stack.start("enrichment-2", "enrichment")
    replay = cli(stack, "dlq", "retry", "--all")
    assert replay.stdout.strip() == "replayed 1 dead letter(s)"
    eventually(lambda: total(stack, q="poison pill") == 1, timeout=30)
    assert redis.xlen("news:dead") == 0
    redis.close()


def test_reenrich_retags_stories_of_an_older_taxonomy(stack: Stack, tmp_path: Path) -> None:
    current = load_taxonomy()
    old = json.loads(DEFAULT_PATH.read_text())
    old["version"] = "1999.01.01"
    old_path = tmp_path / "old-taxonomy.json"
    old_path.write_text(json.dumps(old))
    stack.start("ingest-1", "ingest")
    stack.start("enrichment-old", "enrichment", NEWSFLOW_TAXONOMY_PATH=str(old_path))
    stack.start("storage-1", "storage")
    stack.start("gateway-1", "gateway")
    redis = stack.redis()
    for n in range(3):
        redis.xadd(
            "news:ingest",
            {
                "item": orjson.dumps(
                    {
                        "title": f"ODIHR story {n}",
                        "offices": ["ODIHR"],
                        "published_at": "2021-01-07",
                    }
                )
            },
        )
    eventually(lambda: total(stack) == 3, timeout=30)
    items = stack.items()
    assert {d["taxonomy_version"] for d in items.find()} == {"1999.01.01"}

    stack.stop("enrichment-old")
    stack.start("enrichment-new", "enrichment")
    result = cli(stack, "reenrich")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        f"queued 3 stored copies for re-enrichment with tagger {current.version}"
    )
    eventually(
        lambda: {d["taxonomy_version"] for d in items.find()} == {current.version}, timeout=30
    )
    assert total(stack) == 3
    # Resumable: a second run finds nothing left to do.
    again = cli(stack, "reenrich")
    assert again.stdout.strip().startswith("queued 0 stored copies")
    redis.close()


def test_retrying_an_id_that_is_not_a_stream_id_is_a_422_naming_it(stack: Stack) -> None:
    """Issue 12 item 6: such an id reached Redis and came back as a 500."""
    stack.start("gateway-1", "gateway")
    admin = {
        "Authorization": f"Bearer {create(stack.items().database[API_KEYS], 'Ops', ['admin'])}"
    }
    url = f"{stack.gateway}/v1/admin/dead-letters"
    for bad in ["garbage", "", "18446744073709551616-0", "1-" + "9" * 300, "(1-0"]:
        response = httpx.post(f"{url}/retry", json={"ids": ["1-0", bad]}, headers=admin)
        assert response.status_code == 422, (bad, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["ids.1"], response.text
        listed = httpx.get(url, params={"after": bad}, headers=admin)
        assert listed.status_code == 422, (bad, listed.text)
        assert [e["field"] for e in listed.json()["errors"]] == ["after"], listed.text

    # Good ids still work, through the same runtime code as `newsflow dlq`.
    redis = stack.redis()
    first = redis.xadd("news:dead", DEAD_LETTER.to_fields()).decode()  # type: ignore[arg-type]
    second = redis.xadd("news:dead", DEAD_LETTER.to_fields()).decode()  # type: ignore[arg-type]
    page = httpx.get(url, params={"limit": 1, "after": first}, headers=admin).json()
    assert [d["dead_letter_id"] for d in page["items"]] == [second]
    replay = httpx.post(f"{url}/retry", json={"ids": [second, "1-0"]}, headers=admin)
    assert replay.json() == {"replayed": 1}
    assert [e[1][b"item"] for e in redis.xrange("news:ingest")] == [b"{}"]
    assert redis.xlen("news:dead") == 1
    redis.close()


def test_status_without_flags_finds_the_stack_newsflow_run_started(
    redis_url: str, mongo_server: embedded.EmbeddedServer, mongo_db_name: str, tmp_path: Path
) -> None:
    """Issue 12 item 13: the CLI looked at 6379 while `make run` served elsewhere."""
    base = {k: v for k, v in os.environ.items() if "REDIS_URL" not in k and "MONGODB_URL" not in k}
    port = embedded.free_port()
    run_log = (tmp_path / "run.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "-m", "newsflow_tools.cli", "run", "--no-seed"],
        cwd=tmp_path,
        env={
            **base,
            "REDIS_URL": redis_url,
            "MONGODB_URL": mongo_server.url,
            "MONGODB_DATABASE": mongo_db_name,
            "GATEWAY_PORT": str(port),
        },
        stdout=run_log,
        stderr=subprocess.STDOUT,
    )
    run_log.close()
    state = tmp_path / ".data" / "stack.json"

    def status() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newsflow_tools.cli", "status"],
            cwd=tmp_path,
            env=base,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    try:
        eventually(lambda: state.exists() or runner.poll() is not None, timeout=90, interval=0.25)
        assert runner.poll() is None, (tmp_path / "run.log").read_text()
        recorded = json.loads(state.read_text())
        assert recorded["redis_url"] == redis_url
        assert recorded["gateway_url"] == f"http://127.0.0.1:{port}"
        client = Stack(redis_url, mongo_server.url, mongo_db_name, tmp_path).redis()
        for _ in range(3):
            client.xadd("news:rejected", {"event": b"{}"})
        client.close()

        found = status()
        assert found.returncode == 0, found.stderr
        assert found.stderr.splitlines()[0] == (
            f"newsflow: Redis {redis_url} (from the running stack, .data/stack.json)"
        )
        assert "rejected items: 3" in found.stdout
    finally:
        runner.send_signal(signal.SIGINT)
        code = runner.wait(timeout=60)
    assert code == 0, (tmp_path / "run.log").read_text()
    assert not state.exists()  # a clean exit takes the state file away
    after = status()
    assert after.stderr.splitlines()[0].endswith(
        "(the default; no running stack in .data/stack.json)"
    )
