"""Handler logic with fakes: no Redis, no MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from newsflow.events import ItemEnriched, ItemIngested, ItemStored
from newsflow.normalise import normalise
from newsflow.tagging import Tagger
from newsflow.taxonomy import load_taxonomy
from newsflow.worker import Done, Entry, Failed, TransientError
from newsflow_enrichment.handlers import enrich_batch
from newsflow_ingest.handlers import apply_idempotency, ingest_batch
from newsflow_storage.handlers import store_batch
from newsflow_storage.repository import InMemoryStoryRepository

NOW = datetime(2026, 11, 26, tzinfo=UTC)
TAGGER = Tagger(load_taxonomy())


def entry(body: Any, entry_id: str = "1-0", *, redelivered: bool = False) -> Entry:
    return Entry(
        id=entry_id, body=body, fields={}, correlation_id=entry_id, redelivered=redelivered
    )


def enriched(title: str = "ODIHR opens an observation mission") -> ItemEnriched:
    item = normalise({"title": title, "offices": ["ODIHR"]}, now=NOW)
    return ItemEnriched(correlation_id="1-0", item=item, tags=TAGGER.tag(item))


def test_ingest_outcomes() -> None:
    ok, bad = ingest_batch([entry({"title": "A"}), entry({"item": "{"}, "2-0")], now=NOW)
    assert isinstance(ok, Done)
    assert isinstance(ok.outputs[0], ItemIngested)
    assert isinstance(bad, Done)
    assert bad.rejected


def test_idempotency_key_repeats_are_recognised() -> None:
    body = {"title": "A", "idempotency_key": "k1", "source": "wire"}
    outcomes = ingest_batch([entry(body), entry(body, "2-0")], now=NOW)
    first, second = apply_idempotency(outcomes, {}, 60)
    assert isinstance(first, Done)
    assert first.remember
    assert isinstance(second, Done)
    assert second.duplicate
    assert not second.outputs
    (again,) = apply_idempotency(outcomes[:1], {first.remember[0][0]: True}, 60)
    assert isinstance(again, Done)
    assert again.duplicate


def test_enrichment_fails_only_the_bad_entry() -> None:
    item = normalise(
        {"title": "OSCE Mission to Serbia", "offices": ["OSCE Mission to Serbia"]}, now=NOW
    )
    good = ItemIngested(correlation_id="1-0", item=item, ingest_entry_id="1-0")
    results = enrich_batch([entry(good.to_fields()), entry({"event": "{}"}, "2-0")], TAGGER)
    (ok, tags), (failed, none) = results
    assert isinstance(ok, Done)
    assert tags is not None
    assert [o.id for o in tags.offices] == ["mission-serbia"]
    assert isinstance(failed, Failed)
    assert none is None


async def test_storage_replay_is_silent_but_redelivery_announces() -> None:
    repo = InMemoryStoryRepository()
    event = enriched()
    (first,) = await store_batch([entry(event.to_fields())], repo)
    assert isinstance(first, Done)
    assert isinstance(first.outputs[0], ItemStored)
    assert first.outputs[0].created
    (replay,) = await store_batch([entry(event.to_fields(), "5-0")], repo)
    assert replay == Done()
    (redelivered,) = await store_batch([entry(event.to_fields(), redelivered=True)], repo)
    assert isinstance(redelivered, Done)
    assert len(redelivered.outputs) == 1
    assert len(repo.docs) == 1


class DownRepository(InMemoryStoryRepository):
    async def get(self, story_id: str) -> dict[str, Any] | None:
        raise AutoReconnect("connection refused")


async def test_storage_down_is_transient_not_a_failure() -> None:
    with pytest.raises(TransientError):
        await store_batch([entry(enriched().to_fields())], DownRepository())
