"""Reading IPTC XML (NewsML-G2, NITF) safely, and getting text out of its elements.

:func:`parse_xml` is the only way these parsers reach an XML parser: the body must
be at most :data:`MAX_XML_BYTES`, pass :func:`~newsflow.domain.formats.xmlguard.refuse_reason`
(no DTD, no entity declarations), and is then parsed by ``defusedxml`` with DTDs,
entities and external references forbidden a second time. Elements are matched by
local name, so a document with or without the IPTC namespaces reads the same.
Text is collected without recursion, so deeply nested markup cannot exhaust the stack.
"""

from __future__ import annotations

import re
from typing import Final
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from newsflow.domain.formats import common
from newsflow.domain.formats.html import looks_like_html, strip_html
from newsflow.domain.formats.xmlguard import refuse_reason

#: Largest XML document read, in bytes (the gateway's own body limit is lower).
MAX_XML_BYTES: Final = 32 * 1024 * 1024
XML_LANG: Final = "{http://www.w3.org/XML/1998/namespace}lang"

#: Elements (XHTML and NITF) that end a paragraph of text.
_BLOCKS: Final = frozenset(
    {
        "p",
        "div",
        "br",
        "li",
        "dd",
        "dt",
        "tr",
        "td",
        "th",
        "pre",
        "blockquote",
        "section",
        "article",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hl1",
        "hl2",
        "block",
        "media-caption",
        "bq",
        "note",
    }
)
#: Elements whose text is never news text.
_SKIPPED: Final = frozenset({"script", "style", "head", "media-reference", "media-metadata"})
_BASIC_DATE: Final = re.compile(
    r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})?(?:[.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_LANGUAGE: Final = re.compile(r"^([A-Za-z]{2,3})(?:[-_][A-Za-z0-9]{1,8})*$")


class XmlRefused(ValueError):  # noqa: N818 (reads as the condition it reports)
    """The document cannot be read; ``line`` is where, as far as the parser knows."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = max(line, 1)


def parse_xml(data: bytes, what: str) -> Element:
    """The root element of ``data``; raises :class:`XmlRefused` with a reason naming ``what``."""
    if len(data) > MAX_XML_BYTES:
        raise XmlRefused(1, f"{what} is larger than {MAX_XML_BYTES:,} bytes")
    refused = refuse_reason(data)
    if refused:
        raise XmlRefused(1, refused)
    try:
        root = fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except ParseError as exc:
        line = exc.position[0] if isinstance(getattr(exc, "position", None), tuple) else 1
        raise XmlRefused(line, f"{what} is not well-formed XML: {exc}") from None
    except DefusedXmlException:
        raise XmlRefused(1, refused or "XML documents may not declare a DTD or entities") from None
    except (ValueError, LookupError) as exc:  # an encoding expat does not know, and the like
        raise XmlRefused(1, f"{what} could not be read: {exc}") from None
    return root


def open_document(data: bytes, what: str, result: common.ParseResult) -> Element | None:
    """The root element of ``data``; None when it is empty, or refused (the reason is
    added to ``result``). The first step of every XML reader."""
    if not data.strip():
        return None
    try:
        return parse_xml(data, what)
    except XmlRefused as exc:
        result.errors.append(common.ParseError(exc.line, str(exc)))
        return None


def local(tag: object) -> str:
    """An element's name without its namespace ("" for comments and the like)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def kids(element: Element, name: str) -> list[Element]:
    """The direct children called ``name`` (any namespace)."""
    return [child for child in element if local(child.tag) == name]


def kid(element: Element | None, *path: str) -> Element | None:
    """The first element down ``path`` of direct children, or None."""
    for name in path:
        if element is None:
            return None
        element = next((c for c in element if local(c.tag) == name), None)
    return element


def line_text(element: Element | None) -> str | None:
    """All the text in ``element`` on one line, whitespace collapsed; None when blank."""
    if element is None:
        return None
    text = " ".join("".join(element.itertext()).split())
    return text or None


def block_text(element: Element | None) -> str | None:
    """The text in ``element`` as paragraphs (one per block element), blank-line separated."""
    if element is None:
        return None
    paragraphs: list[str] = []
    buffer: list[str] = []

    def flush() -> None:
        text = " ".join("".join(buffer).split())
        if text:
            paragraphs.append(text)
        buffer.clear()

    stack: list[tuple[Element, bool]] = [(element, False)]
    while stack:
        node, closing = stack.pop()
        name = local(node.tag).lower()
        if closing:
            if name in _BLOCKS:
                flush()
            if node is not element and node.tail:
                buffer.append(node.tail)
            continue
        if name in _SKIPPED or not name:
            if node is not element and node.tail:
                buffer.append(node.tail)
            continue
        if name in _BLOCKS:
            flush()
        if node.text:
            buffer.append(node.text)
        stack.append((node, True))
        stack.extend((child, False) for child in reversed(node))
    flush()
    return "\n\n".join(paragraphs) or None


def data_text(value: str | None, contenttype: str | None) -> str | None:
    """Text carried as character data (``inlineData``): stripped of markup if it is HTML."""
    if value is None:
        return None
    if "html" in (contenttype or "").lower() or looks_like_html(value):
        return strip_html(value, keep_paragraphs=True) or None
    paragraphs = (" ".join(p.split()) for p in re.split(r"\n\s*\n", value))
    return "\n\n".join(p for p in paragraphs if p) or None


def iso_date(value: str | None) -> str | None:
    """A date as written, with ISO 8601 basic form (``20210106T093000+0100``) made extended."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    match = _BASIC_DATE.match(text)
    if not match:
        return text
    year, month, day, hour, minute, second, zone = match.groups()
    if hour is None:
        return f"{year}-{month}-{day}"
    if zone and zone not in "Zz" and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{year}-{month}-{day}T{hour}:{minute}:{second or '00'}{zone or ''}"


def language(value: str | None) -> str | None:
    """A BCP 47 tag as written (``en_GB`` becomes ``en-GB``), or None when it is not one."""
    if not value:
        return None
    match = _LANGUAGE.match(value.strip())
    if not match:
        return None
    return value.strip().replace("_", "-")
