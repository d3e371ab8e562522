"""Handler logic with fakes: no Redis, no MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo.errors import AutoReconnect, BulkWriteError

from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.events import ItemEnriched, ItemIngested, ItemRejected, ItemStored, parse_event
from newsflow.runtime.idempotency import CONFLICT_MESSAGE, Remembered, fingerprint
from newsflow.runtime.worker import Done, Entry, Failed, TransientError
from newsflow.store import LEGACY_FIELDS, StoryField
from newsflow_enrichment.handlers import enrich_batch
from newsflow_ingest.handlers import (
    apply_idempotency,
    idempotency_claims,
    ingest_batch,
    ingest_one,
)
from newsflow_storage.handlers import store_batch
from newsflow_storage.merge import story_snapshot
from newsflow_storage.repository import InMemoryStoryRepository

NOW = datetime(2026, 11, 26, tzinfo=UTC)
TAGGER = Tagger(load_taxonomy())


def entry(body: Any, entry_id: str = "1-0", *, redelivered: bool = False) -> Entry:
    return Entry(
        id=entry_id, body=body, fields={}, correlation_id=entry_id, redelivered=redelivered
    )


DAY = timedelta(days=1)


def enriched(title: str = "ODIHR opens an observation mission") -> ItemEnriched:
    item = normalise({"title": title, "offices": ["ODIHR"]}, now=NOW)
    return ItemEnriched(correlation_id="1-0", item=item, tags=TAGGER.tag(item))


def test_ingest_receives_an_entry_at_its_id_time_so_reprocessing_is_the_same_receipt() -> None:
    entry_id = f"{int(NOW.timestamp() * 1000) - 5000}-3"
    first = ingest_one(entry({"title": "A"}, entry_id), now=NOW)
    later = ingest_one(entry({"title": "A"}, entry_id), now=NOW + timedelta(minutes=5))
    item = first.outputs[0].item  # type: ignore[attr-defined]
    assert later.outputs[0].item == item  # type: ignore[attr-defined]  # whenever processed
    assert item.received_at == NOW - timedelta(seconds=5)
    # A publisher's replay is a new entry: a new receipt.
    replay = ingest_one(entry({"title": "A"}, f"{int(NOW.timestamp() * 1000)}-0"), now=NOW)
    assert replay.outputs[0].item.received_at == NOW  # type: ignore[attr-defined]
    # An id set by hand (XADD news:ingest 1-1) has no plausible time: the clock serves.
    hand = ingest_one(entry({"title": "A"}, "1-1"), now=NOW)
    assert hand.outputs[0].item.received_at == NOW  # type: ignore[attr-defined]


def test_ingest_outcomes() -> None:
    ok, bad = ingest_batch([entry({"title": "A"}), entry({"item": "{"}, "2-0")], now=NOW)
    assert isinstance(ok, Done)
    assert isinstance(ok.outputs[0], ItemIngested)
    assert isinstance(bad, Done)
    assert bad.rejected


def decide(entries: list[Entry], store: dict[str, str], *, now: datetime = NOW) -> list[Any]:
    """Ingest a batch against ``store``, a dict standing in for Redis' SET NX and GET."""
    outcomes = ingest_batch(entries, now=now)
    claims = idempotency_claims(entries, outcomes)
    for key, value in claims.items():
        store.setdefault(key, value)
    held = {key: Remembered.parse(store[key]) for key in claims}
    return apply_idempotency(entries, outcomes, held)


KEYED = {"title": "A", "idempotency_key": "k1", "source": "wire"}


def test_idempotency_key_repeats_are_acknowledged_silently() -> None:
    store: dict[str, str] = {}
    first, second = decide([entry(KEYED), entry(KEYED, "2-0")], store)
    assert isinstance(first, Done)
    assert isinstance(first.outputs[0], ItemIngested)
    assert isinstance(second, Done)
    assert second.duplicate
    assert not second.outputs
    # an hour later, as another entry: still the same story, still a no-op
    (again,) = decide([entry(KEYED, "3-0")], store, now=NOW + timedelta(hours=1))
    assert isinstance(again, Done)
    assert again.duplicate
    assert not again.outputs


def test_a_key_reused_for_another_story_is_rejected_naming_the_key() -> None:
    store: dict[str, str] = {}
    (first,) = decide([entry(KEYED)], store)
    assert isinstance(first, Done)
    story_id = first.outputs[0].item.id  # type: ignore[attr-defined]
    (other,) = decide([entry({**KEYED, "title": "B"}, "2-0")], store)
    assert isinstance(other, Done)
    assert other.rejected
    (event,) = other.outputs
    assert isinstance(event, ItemRejected)
    assert event.ingest_entry_id == "2-0"
    assert event.reason == f"idempotency_key: {CONFLICT_MESSAGE} (story {story_id})"
    assert "'title': 'B'" in event.payload  # the entry as received
    assert '"title\\":\\"B\\"' in event.payload or "B" in event.payload


