"""IPTC ninjs 2.2 (News in JSON) output.

Topics become ``subjects``, offices ``organisations`` and countries ``places``,
each with our own URN (``urn:newsflow:osce:<kind>:<id>``) and the tag's
confidence (0-100). ``tests/integration/test_gateway.py`` validates real output
against IPTC's published JSON schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

NINJS_MEDIA_TYPE = "application/ninjs+json"
SCHEMA_URI = "http://www.iptc.org/std/ninjs/ninjs-schema_2.2.json"


def urn(kind: str, ident: str) -> str:
    return f"urn:newsflow:osce:{kind}:{ident}"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _concepts(tags: list[dict[str, Any]], kind: str, *, subject: bool) -> list[dict[str, Any]]:
    out = []
    for tag in tags:
        concept: dict[str, Any] = {"name": tag["name"]}
        if tag.get("id"):
            concept["uri"] = urn(kind, tag["id"])
        else:
            concept["literal"] = tag["name"]
        concept["rel"] = tag["source"]
        if subject:
            concept["confidence"] = round(tag["confidence"] * 100)
        out.append(concept)
    return out


def to_ninjs(doc: dict[str, Any]) -> dict[str, Any]:
    """One stored story as a ninjs 2.2 object."""
    item: dict[str, Any] = {
        "uri": urn("item", doc["_id"]),
        "standard": {"name": "ninjs", "version": "2.2", "schema": SCHEMA_URI},
        "type": "text",
        "representationtype": "full" if doc.get("body") else "partial",
        "pubstatus": "usable",
        "headlines": [{"value": doc["title"]}],
    }
    if doc.get("summary"):
        item["descriptions"] = [{"value": doc["summary"], "contenttype": "text/plain"}]
    if doc.get("body"):
        item["bodies"] = [
            {"value": doc["body"], "contenttype": "text/plain", "charcount": len(doc["body"])}
        ]
    if doc.get("published_at"):
        item["firstcreated"] = _iso(doc["published_at"])
        item["contentcreated"] = _iso(doc["published_at"])
    item["versioncreated"] = _iso(doc.get("stored_at") or doc.get("first_received_at"))
    if not item["versioncreated"]:
        del item["versioncreated"]
    if doc.get("language"):
        item["language"] = doc["language"]
    if doc.get("topics"):
        item["subjects"] = _concepts(doc["topics"], "topic", subject=True)
    if doc.get("offices"):
        item["organisations"] = _concepts(doc["offices"], "office", subject=False)
    if doc.get("countries"):
        item["places"] = _concepts(doc["countries"], "country", subject=False)
    if doc.get("content_type"):
        ct = doc["content_type"]
        genre: dict[str, Any] = {"name": ct["name"]}
        if ct.get("id"):
            genre["uri"] = urn("content-type", ct["id"])
        item["genres"] = [genre]
    if doc.get("url"):
        item["altids"] = [{"role": "url", "value": doc["url"]}]
    if doc.get("sources"):
        item["infosources"] = [{"name": s} for s in doc["sources"]]
    return item
