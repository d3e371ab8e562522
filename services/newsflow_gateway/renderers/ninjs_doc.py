"""IPTC ninjs 2.2 (News in JSON) output.

Topics become ``subjects``, offices ``organisations`` and countries ``places``,
each with our own URN (``urn:newsflow:osce:<kind>:<id>``) and the tag's
confidence (0-100). ``tests/e2e/test_gateway.py``
(``TestFormats.test_ninjs_validates_against_iptc_schema``) validates real output
against IPTC's published JSON schema, and ``tests/unit/test_store.py`` the output
for a story built by storage's own merge.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from newsflow.store import StoredStory, StoredTag

NINJS_MEDIA_TYPE = "application/ninjs+json"
SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"


def urn(kind: str, ident: str) -> str:
    return f"urn:newsflow:osce:{kind}:{ident}"


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _concepts(tags: list[StoredTag], kind: str, *, subject: bool) -> list[dict[str, Any]]:
    out = []
    for tag in tags:
        concept: dict[str, Any] = {"name": tag.name}
        if tag.id:
            concept["uri"] = urn(kind, tag.id)
        else:
            concept["literal"] = tag.name
        concept["rel"] = tag.source
        if subject:
            concept["confidence"] = round(tag.confidence * 100)
        out.append(concept)
    return out


def to_ninjs(story: StoredStory) -> dict[str, Any]:
    """One stored story as a ninjs 2.2 object."""
    item: dict[str, Any] = {
        "uri": urn("item", story.id),
        "standard": {"name": "ninjs", "version": "2.2", "schema": SCHEMA_URI},
        "type": "text",
        "representationtype": "full" if story.body else "partial",
        "pubstatus": "usable",
        "headlines": [{"value": story.title}],
    }
    if story.summary:
        item["descriptions"] = [{"value": story.summary, "contenttype": "text/plain"}]
    if story.body:
        item["bodies"] = [
            {"value": story.body, "contenttype": "text/plain", "charcount": len(story.body)}
        ]
    if story.published_at:
        item["firstcreated"] = _iso(story.published_at)
        item["contentcreated"] = _iso(story.published_at)
    if story.first_received_at:
        item["versioncreated"] = _iso(story.first_received_at)
    if story.language:
        item["language"] = story.language
    if story.topics:
        item["subjects"] = _concepts(story.topics, "topic", subject=True)
    if story.offices:
        item["organisations"] = _concepts(story.offices, "office", subject=False)
    if story.countries:
        item["places"] = _concepts(story.countries, "country", subject=False)
    if story.content_type:
        ct = story.content_type
        genre: dict[str, Any] = {"name": ct.name}
        if ct.id:
            genre["uri"] = urn("content-type", ct.id)
        item["genres"] = [genre]
    if story.url:
        item["altids"] = [{"role": "url", "value": story.url}]
    if story.sources:
        item["infosources"] = [{"name": s} for s in story.sources]
    return item
