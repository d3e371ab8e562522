"""Pins the JSON schema of every event, version by version.

A change to an event model changes its schema and fails this test. Additive
changes are allowed within a version: regenerate the pinned file with
``python -m tests.unit.test_events`` and commit it with the change. A breaking
change needs a new event type on a new stream (see newsflow.events).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsflow.domain.normalise import normalise
from newsflow.events import ALL_EVENTS, Event, ItemIngested, parse_event
from newsflow.streams import EVENT_FIELD

PINNED = Path(__file__).parent / "event_schemas"


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
    from datetime import UTC, datetime

    item = normalise(
        {"title": "A story", "published_at": "7 January 2021"}, now=datetime(2026, 1, 1, tzinfo=UTC)
    )
    event = ItemIngested(correlation_id="1-0", item=item, ingest_entry_id="1-0")
    fields = event.to_fields()
    assert list(fields) == [EVENT_FIELD]
    assert parse_event(ItemIngested, {EVENT_FIELD: fields[EVENT_FIELD].decode()}) == event


if __name__ == "__main__":
    PINNED.mkdir(exist_ok=True)
    for model in ALL_EVENTS:
        pinned_path(model).write_text(schema(model))
        print("wrote", pinned_path(model))
