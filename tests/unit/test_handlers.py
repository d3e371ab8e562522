"""Handler logic with fakes: no Redis, no MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, BulkWriteError

from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.events import ItemEnriched, ItemIngested, ItemStored
from newsflow.runtime.worker import Done, Entry, Failed, TransientError
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


def copy_of(office: str, title: str = "Asset recovery conference") -> ItemEnriched:
    item = normalise(
        {"title": title, "url": f"https://example.org/{title}", "offices": [office]}, now=NOW
    )
    return ItemEnriched(correlation_id="1-0", item=item, tags=TAGGER.tag(item))


class CountingRepository(InMemoryStoryRepository):
    """Counts round trips, and refuses documents whose title contains "refuse"."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    async def get(self, story_id: str) -> dict[str, Any] | None:
        self.calls.append("get")
        return await super().get(story_id)

    async def put(self, doc: dict[str, Any], expected_version: int | None) -> bool:
        self.calls.append("put")
        if "refuse" in doc["title"]:
            raise ValueError("document refused by the server")
        return await super().put(doc, expected_version)

    async def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        self.calls.append(f"insert_new:{len(docs)}")
        refused = {d["_id"] for d in docs if "refuse" in d["title"]}
        existed = await super().insert_new([d for d in docs if d["_id"] not in refused])
        return existed | refused


async def test_storage_new_stories_take_one_bulk_insert() -> None:
    repo = CountingRepository()
    batch = [copy_of("ODIHR"), copy_of("OSCE Secretariat"), copy_of("ODIHR", "Another story")]
    outcomes = await store_batch(
        [entry(e.to_fields(), f"{i}-0") for i, e in enumerate(batch)], repo
    )
    assert repo.calls == ["insert_new:2"]  # two stories, no reads, no per-item writes
    stored = [o.outputs[0] for o in outcomes if isinstance(o, Done)]
    assert [s.created for s in stored] == [True, False, True]
    assert all(isinstance(s, ItemStored) for s in stored)
    story = repo.docs[batch[0].item.id]
    assert len(story["copies"]) == 2  # both offices' copies, merged in memory


async def test_storage_existing_story_falls_back_to_merge() -> None:
    repo = CountingRepository()
    await store_batch([entry(copy_of("ODIHR").to_fields())], repo)
    repo.calls.clear()
    second = copy_of("OSCE Secretariat")
    (outcome,) = await store_batch([entry(second.to_fields(), "2-0")], repo)
    assert repo.calls == ["insert_new:1", "get", "put"]
    assert isinstance(outcome, Done)
    assert isinstance(outcome.outputs[0], ItemStored)
    assert not outcome.outputs[0].created
    assert len(repo.docs[second.item.id]["copies"]) == 2


async def test_storage_a_refused_document_fails_alone() -> None:
    repo = CountingRepository()
    batch = [copy_of("ODIHR", "Good story"), copy_of("ODIHR", "Please refuse me")]
    good, bad = await store_batch(
        [entry(e.to_fields(), f"{i}-0") for i, e in enumerate(batch)], repo
    )
    assert isinstance(good, Done)
    assert good.outputs
    assert isinstance(bad, Failed)
    assert "refused" in bad.error
    assert list(repo.docs) == [batch[0].item.id]


class WritesThenFails(InMemoryStoryRepository):
    """Writes the whole bulk insert, then reports an error (as a server can)."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error

    async def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        await super().insert_new(docs)
        raise self.error


async def test_storage_unconfirmed_bulk_write_retries_the_batch() -> None:
    unconfirmed = BulkWriteError({"writeErrors": [], "writeConcernErrors": [{"code": 64}]})
    repo = WritesThenFails(unconfirmed)
    with pytest.raises(TransientError):
        await store_batch([entry(copy_of("ODIHR").to_fields())], repo)
    # The worker retries a transient failure as a redelivery: the copy, already
    # written, is announced then.
    (retried,) = await store_batch(
        [entry(copy_of("ODIHR").to_fields(), redelivered=True)], InMemoryStoryRepository()
    )
    assert isinstance(retried, Done)
    assert retried.outputs


async def test_storage_bulk_failure_after_a_partial_write_still_announces() -> None:
    repo = WritesThenFails(RuntimeError("connection reset mid-reply"))
    batch = [copy_of("ODIHR", "One"), copy_of("ODIHR", "Two")]
    outcomes = await store_batch(
        [entry(e.to_fields(), f"{i}-0") for i, e in enumerate(batch)], repo
    )
    assert all(isinstance(o, Done) and len(o.outputs) == 1 for o in outcomes)
    assert len(repo.docs) == 2


async def test_storage_same_copy_twice_in_a_batch_is_stored_and_announced_once() -> None:
    repo = CountingRepository()
    event = copy_of("ODIHR")
    first, second = await store_batch(
        [entry(event.to_fields(), "1-0"), entry(event.to_fields(), "2-0")], repo
    )
    assert isinstance(first, Done)
    assert len(first.outputs) == 1
    assert second == Done()
    assert len(repo.docs[event.item.id]["copies"]) == 1


async def test_storage_redelivered_copy_of_a_stored_story_is_announced_again() -> None:
    repo = CountingRepository()
    event = copy_of("ODIHR")
    await store_batch([entry(event.to_fields())], repo)
    (again,) = await store_batch([entry(event.to_fields(), redelivered=True)], repo)
    assert isinstance(again, Done)
    assert len(again.outputs) == 1
    assert len(repo.docs) == 1


class DownRepository(InMemoryStoryRepository):
    async def get(self, story_id: str) -> dict[str, Any] | None:
        raise AutoReconnect("connection refused")

    async def insert_new(self, docs: list[dict[str, Any]]) -> set[str]:
        raise AutoReconnect("connection refused")


async def test_storage_down_is_transient_not_a_failure() -> None:
    with pytest.raises(TransientError):
        await store_batch([entry(enriched().to_fields())], DownRepository())
