"""The search index's schema, and the one mapping from a stored story to an index document.

Fields (``<a>`` is each analyser code of :mod:`.analysis`):

- ``id``: the story id, raw, stored and fast; the key of upserts and deletes.
- ``title_<a>``, ``summary_<a>``, ``body_<a>``: the item's text, filled only for the
  analyser of the item's language. ``body_<a>`` is stored (for highlights); title and
  summary are in the payload. Each hyphenated or dotted word is also indexed joined
  (a second value: ``co-operation`` adds ``cooperation``) so either spelling finds the
  other, also within a ``title:`` or ``summary:`` scope.
- ``tags_<a>``: canonical tag names, tag ids and every published label, so ``ODIHR``
  finds a story that only spells out the office's full name.
- ``analyzer``: which analyser the item used (raw, stored), so that a purely negative query
  can start from "every item of this analyser".
- ``topic_ids``, ``office_ids``, ``country_ids``, ``content_type_id``, ``language``,
  ``month`` (``YYYY-MM`` of ``sort_at``): raw fast fields for filters and facets.
- ``sort_at``: fast, indexed date for date ranges.
- ``sort_key``: fast, indexed integer, ``sort_at`` in seconds shifted left by
  :data:`TIE_BITS` plus the low bits of a hash of the id. Tantivy orders hits by one
  field and ranges only over numbers, so this single integer carries both the order
  and (almost always) a unique tie-break; :mod:`.index` settles the rare equal keys by
  id, which makes the order (``sort_key``, ``id``) total and keyset paging exact.
- ``version``: stored, fast integer, the story's write counter (``_v``): the follower
  keeps the newest version when announcements arrive out of order.
- ``payload``: stored JSON of the story as stored, without its copies, body (stored in
  ``body_<a>``) and the search terms older versions kept in MongoDB, so listing, feeds
  and ninjs need no MongoDB read.

:func:`fingerprint` hashes this layout together with the analysis; an index whose
recorded fingerprint differs is stale and must be rebuilt.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from functools import cache
from typing import Any, Final

import orjson
import tantivy

from newsflow.store import LEGACY_FIELDS, StoryField
from newsflow_gateway.index import analysis

#: Bump on any change to the fields below or to :func:`to_index_doc`.
SCHEMA_VERSION: Final = 2

#: Text sources, each one field per analyser.
TEXT_SOURCES: Final = ("title", "summary", "body", "tags")
#: Taxonomy fields: raw, fast, multi-valued where the story has several.
KEYWORD_FIELDS: Final = (
    "topic_ids",
    "office_ids",
    "country_ids",
    "content_type_id",
    "language",
    "month",
)
#: Low bits of ``sort_key`` taken by the id hash (the rest is seconds since 1970).
TIE_BITS: Final = 29
_TIE_MASK: Final = (1 << TIE_BITS) - 1
#: ``sort_at`` seconds are clamped into this range so the key fits a signed 64-bit int.
_MAX_SECONDS: Final = (1 << (63 - TIE_BITS)) - 1

#: Runs of letters/digits joined by hyphens, dots or apostrophes: "co-operation", "U.S.".
#: Starts only at a word start and never backtracks into a word (7x faster on a body).
_COMPOUND: Final = re.compile(r"(?<![^\W_])[^\W_]++(?:[-‐‑.'’][^\W_]++)+")
_SEPARATORS: Final = re.compile(r"[-‐‑.'’]")


class IndexDocError(ValueError):
    """A stored story that cannot be indexed (missing id or sort time)."""


def text_field(source: str, code: str) -> str:
    """The field holding ``source`` text ("title", ...) for analyser ``code``."""
    return f"{source}_{code}"


@cache
def build_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("id", stored=True, fast=True, tokenizer_name="raw")
    for spec in analysis.ANALYZERS:
        for source in TEXT_SOURCES:
            builder.add_text_field(
                text_field(source, spec.code),
                stored=source == "body",
                tokenizer_name=spec.tokenizer_name,
                index_option="position",
            )
    builder.add_text_field("analyzer", stored=True, tokenizer_name="raw", fast=True)
    for name in KEYWORD_FIELDS:
        builder.add_text_field(name, tokenizer_name="raw", fast=True)
    builder.add_date_field("sort_at", indexed=True, fast=True)
    builder.add_integer_field("sort_key", indexed=True, fast=True)
    builder.add_integer_field("version", stored=True, fast=True)
    builder.add_bytes_field("payload", stored=True)
    return builder.build()


def fingerprint() -> str:
    """A digest of the schema layout and the analysis; recorded with the index."""
    layout = {
        "schema_version": SCHEMA_VERSION,
        "sources": TEXT_SOURCES,
        "keywords": KEYWORD_FIELDS,
        "tie_bits": TIE_BITS,
        **analysis.fingerprint_parts(),
    }
    return hashlib.sha256(orjson.dumps(layout, option=orjson.OPT_SORT_KEYS)).hexdigest()[:32]


def as_utc(value: datetime) -> datetime:
    """PyMongo returns naive datetimes that mean UTC; make every datetime aware."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: Tantivy keeps dates as nanoseconds in a signed 64-bit integer: 1677-09-22 to 2262-04-11.
