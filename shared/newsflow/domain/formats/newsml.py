"""IPTC NewsML-G2 items, as AP, Reuters, AFP and dpa deliver them, mapped onto the contract.

A body is one ``newsItem`` (``application/vnd.iptc.g2.newsitem+xml``) or a
``newsMessage`` carrying several items in its ``itemSet``
(``application/vnd.iptc.g2.newsmessage+xml``). The line of an item or error is
the item's 1-based position in the message (1 for a lone item). Elements are
matched by local name, so documents with or without the NewsML-G2 namespace read
the same; every document passes the XML guard first (:mod:`.xmldoc`).

===========================  =======================================================
contract                     NewsML-G2
===========================  =======================================================
title                        ``contentMeta/headline`` (no role or a main role first),
                             else the NITF ``hedline/hl1`` in ``inlineXML``
summary                      ``contentMeta/description`` (a summary role first), else
                             the NITF abstract
body                         ``contentSet``: the first ``inlineXML`` (NITF
                             ``body.content`` or an XHTML ``body``) or ``inlineData``
                             (text; HTML stripped) that has text
url                          ``guid`` when it is an http(s) URL, else an ``itemMeta/link``
                             whose rel is canonical
guid                         ``guid`` when it is not an http(s) URL (a URN, a tag URI);
                             a guid holding whitespace is never the url, and the
                             contract refuses it ("guid: must not contain whitespace")
published_at / updated_at    ``itemMeta/firstCreated`` (else ``contentMeta/contentCreated``,
                             else ``versionCreated``) / ``itemMeta/versionCreated``
revision                     ``@version``; an item whose version is not a whole number
                             from 0 to the contract's MAX_REVISION is refused, naming
                             ``version``
idempotency_key              ``guid@version``: a resent version is a repeat, the same
                             version with other content a conflict
content_type                 the first ``contentMeta/genre`` name
countries                    ``contentMeta/located`` and its ``broader`` places
topics                       ``contentMeta/subject`` of no type or an abstract type, as
                             ``name (qcode)`` labels (an IPTC code from ``sameAs`` when
                             the subject's own qcode is an agency's); enrichment
                             resolves IPTC codes through the taxonomy
language                     ``contentMeta/language/@tag``, else the item's ``xml:lang``
source                       ``itemMeta/provider`` (its name, else ``@literal``)
===========================  =======================================================

``slugline`` names an item in rejection reasons (it is a desk label, never a
title).

``located`` (and each ``broader`` place it names, such as the country of a city)
becomes the contract's ``countries``: ``Serbia (iso3166-1a2:RS)`` when its qcode is
an ISO 3166-1 alpha-2 code, else its name alone (an agency's own place qcode means
nothing outside that agency). Enrichment resolves the code, else the name, to a
participating State or Partner; a city or a place outside the taxonomy stays an
unresolved label. Countries are still inferred from the text as well: the
dateline ("BELGRADE, 29 Nov -") names the place there too. A place the contract
would refuse (a name holding a control or bidirectional control character, or
too long) is skipped, keeping its ISO code if it has one, as ninjs skips a
malformed place: places are a hint, and one bad entry must not refuse the story.

The ``guid`` is an identity, not an address: a URN guid
(``urn:newsml:example.com:20261129:abc123``) never becomes the ``url``, which the
contract requires to be http(s). It becomes the contract's ``guid``, which
identifies the story when there is no url (ADR 0002): every version of one item
is one story, even when a later version corrects the headline, and a resent
version is a repeat by its idempotency key (``guid@version``). An empty or blank
``guid`` (``guid=""``) counts as none, as does a blank ``version``: the item then
has no guid and no idempotency key, and is identified as any item without a url
or guid is (ADR 0002), rather than refused for a field it did not really send.

Items whose ``pubStatus`` is withheld or canceled are reported, not imported;
so are package, concept, knowledge and planning items that carry no headline,
with a reason that names what they were.
"""

from __future__ import annotations

from typing import Any, Final
from xml.etree.ElementTree import Element

from newsflow.domain.contract import LIMITS
from newsflow.domain.formats.common import (
    ParsedItem,
    ParseError,
    ParseResult,
    http_url,
    identity_url,
    subject_code,
    subject_labels,
    version_revision,
)
from newsflow.domain.formats.nitf import nitf_text
from newsflow.domain.formats.xmldoc import (
    XML_LANG,
    block_text,
    data_text,
    iso_date,
    kid,
    kids,
    language,
    line_text,
    local,
    open_document,
)
from newsflow.domain.taxonomy import country_code, iptc_code

