"""Which parser reads a body, and reading it: the one dispatcher for every door.

``newsflow push`` knows a file name and may be told a format; ``POST /v1/items``
knows a media type. Both hand the bytes here. An explicit format or media type
wins; ``auto`` (or a generic media type) looks at the name's suffix, then at the
content itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, Literal, get_args

from newsflow.domain.formats.common import ParseResult
from newsflow.domain.formats.feeds import looks_like_feed, parse_feed
from newsflow.domain.formats.jsonl import parse_json, parse_jsonl
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.formats.ninjs import looks_like_ninjs, parse_ninjs

Format = Literal["newsroom", "jsonl", "json", "ninjs", "feed"]
FORMATS: Final[tuple[Format, ...]] = get_args(Format)

#: Media types we read, and the format of each.
MEDIA_TYPES: Final[dict[str, Format]] = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/ninjs+json": "ninjs",
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/xml": "feed",
    "text/xml": "feed",
    "text/plain": "newsroom",
}
_SUFFIXES: Final[dict[str, Format]] = {
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "feed",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


class NotText(ValueError):  # noqa: N818 (reads as the condition it reports)
    """A text format's body is not UTF-8."""


def media_format(content_type: str) -> Format | None:
    """The format a Content-Type names (parameters ignored), or None if we read none."""
    return MEDIA_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def sniff(data: bytes, name: str | None = None) -> Format:
    """The format of ``data``: a feed or ninjs by content first, then by name, then by shape.

    Feeds and ninjs are recognised by content even under a ``.json`` or ``.txt``
    name, since exporters name files carelessly.
    """
    text = data[:4096].decode("utf-8", "replace")
    suffix = "." + name.rsplit(".", 1)[-1].lower() if name and "." in name else ""
    if _SUFFIXES.get(suffix) == "feed" or looks_like_feed(text):
        return "feed"
    if looks_like_ninjs(data.decode("utf-8", "replace")):
        return "ninjs"
    if suffix in _SUFFIXES:
        return _SUFFIXES[suffix]
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "json"
    if stripped.startswith("{"):
        return "jsonl"
    return "newsroom"


def parse_body(
    data: bytes,
    fmt: Format | Literal["auto"] = "auto",
    *,
    name: str | None = None,
    known_topic: Callable[[str], bool] | None = None,
    newsroom_source: str | None = "osce.org",
) -> ParseResult:
    """Read ``data`` in ``fmt`` (``auto``: :func:`sniff` it); never raises but :class:`NotText`.

    ``known_topic`` says whether a feed category is a taxonomy topic (only those
    become topics). Feeds are read from the bytes, so the XML declaration's
    encoding is honoured; every other format must be UTF-8.
    """
    chosen = sniff(data, name) if fmt == "auto" else fmt
    if chosen == "feed":
        return parse_feed(data, topic_labels=known_topic)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(f"the body is not UTF-8 text: {exc}") from None
    if chosen == "ninjs":
        return parse_ninjs(text)
    if chosen == "json":
        return parse_json(text)
    if chosen == "jsonl":
        return parse_jsonl(text)
    return parse_newsroom(text, source=newsroom_source)
