"""Operator commands on a running stack: status, dead letters, re-enrichment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from newsflow.domain.taxonomy import DEFAULT_PATH, load_taxonomy
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e


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
    stack.start("ingest-1", "ingest")
    stack.start(
        "enrichment-bad",
        "enrichment",
        NEWSFLOW_FAULT="fail_on:POISON",
        NEWSFLOW_MAX_DELIVERIES="2",
        NEWSFLOW_RECLAIM_IDLE_MS="500",
    )
    stack.start("storage-1", "storage")
    stack.start("gateway-1", "gateway")
    redis = stack.redis()
    redis.xadd("news:ingest", {"item": orjson.dumps({"title": "POISON pill story"})})
    redis.xadd("news:ingest", {"item": orjson.dumps({"title": "A healthy story"})})
    eventually(lambda: total(stack) == 1, timeout=30)
    eventually(lambda: redis.xlen("news:dead") == 1, timeout=30)

    status = cli(stack, "status")
    assert status.returncode == 0, status.stderr
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
        f"queued 3 stored copies for re-enrichment with taxonomy {current.version}"
    )
    eventually(
        lambda: {d["taxonomy_version"] for d in items.find()} == {current.version}, timeout=30
    )
    assert total(stack) == 3
    # Resumable: a second run finds nothing left to do.
    again = cli(stack, "reenrich")
    assert again.stdout.strip().startswith("queued 0 stored copies")
    redis.close()