#: The NewsML-G2 items, and how a rejection names each.
ITEM_KINDS: Final[dict[str, str]] = {
    "newsItem": "a newsItem",
    "packageItem": "a packageItem (a package of other items)",
    "conceptItem": "a conceptItem (a concept of a controlled vocabulary)",
    "knowledgeItem": "a knowledgeItem (a set of concepts)",
    "planningItem": "a planningItem (news coverage planning)",
    "catalogItem": "a catalogItem (a catalog of schemes)",
}
ROOTS: Final = frozenset({"newsMessage", *ITEM_KINDS})
_UNPUBLISHED: Final = ("withheld", "canceled", "cancelled")
_SUMMARY_ROLES: Final = ("summary", "abstract", "lead", "teaser")
_ABSTRACT_TYPES: Final = ("", "cpnat:abstract", "http://cv.iptc.org/newscodes/cpnature/abstract")


class _Refused(ValueError):  # noqa: N818 (reads as the condition it reports)
    """The item gives no contract item; the message says why."""


def parse_newsml(data: bytes) -> ParseResult:
    """Parse a NewsML-G2 item or news message into contract items. Never raises."""
    result = ParseResult()
    root = open_document(data, "the NewsML-G2 document", result)
    if root is None:
        return result
    name = local(root.tag)
    if name == "newsMessage":
        items = [c for item_set in kids(root, "itemSet") for c in item_set if local(c.tag)]
        if not items:
            result.errors.append(ParseError(1, "the newsMessage carries no items (itemSet)"))
    elif name in ITEM_KINDS:
        items = [root]
    else:
        result.errors.append(
            ParseError(1, f"the root element is <{name}>, not a NewsML-G2 item or newsMessage")
        )
        return result
    for position, element in enumerate(items, start=1):
        try:
            result.items.append(ParsedItem(line=position, item=_map(element)))
        except _Refused as exc:
            result.errors.append(ParseError(position, str(exc)))
    return result


def _map(element: Element) -> dict[str, Any]:
    """One G2 item as a contract item; raises :class:`_Refused` with the reason."""
    name = local(element.tag)
    kind = ITEM_KINDS.get(name)
    if kind is None:
        raise _Refused(f"<{name}> is not a NewsML-G2 item")
    guid = _attr(element, "guid")
    meta = kid(element, "itemMeta")
    content = kid(element, "contentMeta")
    what = _describe(kind, guid, content)

    status = _attr(kid(meta, "pubStatus"), "qcode") or ""
    if status.rsplit(":", 1)[-1].lower() in _UNPUBLISHED:
        raise _Refused(f"{what}: pubStatus is {status!r}: the item is not for publication")

    inline = _inline(element)
    title = _headline(content) or inline.get("title")
    if not title:
        if name != "newsItem":
            raise _Refused(f"{what} has no text: no headline and nothing to publish")
        item_class = _attr(kid(meta, "itemClass"), "qcode")
        raise _Refused(
            f"{what}{f' ({item_class})' if item_class else ''} has no headline "
            "(contentMeta/headline, or a NITF hedline in inlineXML)"
        )
    item: dict[str, Any] = {"title": title}
    summary = _description(content) or inline.get("summary")
    first = line_text(kid(meta, "firstCreated")) or line_text(kid(content, "contentCreated"))
    updated = line_text(kid(meta, "versionCreated"))
    version = _attr(element, "version")
    try:
        revision = version_revision(version)
    except ValueError as exc:
        raise _Refused(f"{what}: {exc}") from None
    for key, value in (
        ("summary", summary),
        ("body", inline.get("body")),
        ("url", identity_url(guid) or _canonical(meta)),
        ("guid", None if identity_url(guid) else guid),
        ("published_at", iso_date(first or updated)),
        ("updated_at", iso_date(updated)),
        ("revision", revision),
        ("idempotency_key", _identity(guid, version)),
        ("content_type", line_text(kid(content, "genre", "name"))),
        ("language", _language(element, content)),
        ("source", _provider(meta)),
    ):
        if value is not None and value != "":
            item[key] = value
    topics = _subjects(content)
    if topics:
        item["topics"] = topics
    countries = _located(content)
    if countries:
        item["countries"] = countries
    return item


