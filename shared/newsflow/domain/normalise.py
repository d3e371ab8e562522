"""Validate, clean and identify one publisher item: the ingest service's pure core.

``normalise(raw, now=...)`` takes whatever arrived in a stream entry and returns
a :class:`~newsflow.domain.items.NewsItem`, or raises :class:`Rejection` with a reason a
publisher can act on. It does no I/O, so ``newsflow push`` can run the same checks
before sending, and tests need no servers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Final
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

import orjson
from pydantic import ValidationError

from newsflow.domain.contract import (
    EARLIEST_DATE,
    MAX_ITEM_BYTES,
    PublisherItem,
    describe_errors,
    summarise_errors,
)
from newsflow.domain.formats.common import not_json, without_bom
from newsflow.domain.formats.html import looks_like_html, strip_html
from newsflow.domain.items import NewsItem
from newsflow.domain.text import clean_block, clean_line, identity_key, is_blank, label_key
from newsflow.streams import ITEM_FIELD

#: How far in the future a publishing date may lie (clock skew, time zones).
FUTURE_TOLERANCE: Final = timedelta(days=1)

#: Query parameters that only track the reader; they never change the story.
_TRACKING_PARAMS: Final = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "_ga", "igshid", "ref_src"}
)


class Rejection(Exception):  # noqa: N818 - a rejection is an outcome, not a bug
    """An item that cannot enter the pipeline, with field-level reasons."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors
        super().__init__(summarise_errors(errors))

    @property
    def reason(self) -> str:
        return str(self)

    @classmethod
    def single(cls, field: str, message: str) -> Rejection:
        return cls([{"field": field, "message": message}])


def decode_entry(body: Any) -> dict[str, Any]:
    """Turn what FastStream hands us for one stream entry into the item's JSON object.

    Accepted shapes:
    - a plain entry ``item=<json>`` arrives as ``{"item": "<json>"}``;
    - FastStream's envelope (or ``__data__=<json>``) arrives already decoded, as the
      item object itself, or as a JSON string.

    One leading byte-order mark is dropped before the JSON is read (and is not
    counted against the size limit), as ``POST /v1/items`` and ``newsflow push`` do.
    """
    if isinstance(body, Mapping) and ITEM_FIELD in body:
        extra = sorted(str(k) for k in body if k != ITEM_FIELD)
        if extra:
            raise Rejection.single(
                "entry", f"unexpected stream fields {extra}; put everything in the 'item' field"
            )
        body = body[ITEM_FIELD]
    if isinstance(body, bytes | bytearray | str):
        body = without_bom(body) if isinstance(body, str) else without_bom(bytes(body))
        try:
            size = len(body.encode() if isinstance(body, str) else body)
        except UnicodeEncodeError:
            # Text decoded with surrogateescape (stdin of ``newsflow tag``) from
            # bytes that are not UTF-8: UTF-16, Latin-1.
            raise Rejection.single("item", "not UTF-8 text") from None
        if size > MAX_ITEM_BYTES:
            raise Rejection.single("item", f"item is {size} bytes; the limit is {MAX_ITEM_BYTES}")
        try:
            body = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise Rejection.single("item", not_json(exc)) from None
    if not isinstance(body, Mapping):
        raise Rejection.single("item", f"must be a JSON object, got {type(body).__name__}")
    return dict(body)


