"""The lean story document and the snapshot storage announces: pure functions, no I/O."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import bson
import orjson
import pytest
from bson.codec_options import CodecOptions

from newsflow.domain.items import NewsItem
from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.store import LEGACY_FIELDS, StoryField, read_story, written_fields
from newsflow_storage.merge import copy_record, derive, iso_millis, merge, story_snapshot

# Microseconds on purpose: MongoDB keeps milliseconds.
NOW = datetime(2026, 11, 26, 8, 30, 0, 123_456, tzinfo=UTC)
TAGGER = Tagger(load_taxonomy())


def copy(office: str, **extra: Any) -> NewsItem:
    raw = {
        "title": "ODIHR observers publish their final report",
        "summary": "The co-operation of the authorities was noted.",
        "body": "Full text of the report.",
        "url": "https://www.osce.org/odihr/1",
        "published_at": "2022-02-20T10:00:00.654321+02:00",
        "language": "en",
        "source": "newsroom",
        "offices": [office],
        **extra,
    }
    return normalise(raw, now=NOW, received_at=NOW)


def two_copy_story() -> dict[str, Any]:
    first, second = copy("ODIHR"), copy("HCNM")
    doc = merge(first.id, None, first, TAGGER.tag(first))
    assert doc is not None
    doc = merge(first.id, doc, second, TAGGER.tag(second))
    assert doc is not None
    return doc


def bson_round_trip(doc: dict[str, Any]) -> dict[str, Any]:
    """What MongoDB gives back for ``doc`` (milliseconds, aware UTC datetimes)."""
    options: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=True)
    return bson.decode(bson.encode(doc), codec_options=options)


# -- derive -------------------------------------------------------------------------


def test_derive_writes_no_search_terms() -> None:
    item = copy("ODIHR")
    doc = derive(item.id, {item.copy_key: copy_record(item, TAGGER.tag(item))})
    assert not set(LEGACY_FIELDS) & set(doc)
    assert set(doc) == written_fields() - {StoryField.VERSION}
    assert doc[StoryField.TITLE] == item.title
    assert doc[StoryField.OFFICE_IDS] == ["odihr"]


def test_merge_keeps_every_other_field() -> None:
    doc = two_copy_story()
    assert set(doc) == written_fields()
    assert doc[StoryField.VERSION] == 2
    assert doc[StoryField.OFFICE_IDS] == ["hcnm", "odihr"]
    assert len(doc[StoryField.COPIES]) == 2
    assert doc[StoryField.BODY] == "Full text of the report."


def legacy_story() -> dict[str, Any]:
    """A story as the version before this one stored it: with index terms."""
    doc = two_copy_story()
    doc[StoryField.TITLE_TERMS] = ["odihr", "observers", "odihr observers"]
    doc[StoryField.SUMMARY_TERMS] = ["co", "operation", "co operation"]
    doc[StoryField.TERMS] = ["odihr", "observers", "report", "co operation"]
    return bson_round_trip(doc)


def test_a_legacy_story_reads_and_merges_a_new_copy_without_its_terms() -> None:
    old = legacy_story()
    assert read_story(old).id == old[StoryField.ID]  # an older story still reads
    third = copy("OSCE Secretariat")
    doc = merge(third.id, old, third, TAGGER.tag(third))
    assert doc is not None
    # The rewrite replaces the whole document: the legacy fields are gone.
    assert not set(LEGACY_FIELDS) & set(doc)
    assert doc[StoryField.VERSION] == old[StoryField.VERSION] + 1
    assert len(doc[StoryField.COPIES]) == 3
    # A copy of a legacy story already there changes nothing.
    second = copy("HCNM")
    assert merge(second.id, old, second, TAGGER.tag(second)) is None


# -- story_snapshot ----------------------------------------------------------------


def test_snapshot_is_the_stored_document_without_copies() -> None:
    doc = two_copy_story()
    snap = story_snapshot(doc)
    assert set(snap) == set(doc) - {StoryField.COPIES}
    assert snap[StoryField.ID] == doc[StoryField.ID]
    assert snap[StoryField.VERSION] == 2
    assert snap[StoryField.OFFICES] == doc[StoryField.OFFICES]
    assert snap[StoryField.BODY] == doc[StoryField.BODY]
    assert StoryField.COPIES in doc  # the argument is left alone


def test_snapshot_is_json_safe_and_survives_the_wire() -> None:
    snap = story_snapshot(two_copy_story())
    assert json.loads(json.dumps(snap)) == snap  # the standard library: no default needed
    assert orjson.loads(orjson.dumps(snap)) == snap


def test_snapshot_datetimes_are_utc_iso_strings_to_the_millisecond() -> None:
    snap = story_snapshot(two_copy_story())
    assert snap[StoryField.PUBLISHED_AT] == "2022-02-20T08:00:00.654Z"
    assert snap[StoryField.SORT_AT] == snap[StoryField.PUBLISHED_AT]
    assert snap[StoryField.FIRST_RECEIVED_AT] == "2026-11-26T08:30:00.123Z"
    parsed = datetime.fromisoformat(snap[StoryField.FIRST_RECEIVED_AT])
    assert parsed == NOW.replace(microsecond=123_000)
    assert parsed.utcoffset() == timedelta(0)


def test_snapshot_of_the_written_document_equals_the_snapshot_of_it_read_back() -> None:
    doc = two_copy_story()
    assert story_snapshot(bson_round_trip(doc)) == story_snapshot(doc)


def test_snapshot_of_a_legacy_story_leaves_its_terms_out() -> None:
    snap = story_snapshot(legacy_story())
    assert not set(LEGACY_FIELDS) & set(snap)
    assert StoryField.COPIES not in snap
    assert snap[StoryField.VERSION] == 2


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), "2026-01-02T03:04:05.000Z"),
        (datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC), "2026-01-02T03:04:05.999Z"),
        (
            datetime(2026, 1, 2, 1, 0, tzinfo=timezone(timedelta(hours=2))),
            "2026-01-01T23:00:00.000Z",
        ),
        (datetime(2026, 1, 2, 3, 4, 5, 7_000), "2026-01-02T03:04:05.007Z"),  # naive means UTC
    ],
)
def test_iso_millis(value: datetime, expected: str) -> None:
    assert iso_millis(value) == expected


def test_snapshot_refuses_what_json_cannot_carry() -> None:
    with pytest.raises(TypeError, match="bytes"):
        story_snapshot({StoryField.ID: "a", "blob": b"\x00"})