_DATE_MIN: Final = datetime(1677, 9, 22, tzinfo=UTC)
_DATE_MAX: Final = datetime(2262, 4, 11, tzinfo=UTC)


def indexable(value: datetime) -> datetime:
    """``value`` clamped into the range a Tantivy date holds (a filter on year 9999 or a
    story dated year 1 must not fail; they sort at the ends)."""
    return min(max(as_utc(value), _DATE_MIN), _DATE_MAX)


def tie_break(story_id: str) -> int:
    """The low bits of ``sort_key``: a stable hash of the id."""
    digest = hashlib.blake2b(story_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") & _TIE_MASK


def sort_key(sort_at: datetime, story_id: str) -> int:
    """One integer ordering stories by ``sort_at`` (to the second), then by id hash."""
    seconds = int(as_utc(sort_at).timestamp())
    seconds = max(-_MAX_SECONDS, min(_MAX_SECONDS, seconds))
    return (seconds << TIE_BITS) | tie_break(story_id)


def joined_forms(text: str) -> list[str]:
    """Each hyphenated/dotted/apostrophised word written without its separators."""
    return list(dict.fromkeys(_SEPARATORS.sub("", m) for m in _COMPOUND.findall(text)))


def _tag_texts(tags: Iterable[Mapping[str, Any]]) -> list[str]:
    texts: list[str] = []
    for tag in tags:
        for value in (tag.get("id"), tag.get("name"), tag.get("label"), *tag.get("labels", [])):
            if isinstance(value, str) and value and value not in texts:
                texts.append(value)
    return texts


#: Stored-document fields the payload leaves out: the copies (only the item page shows
#: them, from MongoDB), the body (stored in its text field) and older versions' terms.
_NOT_IN_PAYLOAD: Final = frozenset({StoryField.COPIES, StoryField.BODY, *LEGACY_FIELDS})


def _payload(doc: Mapping[str, Any]) -> bytes:
    out = {k: v for k, v in doc.items() if k not in _NOT_IN_PAYLOAD}
    return orjson.dumps(out, option=orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z)


def parse_time(value: object) -> datetime | None:
    """A stored time: a datetime (from MongoDB) or ISO-8601 text (from a snapshot)."""
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str) and value:
        try:
            return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError:
            return None
    return None


def version_of(doc: Mapping[str, Any]) -> int:
    """The story's write counter; 0 for one without (written before counters existed)."""
    value = doc.get("_v")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def to_index_doc(doc: Mapping[str, Any]) -> tantivy.Document:
    """The index document for one stored story (the MongoDB document storage writes).

    The single place that knows the stored document's shape (see
    ``newsflow_storage.merge.derive``): ``_id``, ``title``, ``summary``, ``body``,
    ``language``, ``sort_at``, the tag lists and the ``*_ids`` fields.
    """
    story_id = doc.get("_id")
    sort_at = parse_time(doc.get("sort_at")) or parse_time(doc.get("published_at"))
    if not isinstance(story_id, str) or not story_id:
        raise IndexDocError("story has no string _id")
    if sort_at is None:
        raise IndexDocError(f"story {story_id} has no sort_at time")
    code = analysis.code_for_item(
        doc.get("language"), doc.get("title"), doc.get("summary"), doc.get("body")
    )
    out = tantivy.Document()
    out.add_text("id", story_id)
    out.add_text("analyzer", code)
    texts = {
        "title": [doc.get("title") or ""],
        "summary": [doc.get("summary") or ""],
        "body": [doc.get("body") or ""],
        "tags": _tag_texts(
            [
                *(doc.get("offices") or []),
                *(doc.get("topics") or []),
                *(doc.get("countries") or []),
                *([doc["content_type"]] if doc.get("content_type") else []),
            ]
        ),
    }
    for source, values in texts.items():
        field = text_field(source, code)
        joined: list[str] = []
        for value in values:
            if value:
                out.add_text(field, value)
                joined.extend(joined_forms(value))
        if joined:
            # A second value: the stored first value stays the text as published.
            out.add_text(field, " ".join(dict.fromkeys(joined)))
    for name in ("topic_ids", "office_ids", "country_ids"):
        for value in doc.get(name) or []:
            out.add_text(name, str(value))
    if doc.get("content_type_id"):
        out.add_text("content_type_id", str(doc["content_type_id"]))
    if doc.get("language"):
        out.add_text("language", str(doc["language"]))
    when = as_utc(sort_at)
    out.add_text("month", f"{when.year:04d}-{when.month:02d}")
    out.add_date("sort_at", indexable(when))
    out.add_integer("sort_key", sort_key(when, story_id))
    out.add_integer("version", version_of(doc))
    out.add_bytes("payload", _payload(doc))
    return out