def canonical_url(url: str) -> str:
    """Canonical form of an http(s) URL, so one story has one URL.

    Lower-cases scheme and host, drops default ports, fragments and tracking
    parameters (utm_*, fbclid, ...), sorts the remaining query, normalises
    percent-encoding and removes a trailing slash from the path.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"not a valid URL: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("must be an http or https URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ValueError("must have a host")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ValueError("host is not a valid domain name") from None
    if parts.username or parts.password:
        raise ValueError("must not contain a user name or password")
    netloc = (
        host
        if port is None or (scheme, port) in (("http", 80), ("https", 443))
        else (f"{host}:{port}")
    )
    path = quote(unquote(parts.path), safe="/:@!$&'()*+,;=-._~") or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
    )
    return urlunsplit((scheme, netloc, path, urlencode(query), ""))


def _digest(*parts: str, size: int) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:size]


def guid_identity(guid: str) -> str:
    """The form of a publisher's guid that identifies its story: trimmed, else exact.

    A guid is compared as written, case included (``ABC123`` and ``abc123`` are two
    stories), except where its own standard says otherwise: for a URN, RFC 8141
    (section 3.1) makes the ``urn:`` scheme and the namespace id case-insensitive, so
    ``URN:NewsML:example.com:1`` and ``urn:newsml:example.com:1`` are one story.
    """
    text = guid.strip()
    scheme, colon, rest = text.partition(":")
    if colon and scheme.lower() == "urn":
        nid, colon, nss = rest.partition(":")
        return f"urn:{nid.lower()}{colon}{nss}"
    return text


def story_id(
    *, url: str | None, title: str, published_at: datetime | None, guid: str | None = None
) -> str:
    """The deterministic id of a story (ADR 0002).

    With a URL the story is its URL. Without one, the publisher's permanent guid
    (a NewsML-G2 guid, a ninjs uri) is the story, so a corrected headline in a later
    version stays the same story. Without either, the same headline on the same
    publishing day is the same story, whichever office published it.
    """
    if url:
        return _digest("url", url, size=32)
    if guid and guid.strip():
        return _digest("guid", guid_identity(guid), size=32)
    day = published_at.date().isoformat() if published_at else ""
    return _digest("title", identity_key(title), day, size=32)


def copy_key(*, source: str | None, offices: list[str]) -> str:
    """Which copy of a story this is: its publisher and the offices it was filed under."""
    return _digest(
        "copy", identity_key(source or ""), *sorted(identity_key(o) for o in offices), size=16
    )


def _plain(text: str, *, paragraphs: bool = False) -> str:
    """Text fields are plain text: markup is stripped by an allow-list sanitiser."""
    return strip_html(text, keep_paragraphs=paragraphs) if looks_like_html(text) else text


def _ms(value: datetime | None) -> datetime | None:
    """Truncate to milliseconds: MongoDB stores no finer, and replays must compare equal."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000) if value else None


def _labels(values: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        label = clean_line(value)
        if not is_blank(label):
            seen.setdefault(label_key(label), label)
    return list(seen.values())


def normalise(raw: Any, *, now: datetime, received_at: datetime | None = None) -> NewsItem:
    """Validate and normalise one item; raise :class:`Rejection` if it cannot be accepted."""
    data = decode_entry(raw)
    bad_keys = [k for k in data if not isinstance(k, str) or k.startswith("$") or "." in k]
    if bad_keys:
        raise Rejection.single(
            "item", f"field names may not start with '$' or contain '.': {bad_keys}"
        )
    try:
        item = PublisherItem.model_validate(data)
    except ValidationError as exc:
        raise Rejection(describe_errors(exc)) from None

    title = clean_line(_plain(item.title))
    if is_blank(title):
        raise Rejection.single("title", "must not be empty")
    url = None
    if item.url:
        try:
            url = canonical_url(item.url)
        except ValueError as exc:
            raise Rejection.single("url", str(exc)) from None
    for field, value in (("published_at", item.published_at), ("updated_at", item.updated_at)):
        if value is not None and value > now + FUTURE_TOLERANCE:
            raise Rejection.single(field, f"{value.isoformat()} is in the future")
        if value is not None and value < EARLIEST_DATE:
            raise Rejection.single(field, f"{value.isoformat()} is before {EARLIEST_DATE.year}")

    offices = _labels(item.offices)
    revision = item.revision
    if revision is None:
        revision = int(item.updated_at.timestamp() * 1_000_000) if item.updated_at else 0
    summary = clean_block(_plain(item.summary, paragraphs=True)) if item.summary else None
    body = clean_block(_plain(item.body, paragraphs=True)) if item.body else None
    return NewsItem(
        id=story_id(url=url, title=title, published_at=item.published_at, guid=item.guid),
        copy_key=copy_key(source=item.source, offices=offices),
        title=title,
        summary=summary or None,
        body=body or None,
        url=url,
        guid=item.guid,
        published_at=_ms(item.published_at),
        updated_at=_ms(item.updated_at),
        revision=revision,
        content_type=clean_line(item.content_type) if item.content_type else None,
        offices=offices,
        topics=_labels(item.topics),
        countries=_labels(item.countries),
        language=item.language.lower() if item.language else None,
        language_source="declared" if item.language else None,
        source=clean_line(item.source) if item.source else None,
        idempotency_key=item.idempotency_key,
        received_at=_ms(received_at or now),
    )
