"""RSS 2.0 and Atom 1.0 feeds read from a file, parsed with ``feedparser``.

``feedparser`` copes with the feeds found in the wild (bad encodings, unclosed
tags, five date formats); this module only maps its entries onto the publisher
contract and makes the call safe:

* The text goes in as a byte stream. Given a ``str``, ``feedparser.parse`` treats
  a URL as something to fetch and a path as a file to open; a stream is only data.
* Every document passes :func:`~newsflow.domain.formats.xmlguard.refuse_reason`
  first: one that declares a DTD or an entity is refused with one error and never
  reaches ``feedparser`` (whose own DOCTYPE stripping still let a 1 KB body expand
  to a million characters).
* Its own HTML sanitiser runs, but summaries and bodies are reduced to plain text
  again with :func:`~newsflow.domain.formats.html.strip_html` (``nh3``) regardless.

Mapping, per entry (the line of an item or error is the 1-based entry index; a
document with no entries at all gives one error at the XML parser's line):
title, summary (HTML stripped; cut to the contract's limit, the full text moving to
body when the entry has no content), ``content[0]`` → body, link → url (http(s)
only; relative links resolved against the feed's own link), published/updated →
published_at/updated_at (ISO 8601 UTC; an entry with only ``updated`` uses it for
both), categories → topics when ``topic_labels`` knows the label, the entry's or
feed's language → language (primary subtag, lower case), feed title → source.

The RSS ``guid`` or Atom ``id`` becomes the contract's ``guid`` (the story's
identity when the entry has no link, ADR 0002) only when it is an absolute URI
that is not http(s), such as ``urn:uuid:...`` or ``tag:example.com,2026:1``:
an http(s) id is a permalink, already the link or no better than it, and a bare
id such as ``480398`` is unique only within its own feed, so taking it would
merge the stories of two publishers that happen to number alike.
"""

from __future__ import annotations

import calendar
import io
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import urljoin

import feedparser

from newsflow.domain.contract import LIMITS
from newsflow.domain.formats.common import ParsedItem, ParseError, ParseResult, http_url
from newsflow.domain.formats.html import looks_like_html, strip_html
from newsflow.domain.formats.xmlguard import refuse_reason

#: Declares the bytes we hand over as UTF-8 (we encode them), overriding whatever
#: encoding the XML declaration names: the text was already decoded once.
_HEADERS: Final = {"content-type": "application/xml; charset=utf-8"}
_LANGUAGE: Final = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")
#: An absolute URI: a scheme (RFC 3986, section 3.1), a colon and something after it.
_URI_SCHEME: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S")
_XML_START: Final = re.compile(
    r"^\ufeff?\s*(?:<\?xml[^>]*>\s*)?"
    r"(?:<!--.*?-->\s*|<!DOCTYPE[^>\[]*(?:\[.*?\])?\s*>\s*)*"
    r"<(?:rss|feed|rdf:RDF)\b",
    re.DOTALL,
)


def parse_feed(
    text: str | bytes, *, topic_labels: Callable[[str], bool] | None = None
) -> ParseResult:
    """Parse an RSS or Atom document into publisher-contract items.

    ``text`` is the document as text, or as the file's bytes: then feedparser
    reads the encoding from the XML declaration or BOM, so an ISO-8859-2 feed
    needs no decoding first. ``topic_labels`` says whether a category label is a
    topic of the taxonomy; only those become topics (feeds mix topics with places,
    people and free tags). Without it no topics are taken. Never raises, no I/O.
    """
    result = ParseResult()
    if isinstance(text, bytes):
        data, headers = text, {}
    else:
        data, headers = text.encode("utf-8", "replace"), dict(_HEADERS)
    if not data.strip():
        return result
    refused = refuse_reason(data)
    if refused:
        result.errors.append(ParseError(1, refused))
        return result
    try:
        parsed = feedparser.parse(
            io.BytesIO(data),
            response_headers=headers,
            resolve_relative_uris=False,
            sanitize_html=True,
        )
    except Exception as exc:  # a bug in the library must not take a push down with it
        result.errors.append(ParseError(1, f"feed could not be parsed: {exc!r}"))
        return result

    parsed = _dict(parsed)
    feed = _dict(parsed.get("feed"))
    source = _text(feed, "title", keep_paragraphs=False)
    base = http_url(feed.get("link"))
    feed_language = _language(feed.get("language"))
    entries = parsed.get("entries")
    entries = entries if isinstance(entries, list) else []

    for index, raw in enumerate(entries, start=1):
        entry = _dict(raw)
        title = _text(entry, "title", keep_paragraphs=False)
        if not title:
            result.errors.append(ParseError(index, "entry has no title"))
            continue
        item: dict[str, Any] = {"title": title}
        summary = _text(entry, "summary", keep_paragraphs=True)
        body = _content(entry)
        if summary and len(summary) > LIMITS["summary"]:
            body = body or summary
            summary = _shorten(summary, LIMITS["summary"])
        published = _iso(entry.get("published_parsed"))
        updated = _iso(entry.get("updated_parsed"))
        for key, value in (
            ("summary", summary),
            ("body", body),
            ("url", _link(entry, base)),
            ("guid", _guid(entry.get("id"))),
            ("published_at", published or updated),
            ("updated_at", updated),
            ("language", _entry_language(entry) or feed_language),
            ("source", source and _shorten(source, LIMITS["source"])),
        ):
            if value:
                item[key] = value
        topics = _topics(entry, topic_labels)
        if topics:
            item["topics"] = topics
        result.items.append(ParsedItem(line=index, item=item))

    if not entries:
        # feedparser puts an XML declaration in front of a document without one.
        shift = 0 if data.removeprefix(b"\xef\xbb\xbf").startswith(b"<?xml") else 1
        result.errors.append(_no_entries(parsed, shift))
    return result


