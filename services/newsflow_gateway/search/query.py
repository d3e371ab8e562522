"""Turn API query parameters into a MongoDB filter, and pages into cursors. Pure.

User input never reaches the database as an operator or a pattern: words become
exact matches on our own ``terms`` array, ids are checked against the taxonomy,
and dates are parsed before use.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from datetime import datetime
from itertools import pairwise
from typing import Any

import orjson

from newsflow.domain import search

_QUOTED = re.compile(r'(-?)"([^"]*)"')


@dataclass(frozen=True)
class TextQuery:
    """A parsed ``q``: words and phrases that must appear, and ones that must not."""

    required: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)

    def units(self) -> list[str]:
        """Index terms that must all be present: words, and the word pairs of phrases."""
        must: list[str] = list(self.required)
        for phrase in self.phrases:
            pairs = [f"{a} {b}" for a, b in pairwise(phrase)]
            must.extend(pairs or phrase)
        return list(dict.fromkeys(must))

    def matches(self, terms: set[str]) -> bool:
        """The same test as :meth:`filter`, in Python (for the live stream)."""
        return set(self.units()) <= terms and not (set(self.excluded) & terms)

    def filter(self) -> dict[str, Any]:
        clauses: dict[str, Any] = {}
        must = self.units()
        if must:
            clauses["$all"] = list(dict.fromkeys(must))
        if self.excluded:
            clauses["$nin"] = list(dict.fromkeys(self.excluded))
        return {"terms": clauses} if clauses else {}


def parse_text_query(q: str | None) -> TextQuery:
    """``asset recovery "rule of law" -ukraine`` → required, phrases, excluded."""
    if not q:
        return TextQuery()
    required: list[str] = []
    phrases: list[list[str]] = []
    excluded: list[str] = []

    def take_quoted(match: re.Match[str]) -> str:
        ws = search.words(match.group(2))
        if match.group(1) == "-":
            excluded.extend(f"{a} {b}" for a, b in pairwise(ws))
            if len(ws) == 1:
                excluded.extend(ws)
        elif len(ws) > 1:
            phrases.append(ws)
        elif ws:
            required.extend(ws)
        return " "

    rest = _QUOTED.sub(take_quoted, q)
    for token in rest.split():
        negative = token.startswith("-") and len(token) > 1
        ws = [w for w in search.words(token) if w not in search.STOP_WORDS]
        (excluded if negative else required).extend(ws)
    return TextQuery(required=required, phrases=phrases, excluded=excluded)


@dataclass(frozen=True)
class Filters:
    topic: list[str] = field(default_factory=list)
    office: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    content_type: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    date_from: datetime | None = None
    date_to: datetime | None = None

    def filter(self) -> dict[str, Any]:
        """Values within one filter are OR ($in); filters together are AND."""
        out: dict[str, Any] = {}
        for key, values in (
            ("topic_ids", self.topic),
            ("office_ids", self.office),
            ("country_ids", self.country),
            ("content_type_id", self.content_type),
            ("language", self.language),
        ):
            if values:
                out[key] = values[0] if len(values) == 1 else {"$in": list(values)}
        if self.date_from or self.date_to:
            span: dict[str, datetime] = {}
            if self.date_from:
                span["$gte"] = self.date_from
            if self.date_to:
                span["$lte"] = self.date_to
            out["sort_at"] = span
        return out

    def matches(self, doc: dict[str, Any]) -> bool:
        """The same test as :meth:`filter`, in Python (for the live stream)."""
        for key, values in (
            ("topic_ids", self.topic),
            ("office_ids", self.office),
            ("country_ids", self.country),
        ):
            if values and not set(values) & set(doc.get(key) or []):
                return False
        if self.content_type and doc.get("content_type_id") not in self.content_type:
            return False
        if self.language and doc.get("language") not in self.language:
            return False
        when = doc.get("sort_at")
        if self.date_from and (when is None or when < self.date_from):
            return False
        return not (self.date_to and (when is None or when > self.date_to))


def build_filter(filters: Filters, text: TextQuery) -> dict[str, Any]:
    return {**filters.filter(), **text.filter()}


def encode_cursor(values: list[Any]) -> str:
    raw = orjson.dumps([v.isoformat() if isinstance(v, datetime) else v for v in values])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class CursorError(ValueError):
    pass


def decode_cursor(cursor: str, kinds: tuple[type, ...]) -> list[Any]:
    """Decode a cursor made by :func:`encode_cursor`; values typed by ``kinds``."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = orjson.loads(raw)
    except (ValueError, orjson.JSONDecodeError):
        raise CursorError("malformed cursor") from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise CursorError("malformed cursor")
    out: list[Any] = []
    for value, kind in zip(values, kinds, strict=True):
        try:
            if kind is datetime:
                out.append(datetime.fromisoformat(value))
            elif kind is str and isinstance(value, str):
                out.append(value)
            elif kind is float and isinstance(value, int | float):
                out.append(float(value))
            else:
                raise CursorError("malformed cursor")
        except (TypeError, ValueError):
            raise CursorError("malformed cursor") from None
    return out
