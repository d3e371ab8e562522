"""Which parser reads a body, and reading it: the one dispatcher for every door.

``newsflow push`` knows a file name and may be told a format; ``POST /v1/items``
knows a media type. Both hand the bytes here. An explicit format or media type
wins; ``auto`` looks at the content, then at the name's suffix. ``xml`` (what
plain ``application/xml`` and ``text/xml`` mean) is decided by the document
element: NewsML-G2, NITF, or else an RSS or Atom feed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final, Literal, get_args

from newsflow.domain.formats.common import ParseResult, without_bom
from newsflow.domain.formats.feeds import looks_like_feed, parse_feed
from newsflow.domain.formats.jsonl import parse_json, parse_jsonl
from newsflow.domain.formats.newsml import ROOTS as NEWSML_ROOTS
from newsflow.domain.formats.newsml import parse_newsml
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.formats.ninjs import looks_like_ninjs, parse_ninjs
from newsflow.domain.formats.nitf import parse_nitf

Format = Literal["newsroom", "jsonl", "json", "ninjs", "feed", "newsml", "nitf", "xml"]
FORMATS: Final[tuple[Format, ...]] = get_args(Format)

#: Media types we read, and the format of each.
MEDIA_TYPES: Final[dict[str, Format]] = {
    "application/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/ninjs+json": "ninjs",
    "application/rss+xml": "feed",
    "application/atom+xml": "feed",
    "application/vnd.iptc.g2.newsitem+xml": "newsml",
    "application/vnd.iptc.g2.newsmessage+xml": "newsml",
    "application/nitf+xml": "nitf",
    "application/xml": "xml",
    "text/xml": "xml",
    "text/plain": "newsroom",
}
_SUFFIXES: Final[dict[str, Format]] = {
    ".rss": "feed",
    ".atom": "feed",
    ".xml": "xml",
    ".nitf": "nitf",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
}


_NAME: Final = re.compile(r"(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")


class NotText(ValueError):  # noqa: N818 (reads as the condition it reports)
    """A text format's body is not UTF-8."""


def media_format(content_type: str) -> Format | None:
    """The format a Content-Type names (parameters ignored), or None if we read none."""
    return MEDIA_TYPES.get(content_type.split(";", 1)[0].strip().lower())


def xml_format(data: bytes) -> Literal["newsml", "nitf", "feed"]:
    """Which XML format ``data`` is, by its document element: NewsML-G2, NITF, else a feed."""
    head = data[:4096]
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff"))
    root = _root_name(head.decode("utf-16" if utf16 else "utf-8", "replace"))
    if root in NEWSML_ROOTS:
        return "newsml"
    if root == "nitf":
        return "nitf"
    return "feed"


def _root_name(text: str) -> str:
    """The document element's local name, after the prolog; "" when there is none.

    Skips the XML declaration, processing instructions, comments and a DOCTYPE
    (which the guard then refuses) in one linear pass.
    """
    pos = 1 if text.startswith("\ufeff") else 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text.startswith("<?", pos):
            end = text.find("?>", pos + 2)
            pos = -1 if end < 0 else end + 2
        elif text.startswith("<!--", pos):
            end = text.find("-->", pos + 4)
            pos = -1 if end < 0 else end + 3
        elif text.startswith("<!", pos):
            close, subset = text.find(">", pos), text.find("[", pos)
            if 0 <= subset < close:
                close = text.find(">", max(text.find("]", subset), subset))
            pos = -1 if close < 0 else close + 1
        elif text.startswith("<", pos):
            match = _NAME.match(text, pos + 1)
            return match.group(1) if match else ""
        else:
            return ""
        if pos < 0:
            return ""


def sniff(data: bytes, name: str | None = None) -> Format:
    """The format of ``data``: XML or ninjs by content first, then by name, then by shape.

    Feeds, NewsML-G2, NITF and ninjs are recognised by content even under a
    ``.json`` or ``.txt`` name, since exporters name files carelessly. A leading
    byte-order mark changes nothing: it is looked past, as the parsers drop it.
    """
    text = without_bom(data[:4096]).decode("utf-8", "replace")
    suffix = "." + name.rsplit(".", 1)[-1].lower() if name and "." in name else ""
    kind = xml_format(data)
    if kind != "feed":
        return kind
    if _SUFFIXES.get(suffix) in ("feed", "xml") or looks_like_feed(text):
        return "feed"
    if _SUFFIXES.get(suffix) == "nitf":
        return "nitf"
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
    become topics). XML formats are read from the bytes, so the XML declaration's
    encoding is honoured; JSON Lines are decoded line by line, so a line that is
    not UTF-8 is one rejected line; every other format must be UTF-8 as a whole.
    The JSON parsers drop one leading UTF-8 byte-order mark, as XML parsers do.
    """
    chosen = sniff(data, name) if fmt == "auto" else fmt
    if chosen == "xml":
        chosen = xml_format(data)
    if chosen == "feed":
        return parse_feed(data, topic_labels=known_topic)
    if chosen == "newsml":
        return parse_newsml(data)
    if chosen == "nitf":
        return parse_nitf(data)
    if chosen == "jsonl":
        return parse_jsonl(data)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotText(f"the body is not UTF-8 text: {exc}") from None
    if chosen == "ninjs":
        return parse_ninjs(text)
    if chosen == "json":
        return parse_json(text)
    return parse_newsroom(text, source=newsroom_source)
