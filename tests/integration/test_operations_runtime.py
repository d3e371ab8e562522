"""The one lag scan and the one dead-letter replay, on a real Redis 6.2 (which
reports no lag of its own, so the scan is what is measured)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import redis as redis_sync
from redis.asyncio import Redis

from newsflow import streams
from newsflow.events import DeadLetter
from newsflow.runtime import deadletters, lag
from newsflow.runtime.redis_factory import create_redis
from newsflow_tools import cli, embedded, status
from newsflow_tools.dlq import print_letters

pytestmark = pytest.mark.integration


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = create_redis(redis_url)
    yield client
    await client.aclose()


async def bury(redis: Redis, title: str, source: str = streams.INGEST) -> str:
    """Put a dead letter holding ``item=<title>`` from ``source``; its id."""
    letter = DeadLetter(
        correlation_id="c",
        service="ingest",
        source_stream=source,
        group=streams.GROUPS[source],
        entry_id="1-0",
        delivery_count=5,
        error="boom",
        fields={streams.ITEM_FIELD: title},
    )
    return (await redis.xadd(streams.DEAD, letter.to_fields())).decode()  # type: ignore[arg-type]


async def test_group_lag_counts_undelivered_entries(redis: Redis) -> None:
    assert await lag.group_lag(redis, "news:none", "g") == 0  # no stream
    await redis.xadd(streams.INGEST, {"item": b"{}"})
    assert await lag.group_lag(redis, streams.INGEST, "ingest") == 0  # no group
    await redis.xgroup_create(streams.INGEST, "ingest", id="0")
    for _ in range(4):
        await redis.xadd(streams.INGEST, {"item": b"{}"})
    assert await lag.group_lag(redis, streams.INGEST, "ingest") == 5
    await redis.xreadgroup("ingest", "c1", {streams.INGEST: ">"}, count=2)
    assert await lag.group_state(redis, streams.INGEST, "ingest") == (3, 2)
    assert await lag.group_state(redis, streams.INGEST, "other") is None


async def test_status_reports_lag_pending_and_consumers(redis: Redis, redis_url: str) -> None:
    await redis.xgroup_create(streams.INGEST, "ingest", id="0", mkstream=True)
    for _ in range(3):
        await redis.xadd(streams.INGEST, {"item": b"{}"})
    await redis.xreadgroup("ingest", "c1", {streams.INGEST: ">"}, count=1)
    await bury(redis, "x")
    report = {s.stream: s for s in await status.collect(redis)}
    (group,) = report[streams.INGEST].groups
    assert (group.name, group.lag, group.pending) == ("ingest", 2, 1)
    assert [(c.name, c.pending) for c in group.consumers] == [("c1", 1)]
    assert report[streams.DEAD].length == 1
    # The synchronous adapter push uses runs the same scan.
    client = redis_sync.Redis.from_url(redis_url)
    try:
        assert await asyncio.to_thread(status.group_lag, client, streams.INGEST, "ingest") == 2
    finally:
        client.close()


async def test_list_pages_and_replay_given_ids(redis: Redis) -> None:
    ids = [await bury(redis, f"story {n}") for n in range(5)]
    first = await deadletters.list_letters(redis, count=2)
    assert [letter.entry_id for letter in first] == ids[:2]
    rest = await deadletters.list_letters(redis, count=10, after=first[-1].entry_id)
    assert [letter.entry_id for letter in rest] == ids[2:]

    new = await deadletters.replay(redis, [ids[1], ids[3], ids[3], "9999999999999-0"])
    assert len(new) == 2  # the repeat and the id that is no dead letter are skipped
    replayed = await redis.xrange(streams.INGEST)
    assert [fields[b"item"] for _, fields in replayed] == [b"story 1", b"story 3"]
    assert [letter.entry_id for letter in await deadletters.list_letters(redis)] == [
        ids[0],
        ids[2],
        ids[4],
    ]
    assert await deadletters.replay(redis, [ids[1]]) == []  # already replayed: once only


async def test_replay_all_goes_through_every_page_once(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(deadletters, "PAGE", 2)
    for n in range(5):
        await bury(redis, f"story {n}", source=streams.INGESTED if n % 2 else streams.INGEST)
    new = await deadletters.replay(redis)
    assert len(new) == 5
    assert await redis.xlen(streams.DEAD) == 0
    assert await redis.xlen(streams.INGEST) == 3
    assert await redis.xlen(streams.INGESTED) == 2


async def test_a_bad_id_is_refused_before_anything_is_replayed(redis: Redis) -> None:
    good = await bury(redis, "story")
    for bad in ["", "garbage", f"{2**64}-0"]:
        with pytest.raises(ValueError, match="not a stream id"):
            await deadletters.replay(redis, [good, bad])
        with pytest.raises(ValueError, match="not a stream id"):
            await deadletters.list_letters(redis, after=bad)
    assert await redis.xlen(streams.DEAD) == 1


async def test_concurrent_replays_of_one_letter_replay_it_once(redis: Redis) -> None:
    dead = await bury(redis, "story")
    results = await asyncio.gather(*(deadletters.replay_one(redis, dead) for _ in range(8)))
    assert sum(r is not None for r in results) == 1
    assert await redis.xlen(streams.INGEST) == 1


def test_reenrich_answers_in_one_line_when_mongodb_is_down(
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 12 item 14, for re-enrichment: Redis answers, MongoDB does not."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NEWSFLOW_MONGODB_TIMEOUT_MS", "300")
    mongo = f"mongodb://127.0.0.1:{embedded.free_port()}/?directConnection=true"
    code = cli.main(["reenrich", "--redis-url", redis_url, "--mongodb-url", mongo])
    err = capsys.readouterr().err.splitlines()
    assert code == 1
    assert err[:2] == [
        f"newsflow: Redis {redis_url} (from --redis-url)",
        f"newsflow: MongoDB {mongo} (from --mongodb-url)",
    ]
    assert len(err) == 3, err
    assert err[2].startswith(f"newsflow reenrich: cannot reach MongoDB at {mongo}: ")


async def test_replay_all_leaves_what_cannot_be_replayed_and_lists_it_raw(
    redis: Redis, capsys: pytest.CaptureFixture[str]
) -> None:
    """A junk entry, and a letter aimed at a hash, stay on news:dead: replaying all
    passes over them (no WRONGTYPE, nothing written), replaying one names why."""
    good = await bury(redis, "story")
    junk = (await redis.xadd(streams.DEAD, {"event": "{junk"})).decode()  # type: ignore[arg-type]
    await redis.hset("newsflow:ops:session:x", mapping={"a": "1"})
    aimed = await bury(redis, "elsewhere", source=streams.INGEST)
    raw = await redis.xrange(streams.DEAD, min=aimed, max=aimed)
    await redis.xdel(streams.DEAD, aimed)
    fields = raw[0][1][b"event"].decode().replace(streams.INGEST, "newsflow:ops:session:x")
    aimed = (await redis.xadd(streams.DEAD, {"event": fields})).decode()  # type: ignore[arg-type]
    listed = await deadletters.list_letters(redis)
    assert [type(e).__name__ for e in listed] == ["Letter", "Unreadable", "Letter"]
    assert len(await deadletters.replay(redis)) == 1
    assert [e.entry_id for e in await deadletters.list_letters(redis)] == [junk, aimed]
    assert await redis.hgetall("newsflow:ops:session:x") == {b"a": b"1"}
    for entry_id, reason in ((junk, "not a dead letter"), (aimed, "cannot replay to")):
        with pytest.raises(deadletters.UnreplayableError, match=reason):
            await deadletters.replay_one(redis, entry_id)
    assert good not in [e.entry_id for e in await deadletters.list_letters(redis)]
    print_letters(await deadletters.list_letters(redis), sys.stdout)
    out = capsys.readouterr().out
    assert f"{junk}  NOT A DEAD LETTER" in out
    assert "newsflow:ops:session:x" in out
