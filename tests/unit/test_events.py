"""Pins the JSON schema of every event, version by version.

A change to an event model changes its schema and fails this test. Additive
changes are allowed within a version: regenerate the pinned file with
``python -m tests.unit.test_events`` and commit it with the change. A breaking
change needs a new event type on a new stream (see newsflow.events).
"""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from mypy import api as mypy_api

from newsflow.contracts.schemas import SCHEMAS_DIR
from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.events import (
    ALL_EVENTS,
    DeadLetter,
    Event,
    FieldError,
    ItemEnriched,
    ItemIngested,
    ItemRejected,
    ItemStored,
    parse_event,
)
from newsflow.runtime.worker import Done, Entry
from newsflow.streams import EVENT_FIELD
from newsflow_enrichment.handlers import enrich_batch
from newsflow_storage.handlers import store_batch
from newsflow_storage.repository import InMemoryStoryRepository

PINNED = SCHEMAS_DIR  # shipped in the package: shared/newsflow/schemas/


def pinned_path(model: type[Event]) -> Path:
    return PINNED / f"{model.__name__}.v{model.model_fields['schema_version'].default}.json"


def schema(model: type[Event]) -> str:
    return (
        json.dumps(model.model_json_schema(mode="serialization"), indent=2, sort_keys=True) + "\n"
    )


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)
def test_schema_is_pinned(model: type[Event]) -> None:
    path = pinned_path(model)
    assert path.exists(), (
        f"no pinned schema for {model.__name__}; run python -m tests.unit.test_events"
    )
    assert schema(model) == path.read_text(), (
        f"{model.__name__}'s schema changed. If the change is additive, regenerate the pin; "
        "if it breaks consumers, make a new event type."
    )


@pytest.mark.parametrize("model", ALL_EVENTS, ids=lambda m: m.__name__)
def test_every_event_has_the_common_fields(model: type[Event]) -> None:
    fields = model.model_fields
    for name in ("schema_version", "event_id", "occurred_at", "correlation_id"):
        assert name in fields


def test_round_trip_through_stream_fields() -> None:
    item = normalise(
        {"title": "A story", "published_at": "7 January 2021"}, now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    event = ItemIngested(correlation_id="1-0", item=item, ingest_entry_id="1-0")
    fields = event.to_fields()
    assert list(fields) == [EVENT_FIELD]
    assert parse_event(ItemIngested, {EVENT_FIELD: fields[EVENT_FIELD].decode()}) == event


# -- producers strict, consumers tolerant ---------------------------------------------

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TAGGER = Tagger(load_taxonomy())


def one_of_each() -> list[Event]:
    """A valid event of every type, as our producers write them."""
    item = normalise(
        {"title": "ODIHR opens an observation mission", "offices": ["ODIHR"], "source": "w"},
        now=NOW,
    )
    return [
        ItemIngested(correlation_id="1-0", item=item, ingest_entry_id="1-0"),
        ItemEnriched(correlation_id="1-0", item=item, tags=TAGGER.tag(item)),
        ItemStored(
            correlation_id="1-0",
            item_id=item.id,
            copy_key="c",
            revision=1,
            created=True,
            story={
                "_id": item.id,
                "_v": 1,
                "title": item.title,
                "sort_at": "2026-01-01T00:00:00.000Z",
            },
        ),
        ItemRejected(
            correlation_id="1-0",
            reason="title: required",
            errors=[FieldError(field="title", message="required")],
            payload="{}",
            ingest_entry_id="1-0",
        ),
        DeadLetter(
            correlation_id="1-0",
            service="storage",
            source_stream="news:enriched",
            group="storage",
            entry_id="1-0",
            delivery_count=5,
            error="boom",
            fields={"event": "{}"},
        ),
    ]


def from_a_newer_producer(event: Event) -> bytes:
    """The event as a v1 producer one release ahead writes it: new optional fields
    on the event and on every nested object (item, tags, each tag, each evidence)."""

    def add(value: Any) -> Any:
        if isinstance(value, dict):
            return {**{k: add(v) for k, v in value.items()}, "added_in_v1_1": {"x": [1]}}
        if isinstance(value, list):
            return [add(v) for v in value]
        return value

    data = event.model_dump(mode="json")
    newer = {k: add(v) if k in ("item", "tags", "errors") else v for k, v in data.items()}
    return orjson.dumps({**newer, "added_in_v1_1": "an optional field"})


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: type(e).__name__)
def test_a_v1_consumer_reads_an_event_with_fields_it_does_not_know(event: Event) -> None:
    wire = from_a_newer_producer(event)
    assert b"added_in_v1_1" in wire
    read = parse_event(type(event), {EVENT_FIELD: wire.decode()})
    assert read == event
    assert "added_in_v1_1" not in read.model_dump_json()


def test_the_consumers_handle_events_with_fields_they_do_not_know() -> None:
    """Each service's own parse path, not just the models: enrichment and storage."""
    ingested, enriched = one_of_each()[:2]
    ((outcome, tags),) = enrich_batch(
        [_entry({EVENT_FIELD: from_a_newer_producer(ingested).decode()})], TAGGER
    )
    assert isinstance(outcome, Done)
    assert tags is not None
    assert isinstance(outcome.outputs[0], ItemEnriched)
    assert outcome.outputs[0].item == ingested.item  # type: ignore[attr-defined]

    repo = InMemoryStoryRepository()
    (stored,) = asyncio.run(
        store_batch([_entry({EVENT_FIELD: from_a_newer_producer(enriched).decode()})], repo)
    )
    assert isinstance(stored, Done)
    assert isinstance(stored.outputs[0], ItemStored)


def test_an_item_stored_event_from_an_older_storage_has_no_story() -> None:
    """Before storage announced snapshots, ItemStored had no ``story``: still readable."""
    stored = next(e for e in one_of_each() if isinstance(e, ItemStored))
    older = stored.model_dump(mode="json")
    del older["story"]
    read = parse_event(ItemStored, {EVENT_FIELD: orjson.dumps(older).decode()})
    assert read.story is None
    assert read.item_id == stored.item_id


def test_storage_announces_a_snapshot_that_round_trips() -> None:
    enriched = one_of_each()[1]
    (stored,) = asyncio.run(store_batch([_entry(enriched.to_fields())], InMemoryStoryRepository()))
    assert isinstance(stored, Done)
    (event,) = stored.outputs
    assert isinstance(event, ItemStored)
    assert event.story is not None
    assert event.story["_v"] == 1
    assert "copies" not in event.story
    assert parse_event(ItemStored, event.to_fields()) == event


def _entry(body: Any) -> Entry:
    return Entry(id="1-0", body=body, fields=body, correlation_id="1-0")


def test_our_own_code_cannot_construct_an_event_with_an_unknown_field() -> None:
    """Producers stay strict: the pydantic mypy plugin (init_forbid_extra) refuses it."""
    snippet = (
        "from newsflow.events import ItemStored\n"
        "ItemStored(correlation_id='1', item_id='a', copy_key='b', revision=1, created=True,"
        " added_in_v1_1=1)\n"
    )
    root = Path(__file__).resolve().parents[2]
    out, _, code = mypy_api.run(["--config-file", str(root / "pyproject.toml"), "-c", snippet])
    assert code == 1, out
    assert 'Unexpected keyword argument "added_in_v1_1" for "ItemStored"' in out


if __name__ == "__main__":
    print("the pinned schemas are written by: python -m newsflow.contracts.schemas")