def looks_like_feed(text: str) -> bool:
    """True when the document element is ``rss``, ``feed`` (Atom) or ``rdf:RDF``.

    For ``detect_format``: the prolog (XML declaration, comments, DOCTYPE) is skipped.
    """
    return _XML_START.match(text[:4096]) is not None


def _no_entries(parsed: dict[str, Any], shift: int) -> ParseError:
    """The one error for a document that gave no entries, with the parser's reason.

    Its line is the XML parser's, less the ``shift`` lines feedparser added.
    """
    exc = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if exc is not None:
        get_line = getattr(exc, "getLineNumber", None)
        line = get_line() if callable(get_line) else None
        reason = getattr(exc, "getMessage", None)
        message = reason() if callable(reason) else str(exc)
        return ParseError(
            max(line - shift, 1) if isinstance(line, int) else 1,
            f"not a readable RSS or Atom feed: {message}",
        )
    if not parsed.get("version"):
        return ParseError(1, "not an RSS or Atom feed: no <rss>, <feed> or <rdf:RDF> element")
    return ParseError(1, "the feed has no entries")


def _dict(value: Any) -> dict[str, Any]:
    """A plain ``dict`` copy of a ``FeedParserDict``.

    ``FeedParserDict.get`` aliases old key names and, for ``updated*``, falls back to
    ``published*`` with a DeprecationWarning; a plain dict reads only what is there.
    """
    return dict(value) if isinstance(value, dict) else {}


def _text(obj: dict[str, Any], key: str, *, keep_paragraphs: bool) -> str | None:
    """Plain text of a feedparser text construct (``title``, ``summary``) or None."""
    detail = _dict(obj.get(f"{key}_detail"))
    return _plain(detail.get("value", obj.get(key)), detail.get("type"), keep_paragraphs)


def _plain(value: Any, kind: Any, keep_paragraphs: bool) -> str | None:
    """Strip markup when the construct's type says HTML/XHTML, or when it looks like it."""
    if not isinstance(value, str):
        return None
    markup = isinstance(kind, str) and ("html" in kind or "xml" in kind)
    if markup or looks_like_html(value):
        text = strip_html(value, keep_paragraphs=keep_paragraphs)
    else:
        text = value.strip() if keep_paragraphs else " ".join(value.split())
    return text or None


def _content(entry: dict[str, Any]) -> str | None:
    """The first non-empty ``content`` value (Atom content, RSS content:encoded) as text."""
    content = entry.get("content")
    for part in content if isinstance(content, list) else []:
        detail = _dict(part)
        text = _plain(detail.get("value"), detail.get("type"), keep_paragraphs=True)
        if text:
            return text
    return None


def _link(entry: dict[str, Any], base: str | None) -> str | None:
    """The entry's alternate link as an absolute http(s) URL; anything else is dropped."""
    links = entry.get("links")
    candidates = [entry.get("link")] + [
        _dict(link).get("href")
        for link in (links if isinstance(links, list) else [])
        if _dict(link).get("rel", "alternate") == "alternate"
    ]
    for candidate in candidates:
        if not isinstance(candidate, str) or not candidate.strip():
            continue
        href = candidate.strip()
        if base and ":" not in href.split("/", 1)[0]:
            try:
                href = urljoin(base, href)
            except ValueError:
                continue
        url = http_url(href)
        if url:
            return url
    return None


def _guid(value: Any) -> str | None:
    """The entry's id if it is an absolute URI with a scheme other than http(s)."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not _URI_SCHEME.match(text):
        return None
    return None if text.split(":", 1)[0].lower() in ("http", "https") else text


def _iso(value: Any) -> str | None:
    """ISO 8601 UTC from feedparser's ``*_parsed`` (a UTC ``struct_time``)."""
    if not isinstance(value, time.struct_time):
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return moment.isoformat().replace("+00:00", "Z")


def _language(value: Any) -> str | None:
    """Primary language subtag, lower case: "en-US" and "EN" both become "en"."""
    if not isinstance(value, str):
        return None
    match = _LANGUAGE.match(value.strip())
    return match.group(1).lower() if match else None


def _entry_language(entry: dict[str, Any]) -> str | None:
    """xml:lang on the entry's own text (Atom), which beats the feed's language."""
    details = [entry.get("title_detail"), entry.get("summary_detail")]
    content = entry.get("content")
    details += content if isinstance(content, list) else []
    for detail in details:
        language = _language(_dict(detail).get("language"))
        if language:
            return language
    return None


def _topics(entry: dict[str, Any], known: Callable[[str], bool] | None) -> list[str]:
    """Category labels the taxonomy knows, split on commas, without repeats.

    A category's human label is tried before its term (Atom has both; RSS only a
    term), and the first of the two that names known topics wins.
    """
    if known is None:
        return []
    tags = entry.get("tags")
    out: dict[str, str] = {}
    for tag in tags if isinstance(tags, list) else []:
        for value in (_dict(tag).get("label"), _dict(tag).get("term")):
            if not isinstance(value, str):
                continue
            labels = [" ".join(part.split()) for part in value.split(",")]
            matched = [label for label in labels if label and known(label)]
            for label in matched:
                out.setdefault(label.casefold(), label)
            if matched:
                break
    return list(out.values())


def _shorten(text: str, limit: int) -> str:
    """Cut at a word boundary to at most ``limit`` characters, marking the cut with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"