def test_a_conflict_within_one_batch_is_rejected() -> None:
    first, other, repeat = decide(
        [entry(KEYED), entry({**KEYED, "summary": "changed"}, "2-0"), entry(KEYED, "3-0")], {}
    )
    assert isinstance(first, Done)
    assert isinstance(first.outputs[0], ItemIngested)
    assert isinstance(other, Done)
    assert other.rejected
    assert isinstance(repeat, Done)
    assert repeat.duplicate


def test_the_same_key_from_another_source_is_another_key() -> None:
    first, second = decide([entry(KEYED), entry({**KEYED, "source": "other"}, "2-0")], {})
    assert isinstance(first, Done)
    assert isinstance(second, Done)
    assert isinstance(first.outputs[0], ItemIngested)
    assert isinstance(second.outputs[0], ItemIngested)


def test_the_claiming_entry_redelivered_after_a_crash_is_still_published() -> None:
    store: dict[str, str] = {}
    decide([entry(KEYED)], store)  # claimed; suppose the process died before the publish
    (redelivered,) = decide([entry(KEYED, redelivered=True)], store)
    assert isinstance(redelivered, Done)
    assert isinstance(redelivered.outputs[0], ItemIngested)


def test_keys_remembered_before_fingerprints_still_count_as_repeats() -> None:
    outcomes = ingest_batch([entry(KEYED, "5-0")], now=NOW)
    key = next(iter(idempotency_claims([entry(KEYED, "5-0")], outcomes)))
    (old,) = decide([entry({**KEYED, "title": "B"}, "5-0")], {key: "1-0"})
    assert isinstance(old, Done)
    assert old.duplicate


def test_fingerprint_ignores_receive_time_only() -> None:
    item = normalise(KEYED, now=NOW)
    assert fingerprint(item) == fingerprint(normalise(KEYED, now=NOW + timedelta(days=1)))
    assert fingerprint(item) != fingerprint(normalise({**KEYED, "language": "en"}, now=NOW))
    assert fingerprint(item).split(":")[1] == item.id


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


def enriched_item(fields: dict[str, Any]) -> Any:
    """The item enrichment puts on its output event, for an ingested publisher item."""
    item = normalise(fields, now=NOW)
    ingested = ItemIngested(correlation_id="1-0", item=item, ingest_entry_id="1-0")
    ((done, _),) = enrich_batch([entry(ingested.to_fields())], TAGGER)
    assert isinstance(done, Done)
    (event,) = done.outputs
    assert isinstance(event, ItemEnriched)
    return event.item


def test_enrichment_records_a_detected_language_as_inferred() -> None:
    item = enriched_item(
        {"title": "Миссия ОБСЕ в Сербии", "summary": "Глава миссии встретился с министром."}
    )
    assert (item.language, item.language_source) == ("ru", "inferred")


def test_a_declared_language_is_kept_as_declared() -> None:
    item = enriched_item({"title": "Миссия ОБСЕ в Сербии", "language": "EN"})
    assert (item.language, item.language_source) == ("en", "declared")


def test_an_undetectable_language_stays_unknown() -> None:
    item = enriched_item({"title": "OSCE 2026"})
    assert (item.language, item.language_source) == (None, None)


async def test_storage_replay_is_silent_but_redelivery_announces() -> None:
    repo = InMemoryStoryRepository()
    event = enriched()
    (first,) = await store_batch([entry(event.to_fields())], repo)
    assert isinstance(first, Done)
    assert isinstance(first.outputs[0], ItemStored)
    assert first.outputs[0].created
    # A replay: the publisher pushed the same item again, so ingest received it anew.
    again = normalise({"title": event.item.title, "offices": ["ODIHR"]}, now=NOW + DAY)
    replayed = ItemEnriched(correlation_id="5-0", item=again, tags=TAGGER.tag(again))
    (replay,) = await store_batch([entry(replayed.to_fields(), "5-0")], repo)
    assert replay == Done()
    (redelivered,) = await store_batch([entry(event.to_fields(), redelivered=True)], repo)
    assert isinstance(redelivered, Done)
    assert len(redelivered.outputs) == 1
    assert len(repo.docs) == 1


