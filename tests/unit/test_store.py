"""The store-document contract: what storage writes is what the gateway reads.

Storage's merge is run for real and its output read through
:class:`newsflow.store.StoredStory` and rendered by the gateway, so a field
renamed on one side only fails here, not in production.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import jsonschema

from newsflow.domain.normalise import normalise
from newsflow.domain.tags import Evidence, Tag, Tags
from newsflow.runtime.mongo import ITEM_INDEXES, LEGACY_ITEM_INDEXES
from newsflow.store import (
    LEGACY_FIELDS,
    StoredStory,
    StoryField,
    read_story,
    story_fields,
    written_fields,
)
from newsflow_gateway.renderers import syndication
from newsflow_gateway.renderers.ninjs_doc import to_ninjs
from newsflow_gateway.schemas import detail_from_doc, summary_from_doc
from newsflow_storage.merge import merge

NOW = datetime(2026, 11, 26, tzinfo=UTC)
NINJS_SCHEMA = json.loads(
    (Path(__file__).parents[1] / "data" / "ninjs-schema_2.2.json").read_text(encoding="utf-8")
)


def tags(office: str) -> Tags:
    return Tags(
        taxonomy_version="test-1",
        offices=[
            Tag(
                id=office,
                name=office.upper(),
                source="declared",
                confidence=1.0,
                label=office,
                evidence=[Evidence(field="declared", text=office)],
            )
        ],
        topics=[Tag(id="elections", name="Elections", source="inferred", confidence=0.8)],
        content_type=Tag(id="news", name="News", source="declared", confidence=1.0),
    )


def stored_story() -> dict[str, Any]:
    """A story with two copies, exactly as storage writes it."""
    raw: dict[str, Any] = {
        "title": "Observers publish their final report",
        "summary": "The co-operation of the authorities was noted.",
        "body": "Full text.",
        "published_at": "2022-02-20",
        "url": "https://www.osce.org/odihr/1",
        "language": "en",
        "source": "newsroom",
    }
    first = normalise({**raw, "offices": ["ODIHR"]}, now=NOW, received_at=NOW)
    second = normalise({**raw, "offices": ["HCNM"]}, now=NOW, received_at=NOW)
    doc = merge(first.id, None, first, tags("odihr"))
    assert doc is not None
    doc = merge(first.id, doc, second, tags("hcnm"))
    assert doc is not None
    return doc


def test_storage_writes_exactly_the_contract_fields() -> None:
    assert set(stored_story()) == written_fields()
    assert written_fields() | set(LEGACY_FIELDS) == story_fields()


def test_the_model_reads_every_contract_field_by_its_stored_name() -> None:
    names = {f.alias or name for name, f in StoredStory.model_fields.items()}
    assert names == story_fields() - set(LEGACY_FIELDS)  # older terms: never read


def test_indexes_name_only_contract_fields() -> None:
    keys = {key for index in ITEM_INDEXES for key in index.document["key"]}
    assert keys <= written_fields()


def test_the_record_keeps_only_the_re_enrichment_index() -> None:
    """Listings and search run in the gateway's index; MongoDB keeps what the record needs."""
    assert [i.document["name"] for i in ITEM_INDEXES] == ["taxonomy_version"]
    assert not {i.document["name"] for i in ITEM_INDEXES} & set(LEGACY_ITEM_INDEXES)


def test_a_stored_story_reads_back_whole() -> None:
    doc = stored_story()
    story = read_story(doc)
    assert story.id == doc[StoryField.ID]
    assert story.version == 2
    assert story.office_ids == ["hcnm", "odihr"]
    assert {t.id for t in story.offices} == {"hcnm", "odihr"}
    assert story.offices[0].labels
    assert story.content_type is not None
    assert story.content_type.id == "news"
    assert not set(LEGACY_FIELDS) & set(doc)  # no longer stored: the gateway's index searches
    assert len(story.copies) == 2
    assert {c.item.offices[0] for c in story.copies.values()} == {"ODIHR", "HCNM"}


def test_reading_is_tolerant_of_older_and_newer_documents() -> None:
    """A newer storage may add a field; an older one may not have written one yet."""
    doc = stored_story()
    newer = {**doc, "a_field_from_the_future": {"x": 1}}
    newer[StoryField.COPIES] = {
        k: {**c, "also_new": True} for k, c in doc[StoryField.COPIES].items()
    }
    assert read_story(newer).id == doc[StoryField.ID]
    older = {
        k: v
        for k, v in doc.items()
        if k not in {StoryField.FIRST_RECEIVED_AT, StoryField.OFFICES_PUBLISHED}
    }
    story = read_story(older)
    assert story.first_received_at is None
    assert story.offices_published == []


def test_a_projection_reads_with_defaults() -> None:
    doc = stored_story()
    story = read_story({StoryField.ID: doc[StoryField.ID], StoryField.TITLE: "Only a title"})
    assert story.copies == {}
    assert story.when is None


def test_gateway_renders_what_storage_wrote() -> None:
    story = read_story(stored_story())
    summary = summary_from_doc(story, 3.0)
    assert summary.id == story.id
    assert summary.score == 3.0
    assert {o.id for o in summary.offices} == {"hcnm", "odihr"}
    detail = detail_from_doc(story)
    assert detail.body == "Full text."
    assert sorted(c.offices[0] for c in detail.copies) == ["HCNM", "ODIHR"]
    assert detail.published_by == ["HCNM", "ODIHR"]
    jsonschema.Draft202012Validator(NINJS_SCHEMA).validate(to_ninjs(story))
    feed = ET.fromstring(
        syndication.atom([story], title="t", self_url="http://x/feed", item_url="http://x/{id}")
    )
    entry = feed.find(f"{{{syndication.ATOM_NS}}}entry")
    assert entry is not None
    assert entry.findtext(f"{{{syndication.ATOM_NS}}}title") == story.title
