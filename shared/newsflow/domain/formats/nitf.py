"""IPTC NITF 3.x (News Industry Text Format) documents, mapped onto the publisher contract.

One document is one story. NITF travels on its own (``application/nitf+xml``) or
inside a NewsML-G2 ``inlineXML``; :func:`read_nitf` serves both. Elements are matched
by local name, so NITF with or without its namespace reads the same. The XML
declaration may not be followed by a DOCTYPE: the guard refuses DTDs outright.

===========================  =======================================================
contract                     NITF
===========================  =======================================================
title                        ``body.head/hedline/hl1``, else ``head/title``
summary                      ``body.head/abstract``
body                         ``body.content`` (paragraphs kept)
published_at                 ``docdata/date.issue/@norm`` (ISO 8601 basic form made
                             extended)
topics                       ``docdata/key-list/keyword/@key``, then each
                             ``tobject/tobject.subject`` (its most specific name, and
                             ``@tobject.subject.refnum`` as the IPTC Subject Code
                             ``subj:NNNNNNNN`` when its ``ipr`` is IPTC, the default)
language                     ``xml:lang`` of ``nitf``, ``body``, ``head`` or
                             ``body.content``
guid                         ``docdata/doc-id/@id-string``: the document's own id,
                             which names the story across its resends and corrections
idempotency_key              ``doc-id/@id-string@date.issue``: a document resent as
                             issued is a repeat
===========================  =======================================================
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final
from xml.etree.ElementTree import Element

from newsflow.domain.contract import LIMITS
from newsflow.domain.formats.common import ParsedItem, ParseError, ParseResult, subject_labels
from newsflow.domain.formats.xmldoc import (
    XML_LANG,
    block_text,
    iso_date,
    kid,
    kids,
    language,
    line_text,
    local,
    open_document,
)

#: The names of a ``tobject.subject``, most specific first.
_SUBJECT_NAMES: Final = ("detail", "matter", "type")


class NitfRefused(ValueError):  # noqa: N818 (reads as the condition it reports)
    """The NITF document gives no item; the message says why."""


def parse_nitf(data: bytes) -> ParseResult:
    """Parse one NITF document into (at most) one item. Never raises."""
    result = ParseResult()
    root = open_document(data, "the NITF document", result)
    if root is None:
        return result
    if local(root.tag) != "nitf":
        result.errors.append(
            ParseError(1, f"the root element is <{local(root.tag)}>, not an NITF <nitf>")
        )
        return result
    try:
        result.items.append(ParsedItem(line=1, item=read_nitf(root)))
    except NitfRefused as exc:
        result.errors.append(ParseError(1, str(exc)))
    return result


def read_nitf(root: Element) -> dict[str, Any]:
    """One ``<nitf>`` element as a contract item; raises :class:`NitfRefused` without a title."""
    parts = nitf_text(root)
    title = parts.get("title")
    if not title:
        raise NitfRefused("the NITF document has no headline (body.head/hedline/hl1)")
    item: dict[str, Any] = {"title": title}
    for key in ("summary", "body"):
        if parts.get(key):
            item[key] = parts[key]
    docdata = kid(root, "head", "docdata")
    issued = iso_date(_attr(kid(docdata, "date.issue"), "norm"))
    if issued:
        item["published_at"] = issued
    doc_id = _attr(kid(docdata, "doc-id"), "id-string")
    if doc_id:
        item["guid"] = doc_id
    if doc_id and issued and len(f"{doc_id}@{issued}") <= LIMITS["idempotency_key"]:
        item["idempotency_key"] = f"{doc_id}@{issued}"
    topics = subject_labels(_subjects(root, docdata))
    if topics:
        item["topics"] = topics
    lang = nitf_language(root)
    if lang:
        item["language"] = lang
    return item


def _subjects(root: Element, docdata: Element | None) -> Iterator[tuple[str | None, str | None]]:
    """(name, code) of the key-list keywords, then of the tobject subjects."""
    for key_list in kids(docdata, "key-list") if docdata is not None else []:
        for keyword in kids(key_list, "keyword"):
            yield _attr(keyword, "key"), None
    tobject = kid(root, "head", "tobject")
    for subject in kids(tobject, "tobject.subject") if tobject is not None else []:
        name = next(
            (n for part in _SUBJECT_NAMES if (n := _attr(subject, f"tobject.subject.{part}"))),
            None,
        )
        yield name, _refnum(subject)


def _refnum(subject: Element) -> str | None:
    """``subj:NNNNNNNN`` for an IPTC Subject Reference number, else None."""
    ipr = _attr(subject, "tobject.subject.ipr") or "IPTC"
    refnum = _attr(subject, "tobject.subject.refnum")
    if not (ipr.isascii() and ipr.upper() == "IPTC") or refnum is None:
        return None
    return f"subj:{refnum}" if len(refnum) == 8 and refnum.isascii() and refnum.isdigit() else None


def nitf_text(root: Element) -> dict[str, str]:
    """The title, summary and body an NITF element carries (those it has)."""
    body = kid(root, "body")
    head = kid(body, "body.head")
    out: dict[str, str] = {}
    title = line_text(kid(head, "hedline", "hl1")) or line_text(kid(root, "head", "title"))
    summary = block_text(kid(head, "abstract"))
    text = block_text(kid(body, "body.content"))
    for key, value in (("title", title), ("summary", summary), ("body", text)):
        if value:
            out[key] = value
    return out


def nitf_language(root: Element) -> str | None:
    body = kid(root, "body")
    for element in (root, body, kid(root, "head"), kid(body, "body.content")):
        if element is not None:
            lang = language(element.get(XML_LANG))
            if lang:
                return lang
    return None


def _attr(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return value.strip() if value and value.strip() else None