def _describe(kind: str, guid: str | None, content: Element | None) -> str:
    """How a rejection names the item: its kind, guid and slugline."""
    slug = line_text(kid(content, "slugline"))
    named = f" {guid}" if guid else ""
    return f"{kind}{named}{f' (slugline {slug!r})' if slug else ''}"


def _attr(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return value.strip() if value and value.strip() else None


def _role(element: Element) -> str:
    return (element.get("role") or "").rsplit(":", 1)[-1].strip().lower()


def _headline(content: Element | None) -> str | None:
    if content is None:
        return None
    ranked = sorted(kids(content, "headline"), key=lambda h: _role(h) not in ("", "main"))
    return next((text for h in ranked if (text := line_text(h))), None)


def _description(content: Element | None) -> str | None:
    if content is None:
        return None
    ranked = sorted(
        kids(content, "description"),
        key=lambda d: _SUMMARY_ROLES.index(r) if (r := _role(d)) in _SUMMARY_ROLES else 9,
    )
    return next((text for d in ranked if (text := block_text(d))), None)


def _inline(element: Element) -> dict[str, str]:
    """Title, summary and body from the first inline content that has text."""
    content_set = kid(element, "contentSet")
    fallback: dict[str, str] = {}
    for content in content_set if content_set is not None else []:
        name = local(content.tag)
        if name == "inlineXML":
            found = _inline_xml(content)
        elif name == "inlineData":
            body = data_text(content.text, content.get("contenttype"))
            found = {"body": body} if body else {}
        else:
            continue
        if found.get("body"):
            return found
        fallback = fallback or found
    return fallback


def _inline_xml(content: Element) -> dict[str, str]:
    """An ``inlineXML`` holding NITF, XHTML or other markup, read as text."""
    for child in content:
        name = local(child.tag)
        if name == "nitf":
            return nitf_text(child)
        if name == "html":
            body = block_text(kid(child, "body"))
            return {"body": body} if body else {}
    body = block_text(content)
    return {"body": body} if body else {}


def _canonical(meta: Element | None) -> str | None:
    for link in kids(meta, "link") if meta is not None else []:
        if (link.get("rel") or "").rsplit(":", 1)[-1].lower() == "canonical":
            url = http_url(link.get("href"))
            if url:
                return url
    return None


def _identity(guid: str | None, version: str | None) -> str | None:
    if not guid or not version:
        return None
    key = f"{guid}@{version}"
    return key if len(key) <= LIMITS["idempotency_key"] else None


def _language(element: Element, content: Element | None) -> str | None:
    for tag in kids(content, "language") if content is not None else []:
        lang = language(tag.get("tag"))
        if lang:
            return lang
    return language(element.get(XML_LANG))


def _provider(meta: Element | None) -> str | None:
    provider = kid(meta, "provider")
    name = line_text(kid(provider, "name")) or _attr(provider, "literal")
    return name if name and len(name) <= LIMITS["source"] else None


def _subjects(content: Element | None) -> list[str]:
    """Abstract subjects as ``name (qcode)`` labels, distinct, in order."""
    if content is None:
        return []
    return subject_labels(
        (line_text(kid(subject, "name")), _code(subject))
        for subject in kids(content, "subject")
        if (subject.get("type") or "").strip() in _ABSTRACT_TYPES
    )


def _code(subject: Element) -> str | None:
    """The subject's qcode (or uri); an IPTC code it is the ``sameAs`` of, if its own is not."""
    own = _attr(subject, "qcode") or _attr(subject, "uri")
    if own is not None and iptc_code(own):
        return own
    for same in kids(subject, "sameAs"):
        other = subject_code(_attr(same, "qcode") or _attr(same, "uri"))
        if other is not None and iptc_code(other):
            return other
    return own


def _located(content: Element | None) -> list[str]:
    """Where the story is: each ``located`` and its ``broader`` places, as country labels.

    An ISO 3166-1 alpha-2 qcode travels with the name (it is what resolves); any
    other scheme's qcode is dropped, leaving the name. Places are read lazily, so
    reading stops one past the contract's limit (which then refuses the item)
    however many a document holds.
    """
    if content is None:
        return []
    places = (
        place
        for located in kids(content, "located")
        for place in (located, *kids(located, "broader"))
    )
    return subject_labels(((line_text(kid(p, "name")), _iso(p)) for p in places), "countries")


def _iso(place: Element) -> str | None:
    code = _attr(place, "qcode")
    return code if code is not None and country_code(code) else None
