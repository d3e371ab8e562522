"""The stored story document, and how copies of a story merge into it.

A story is one document however many offices published it. Each copy (one per
publisher and set of declared offices) is kept under ``copies.<copy_key>`` with its
own revision; everything the API shows and filters on is *derived* from all
copies by :func:`derive`: the union of their tags and ids, and the fullest text.
The document's fields are the contract in :mod:`newsflow.store`, which the gateway
reads through. Because derivation depends only on the set of copies, the result is
the same whatever order copies and replays arrive in, and a replay changes nothing.

Search terms are not stored: the gateway keeps its own search index, fed by the
:func:`story_snapshot` each ``ItemStored`` announcement carries. Stories an older
version stored still hold the legacy term fields (``newsflow.store.LEGACY_FIELDS``);
merging a new copy into one rewrites it without them.

Pure functions only: the storage service does the I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from newsflow.domain.items import NewsItem
from newsflow.domain.tags import Tags
from newsflow.store import LEGACY_FIELDS
from newsflow.store import StoryField as F


def copy_record(item: NewsItem, tags: Tags) -> dict[str, Any]:
    """What we keep of one copy of a story."""
    return {
        "copy_key": item.copy_key,
        "revision": item.revision,
        "received_at": item.received_at,
        "item": item.model_dump(mode="python"),
        "tags": tags.model_dump(mode="python"),
    }


def should_replace(existing: Mapping[str, Any] | None, incoming: Mapping[str, Any]) -> bool:
    """Whether ``incoming`` supersedes the stored copy with the same key.

    A higher revision wins; an older one never overwrites a newer one. At equal
    revision the same content received again changes nothing, and different
    content (a correction without a revision) wins if it was received later.
    """
    if existing is None:
        return True
    if incoming["revision"] != existing["revision"]:
        return bool(incoming["revision"] > existing["revision"])
    if _content(incoming) == _content(existing):
        return False  # the same copy received again: a replay, or a publisher's retry
    return bool(incoming["received_at"] >= existing["received_at"])


def _content(record: Mapping[str, Any]) -> dict[str, Any]:
    """A copy without its receive times, which differ between deliveries of one story."""
    return {**record, "received_at": None, "item": {**record["item"], "received_at": None}}


def _tag_key(tag: Mapping[str, Any]) -> str:
    return str(tag["id"]) if tag.get("id") else "label:" + str(tag.get("label") or tag["name"])


def merge_tags(groups: Iterable[Iterable[Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """Union of tags by canonical id: declared beats inferred, highest confidence kept,
    evidence and published labels accumulated."""
    merged: dict[str, dict[str, Any]] = {}
    for group in groups:
        for tag in group:
            key = _tag_key(tag)
            current = merged.get(key)
            if current is None:
                merged[key] = {
                    **tag,
                    "evidence": list(tag.get("evidence", [])),
                    "labels": [tag["label"]] if tag.get("label") else [],
                }
                continue
            if tag["source"] == "declared" and current["source"] != "declared":
                current["source"] = "declared"
            current["confidence"] = max(current["confidence"], tag["confidence"])
            for ev in tag.get("evidence", []):
                if ev not in current["evidence"]:
                    current["evidence"].append(ev)
            if tag.get("label") and tag["label"] not in current["labels"]:
                current["labels"].append(tag["label"])
    return sorted(merged.values(), key=lambda t: (-t["confidence"], _tag_key(t)))


def derive(story_id: str, copies: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Every queryable field of a story, computed from its copies."""
    ordered = [copies[k] for k in sorted(copies)]
    items = [c["item"] for c in ordered]
    tags = [c["tags"] for c in ordered]
    # The fullest copy supplies the text: longest body, then longest summary.
    primary = max(
        items,
        key=lambda i: (len(i.get("body") or ""), len(i.get("summary") or ""), i["copy_key"]),
    )
    published = [i["published_at"] for i in items if i.get("published_at")]
    published_at: datetime | None = min(published) if published else None
    first_received = min(i["received_at"] for i in items)
    offices = merge_tags(t["offices"] for t in tags)
    topics = merge_tags(t["topics"] for t in tags)
    countries = merge_tags(t["countries"] for t in tags)
    content_types = merge_tags([t["content_type"]] for t in tags if t.get("content_type"))
    content_type = content_types[0] if content_types else None
    languages = sorted({i["language"] for i in items if i.get("language")})
    return {
        F.ID: story_id,
        F.TITLE: primary["title"],
        F.SUMMARY: primary.get("summary"),
        F.BODY: primary.get("body"),
        F.URL: next((i["url"] for i in items if i.get("url")), None),
        F.PUBLISHED_AT: published_at,
        F.SORT_AT: published_at or first_received,
        F.FIRST_RECEIVED_AT: first_received,
        F.LANGUAGE: languages[0] if languages else None,
        F.SOURCES: sorted({i["source"] for i in items if i.get("source")}),
        F.OFFICES_PUBLISHED: sorted({o for i in items for o in i.get("offices", [])}),
        F.OFFICES: offices,
        F.TOPICS: topics,
        F.COUNTRIES: countries,
        F.CONTENT_TYPE: content_type,
        F.OFFICE_IDS: sorted({t["id"] for t in offices if t.get("id")}),
        F.TOPIC_IDS: sorted({t["id"] for t in topics if t.get("id")}),
        F.COUNTRY_IDS: sorted({t["id"] for t in countries if t.get("id")}),
        F.CONTENT_TYPE_ID: content_type["id"] if content_type else None,
        F.TAXONOMY_VERSION: min(t["taxonomy_version"] for t in tags),
        F.COPIES: {c["copy_key"]: dict(c) for c in ordered},
    }


def merge(
    story_id: str, existing: Mapping[str, Any] | None, item: NewsItem, tags: Tags
) -> dict[str, Any] | None:
    """The new document after adding one copy, or None when nothing changes."""
    incoming = copy_record(item, tags)
    copies = dict(existing.get(F.COPIES, {})) if existing else {}
    if not should_replace(copies.get(item.copy_key), incoming):
        return None
    copies[item.copy_key] = incoming
    doc = derive(story_id, copies)
    doc[F.VERSION] = (existing.get(F.VERSION, 0) if existing else 0) + 1
    return doc


#: What a snapshot leaves out of the stored document: the copies (the index needs
#: only the derived fields) and the term fields an older version stored.
_NOT_IN_SNAPSHOT: frozenset[str] = frozenset((F.COPIES, *LEGACY_FIELDS))


def story_snapshot(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The stored story as ``ItemStored.story`` carries it: JSON-safe, without copies.

    Every derived field is kept, ``_id`` and ``_v`` included (``_v`` orders the
    versions of one story when announcements arrive out of order). Datetimes become
    ISO-8601 UTC strings to the millisecond, the precision MongoDB keeps, so the
    snapshot of a document just written equals the snapshot of it read back. The
    legacy term fields of a story an older version stored are left out too.
    """
    return {k: _json_safe(v) for k, v in doc.items() if k not in _NOT_IN_SNAPSHOT}


def iso_millis(value: datetime) -> str:
    """``2026-11-26T08:30:00.123Z``: UTC, truncated to the millisecond as BSON does.

    A naive datetime (PyMongo without ``tz_aware``) already means UTC.
    """
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"


def _json_safe(value: Any) -> Any:
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, datetime):
        return iso_millis(value)
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    raise TypeError(f"{type(value).__name__} has no JSON form in a story snapshot")