async def test_storage_announces_again_the_same_receipt_delivered_as_new() -> None:
    """After a Redis failover that lost the announcement and the ack (not yet
    replicated) but kept the entry, the entry comes back as a first delivery: the
    copy is stored, unchanged, from this very receipt, so it is announced again."""
    repo = InMemoryStoryRepository()
    event = enriched()
    (first,) = await store_batch([entry(event.to_fields(), "7-0")], repo)
    assert isinstance(first, Done)
    (again,) = await store_batch([entry(event.to_fields(), "7-0")], repo)
    assert isinstance(again, Done)
    [stored] = again.outputs
    assert isinstance(stored, ItemStored)
    assert (stored.item_id, stored.created) == (event.item.id, False)
    assert stored.story == first.outputs[0].story  # type: ignore[attr-defined]


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


# -- what storage announces: the story as stored ------------------------------------


def announced(outcome: object) -> ItemStored:
    assert isinstance(outcome, Done)
    (event,) = outcome.outputs
    assert isinstance(event, ItemStored)
    return event


def assert_carries_the_stored_story(event: ItemStored, repo: InMemoryStoryRepository) -> None:
    assert event.story == story_snapshot(repo.docs[event.item_id])
    assert event.story[StoryField.ID] == event.item_id
    assert StoryField.COPIES not in event.story
    assert not set(LEGACY_FIELDS) & set(event.story)
    # It survives the stream: what the gateway parses is what storage wrote.
    assert parse_event(ItemStored, event.to_fields()).story == event.story


async def test_storage_bulk_announcements_carry_the_whole_story() -> None:
    repo = CountingRepository()
    batch = [copy_of("ODIHR"), copy_of("OSCE Secretariat"), copy_of("ODIHR", "Another story")]
    outcomes = await store_batch(
        [entry(e.to_fields(), f"{i}-0") for i, e in enumerate(batch)], repo
    )
    assert repo.calls == ["insert_new:2"]
    events = [announced(o) for o in outcomes]
    for event in events:
        assert_carries_the_stored_story(event, repo)
    assert events[0].story is not None
    # Both copies of the first story announce the document the insert wrote: both offices.
    assert events[0].story == events[1].story
    assert events[0].story[StoryField.OFFICE_IDS] == ["odihr", "secretariat"]
    assert events[0].story[StoryField.VERSION] == 2
    assert events[2].story is not None
    assert events[2].story[StoryField.VERSION] == 1


async def test_storage_one_by_one_announcement_carries_the_merged_story() -> None:
    repo = CountingRepository()
    await store_batch([entry(copy_of("ODIHR").to_fields())], repo)
    (outcome,) = await store_batch([entry(copy_of("OSCE Secretariat").to_fields(), "2-0")], repo)
    assert repo.calls[-2:] == ["get", "put"]
    event = announced(outcome)
    assert_carries_the_stored_story(event, repo)
    assert event.story is not None
    assert event.story[StoryField.VERSION] == 2
    assert event.story[StoryField.OFFICE_IDS] == ["odihr", "secretariat"]


async def test_storage_a_redelivery_announces_the_story_as_it_stands() -> None:
    repo = InMemoryStoryRepository()
    event = copy_of("ODIHR")
    await store_batch([entry(event.to_fields())], repo)
    await store_batch([entry(copy_of("OSCE Secretariat").to_fields(), "2-0")], repo)
    (again,) = await store_batch([entry(event.to_fields(), "3-0", redelivered=True)], repo)
    stored = announced(again)
    assert_carries_the_stored_story(stored, repo)
    assert stored.story is not None
    assert stored.story[StoryField.VERSION] == 2  # both copies, not only the redelivered one


async def test_storage_announces_a_story_an_older_version_stored_without_its_terms() -> None:
    repo = InMemoryStoryRepository()
    first = copy_of("ODIHR")
    await store_batch([entry(first.to_fields())], repo)
    legacy = repo.docs[first.item.id]
    legacy.update({StoryField.TERMS: ["asset", "recovery"], StoryField.TITLE_TERMS: ["asset"]})
    (outcome,) = await store_batch([entry(copy_of("OSCE Secretariat").to_fields(), "2-0")], repo)
    event = announced(outcome)
    assert_carries_the_stored_story(event, repo)
    assert StoryField.TERMS not in repo.docs[first.item.id]  # the rewrite dropped them


async def test_storage_bulk_failure_falls_back_and_still_carries_the_story() -> None:
    repo = WritesThenFails(RuntimeError("connection reset mid-reply"))
    outcomes = await store_batch([entry(copy_of("ODIHR", "One").to_fields())], repo)
    assert_carries_the_stored_story(announced(outcomes[0]), repo)
