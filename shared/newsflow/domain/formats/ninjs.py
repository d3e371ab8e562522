"""IPTC ninjs ("News in JSON") items of every published version, mapped onto the contract.

Newsrooms that run a CMS often export ninjs already, so they can push it as is.
Input is one ninjs object, a JSON array of them, or JSON Lines of them. Field
names follow the IPTC 2.x schema; the 1.x fields are read as fallbacks because
older exporters still write them: ``headline``, and the pattern properties
``headline_*`` (``headline_main`` first), ``description_*`` (``description_text``
first) and ``body_*`` (``body_text`` first; ``body_html``, ``body_richtext``,
``body_xhtml``... stripped of markup). A 3.x item (``standard.version`` 3 or
later) with no headline is titled by its ``title``; in 2.x ``title`` is an
internal slug and is never shown. The line of an item or error is its line in
JSON Lines, or its 1-based position in an array (as for our own JSON).

===========================  =======================================================
contract                     ninjs
===========================  =======================================================
title                        ``headlines`` (role "main", else the first), ``headline``,
                             ``headline_*``, 3.x ``title``
summary                      ``descriptions`` (role "summary"/"abstract"/... first),
                             ``description_*``
body                         ``bodies`` (text/plain first, else HTML stripped), ``body_*``
url                          ``links`` rel=canonical, ``uri``, first http(s) link
guid                         ``uri`` when it is not an http(s) URL (a URN, a tag URI);
                             a uri holding whitespace is never the url, and the
                             contract refuses it as a guid
idempotency_key              ``uri@version``, when both are given (a resent version is
                             a repeat; the same version with other content a conflict)
published_at / updated_at    ``firstcreated`` (else ``contentcreated``, else
                             ``versioncreated``) / ``versioncreated``
revision                     ``version``: an integer or a string of digits, from 0 to
                             the contract's MAX_REVISION; any other version refuses
                             the item, naming ``version``
content_type                 ``genres[0].name``: the journalistic form ("Press release")
topics                       ``subjects`` (1.x ``subject``): ``name``, with an IPTC
                             code from ``uri``, ``qcode``, or ``code`` (relative to
                             ``scheme``), as ``name (qcode)`` labels
offices                      ``organisations[].name``
countries                    ``located`` (2.x, a name), ``places`` and 3.x
                             ``locations``: ``name``, with an ISO 3166-1 alpha-2
                             ``qcode``, ``uri`` or ``literal`` (``iso3166-1a2:RS``)
language                     ``language``
===========================  =======================================================

A ``uri`` that is a URN (``urn:newsml:...``) is an identity, not an address: it
becomes the contract's ``guid``, which identifies the story when there is no url,
as a NewsML-G2 URN guid does (see :mod:`.newsml` and ADR 0002). A blank ``uri`` or
``version`` counts as none, as in NewsML-G2.

Places are read leniently: an entry that is not an object, or a name that is not
a string, is skipped rather than refusing the story, since places were ignored
before and a feed that was read must stay readable. Everything else (``type``,
``profile``, ``by``, ``copyrightholder``, renditions, ...) is ignored, so the output
never holds a field outside the contract. Dates and the language tag are passed
through as written: the contract validates them and names the field when one is
wrong. Items that are
``withheld`` or ``canceled`` are reported, not imported, and so is a picture,
video, audio or graphic item with no title anywhere (the reason says which).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Final

import orjson

from newsflow.domain.contract import LIMITS
from newsflow.domain.formats.common import (
    ParsedItem,
    ParseError,
    ParseResult,
    http_url,
    identity_url,
    not_json,
    subject_code,
    subject_labels,
    version_revision,
    without_bom,
)
from newsflow.domain.formats.html import looks_like_html, strip_html
from newsflow.domain.taxonomy import country_code, iptc_code

_SUMMARY_ROLES: Final = ("summary", "abstract", "lead", "teaser", "description")
_UNPUBLISHED: Final = frozenset({"withheld", "canceled", "cancelled"})
_NINJS_KEYS: Final = frozenset(
    {
        "headlines",
        "headline",
        "bodies",
        "body_text",
        "body_html",
        "descriptions",
        "firstcreated",
        "versioncreated",
        "subjects",
        "standard",
        "title",
    }
)
#: The 1.x pattern properties (``headline_main``, ``body_richtext``, ...).
_PATTERNS: Final = ("headline_", "description_", "body_")
#: Media items: without a title anywhere they are refused, naming the type.
_MEDIA_TYPES: Final = frozenset({"picture", "video", "audio", "graphic"})
#: Item types that ninjs 3.x titles with ``title`` rather than a headline.
_TITLED_TYPES: Final = frozenset({"event", "planning"})


class _ShapeError(ValueError):
    """A ninjs field has the wrong shape; the message names it."""


def parse_ninjs(text: str, *, source: str | None = None) -> ParseResult:
    """Parse ninjs (an object, an array or JSON Lines) into publisher-contract items.

    ``source`` names the publisher on every item (ninjs has no field that says
    it unambiguously). Never raises: bad JSON and bad items become errors.
    """
    result = ParseResult()
    for line, value in _documents(text, result):
        if not isinstance(value, dict):
            result.errors.append(ParseError(line, "each ninjs item must be a JSON object"))
            continue
        try:
            item = _map(value)
        except _ShapeError as exc:
            result.errors.append(ParseError(line, str(exc)))
            continue
        if source:
            item["source"] = source
        result.items.append(ParsedItem(line=line, item=item))
    return result


def looks_like_ninjs(text: str) -> bool:
    """True when the first JSON object in ``text`` is ninjs rather than our contract.

    Every ninjs object has ``uri`` (the schema's only required field), which the
    publisher contract rejects as unknown, so ``uri`` plus a ninjs content field
    tells the two apart. For ``detect_format``.
    """
    first = next(iter(_documents(text, ParseResult())), None)
    if first is None or not isinstance(first[1], dict):
        return False
    keys = first[1]
    return "uri" in keys and (
        not _NINJS_KEYS.isdisjoint(keys)
        or any(isinstance(k, str) and k.startswith(_PATTERNS) for k in keys)
    )


def _documents(text: str, result: ParseResult) -> Iterator[tuple[int, Any]]:
    """Yield (line, value) for every top-level JSON value; record unreadable JSON.

    One byte-order mark at the start of ``text`` is dropped, as for our own JSON.
    """
    text = without_bom(text)
    if not text.strip():
        return
    try:
        whole: Any = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        # Not splitlines(): U+2028 and U+0085 are legal raw inside JSON strings.
        lines = text.replace("\r\n", "\n").split("\n")
        first = next((n for n, line in enumerate(lines) if line.strip()), 0)
        if not _is_object_line(lines[first]):
            result.errors.append(ParseError(1, not_json(exc)))
            return
        yield from _json_lines(lines, result)
        return
    if isinstance(whole, list):
        yield from enumerate(whole, start=1)
    else:
        yield 1, whole


def _is_object_line(line: str) -> bool:
    try:
        return isinstance(orjson.loads(line), dict)
    except orjson.JSONDecodeError:
        return False


def _json_lines(lines: list[str], result: ParseResult) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            result.errors.append(ParseError(number, not_json(exc)))


def _map(obj: dict[str, Any]) -> dict[str, Any]:
    """One ninjs object to a contract item; raises :class:`_ShapeError` with a reason."""
    status = _string(obj, "pubstatus")
    if status and status.strip().lower() in _UNPUBLISHED:
        raise _ShapeError(f"pubstatus is {status.strip()!r}: the item is not for publication")

    item: dict[str, Any] = {"title": _title(obj)}

    summary = _pick_text(obj, "descriptions", roles=_SUMMARY_ROLES, keep_paragraphs=True)
    if summary is None:
        summary = _pattern_text(obj, "description_", first=("text", "summary"))
    body = _body(obj)
    url = _url(obj)
    uri = _string(obj, "uri")
    published = (
        _string(obj, "firstcreated")
        or _string(obj, "contentcreated")
        or _string(obj, "versioncreated")
    )
    updated = _string(obj, "versioncreated")
    try:
        revision = version_revision(obj.get("version"))
    except ValueError as exc:
        raise _ShapeError(str(exc)) from None
    genres = _names(obj, "genres")
    language = _string(obj, "language")
    for key, value in (
        ("summary", summary),
        ("body", body),
        ("url", url),
        ("guid", None if uri is None or identity_url(uri) else uri.strip()),
        ("published_at", published and published.strip()),
        ("updated_at", updated and updated.strip()),
        ("revision", revision),
        ("content_type", genres[0] if genres else None),
        ("language", language and language.strip()),
        ("idempotency_key", _identity(obj)),
    ):
        if value is not None and value != "":
            item[key] = value
    topics, offices = _subjects(obj), _names(obj, "organisations")
    if topics:
        item["topics"] = topics
    if offices:
        item["offices"] = offices
    countries = _places(obj)
    if countries:
        item["countries"] = countries
    return item


def _title(obj: dict[str, Any]) -> str:
    """The headline, from 2.x, 1.x or (3.x only) ``title``; raises with the reason if none."""
    title = _pick_text(obj, "headlines", roles=("main",), keep_paragraphs=False)
    if title is None:
        title = _plain_or_html(_string(obj, "headline"), keep_paragraphs=False)
    if title is None:
        title = _pattern_text(obj, "headline_", first=("main",), keep_paragraphs=False)
    kind = (_string(obj, "type") or "").strip().lower()
    if title is None and (_major_version(obj) >= 3 or kind in _TITLED_TYPES):
        title = _plain_or_html(_string(obj, "title"), keep_paragraphs=False)
    if title:
        return title
    if kind in _MEDIA_TYPES:
        raise _ShapeError(
            f"no headline: a {kind} item with no title anywhere "
            "(headlines, headline, headline_*, or 3.x title)"
        )
    raise _ShapeError(
        "no headline: ninjs needs headlines[].value (or headline, headline_*, "
        "or a 3.x title) for a title"
    )


def _major_version(obj: dict[str, Any]) -> int:
    """The ninjs major version ``standard.version`` declares (2 when it says none)."""
    standard = obj.get("standard")
    version = standard.get("version") if isinstance(standard, dict) else None
    if isinstance(version, str):
        head = version.strip().split(".", 1)[0]
        if head.isascii() and head.isdigit() and len(head) <= 3:
            return int(head)
    return 2


def _pattern_text(
    obj: dict[str, Any], prefix: str, *, first: tuple[str, ...], keep_paragraphs: bool = True
) -> str | None:
    """Text of the 1.x pattern properties ``prefix*``: the ``first`` suffixes, then the rest.

    A suffix naming markup (``html``, ``richtext``, ``xhtml``) is stripped as HTML,
    as is any value that looks like it.
    """
    suffixes = [k[len(prefix) :] for k in obj if isinstance(k, str) and k.startswith(prefix)]
    ranked = sorted(suffixes, key=lambda s: first.index(s) if s in first else len(first))
    for suffix in ranked:
        markup = any(word in suffix.lower() for word in ("html", "rich", "xml"))
        text = _plain_or_html(
            _string(obj, prefix + suffix), keep_paragraphs=keep_paragraphs, html=markup
        )
        if text:
            return text
    return None


def _identity(obj: dict[str, Any]) -> str | None:
    """``uri@version``: the item's identity and version, as an idempotency key."""
    uri, version = obj.get("uri"), obj.get("version")
    if not isinstance(uri, str) or not uri.strip():
        return None
    if isinstance(version, bool) or not isinstance(version, str | int):
        return None
    key = f"{uri.strip()}@{str(version).strip()}"
    return key if len(key) <= LIMITS["idempotency_key"] and str(version).strip() else None


def _string(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _ShapeError(f"{key} must be a string, not {_kind(value)}")


def _objects(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise _ShapeError(f"{key} must be an array, not {_kind(value)}")
    for index, entry in enumerate(value):
        if not isinstance(entry, dict):
            raise _ShapeError(f"{key}[{index}] must be an object, not {_kind(entry)}")
    return value


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__
    )


def _plain_or_html(value: str | None, *, keep_paragraphs: bool, html: bool = False) -> str | None:
    """Text of a value that may be HTML; None when it is missing or blank."""
    if value is None:
        return None
    if html or looks_like_html(value):
        text = strip_html(value, keep_paragraphs=keep_paragraphs)
    elif keep_paragraphs:
        text = value.strip()
    else:
        text = " ".join(value.split())
    return text or None


def _values(obj: dict[str, Any], key: str) -> list[tuple[str, str, str]]:
    """(role, contenttype, value) of a headlines/descriptions/bodies array."""
    out: list[tuple[str, str, str]] = []
    for index, entry in enumerate(_objects(obj, key)):
        where = f"{key}[{index}]"
        value = _string(entry, "value")
        if value is None:
            raise _ShapeError(f"{where}.value is required")
        role = _string(entry, "role") or ""
        contenttype = _string(entry, "contenttype") or ""
        out.append((role.strip().lower(), contenttype.strip().lower(), value))
    return out


def _pick_text(
    obj: dict[str, Any], key: str, *, roles: tuple[str, ...], keep_paragraphs: bool
) -> str | None:
    """The entry with the first preferred role, else the first entry with text."""
    entries = _values(obj, key)
    ranked = sorted(entries, key=lambda e: roles.index(e[0]) if e[0] in roles else len(roles))
    for _role, contenttype, value in ranked:
        text = _plain_or_html(value, keep_paragraphs=keep_paragraphs, html="html" in contenttype)
        if text:
            return text
    return None


def _body(obj: dict[str, Any]) -> str | None:
    """Plain-text body: a text/plain body first, else the markup one stripped."""
    entries = _values(obj, "bodies")
    plain_first = sorted(entries, key=lambda e: 0 if e[1] == "text/plain" else 1)
    for _role, contenttype, value in plain_first:
        text = _plain_or_html(value, keep_paragraphs=True, html="html" in contenttype)
        if text:
            return text
    return _pattern_text(obj, "body_", first=("text", "html"))


def _url(obj: dict[str, Any]) -> str | None:
    """The story's public address: a canonical link, an http(s) ``uri``, any http(s) link.

    ``links`` is not in the 2.2 schema but several exporters add it; a ``uri`` that
    is a URN or a tag is an identifier, not an address, and is not used.
    """
    links = [(_string(link, "rel") or "", _string(link, "href")) for link in _objects(obj, "links")]
    canonical = (href for rel, href in links if rel.strip().lower() == "canonical")
    fallback = (href for _rel, href in links)
    for candidate in (*canonical, identity_url(_string(obj, "uri")), *fallback):
        url = http_url(candidate)
        if url:
            return url
    return None


def _subjects(obj: dict[str, Any]) -> list[str]:
    """``subjects`` (2.x, 3.x) or ``subject`` (1.x) as ``name (code)`` labels, distinct."""
    key = "subjects" if "subjects" in obj or "subject" not in obj else "subject"
    entries = enumerate(_objects(obj, key))
    return subject_labels(_subject(entry, f"{key}[{index}]") for index, entry in entries)


def _subject(entry: dict[str, Any], where: str) -> tuple[str | None, str | None]:
    """(name, IPTC code) of one subject; the code from ``uri``, ``qcode`` or ``code``.

    Only an IPTC code joins the label: a subject in an exporter's own vocabulary
    is its name, as it always was. Code fields that are not strings are ignored.
    """
    name = entry.get("name")
    if name is not None and not isinstance(name, str):
        raise _ShapeError(f"{where}.name must be a string, not {_kind(name)}")
    text = {k: v for k in ("uri", "qcode", "code", "scheme") if isinstance(v := entry.get(k), str)}
    for code in (
        subject_code(text.get("uri")),
        subject_code(text.get("qcode")),
        subject_code(text.get("code"), text.get("scheme")),
    ):
        if code is not None and iptc_code(code):
            return name, code
    return name, None


def _places(obj: dict[str, Any]) -> list[str]:
    """``located``, ``places`` and ``locations`` as country labels; malformed entries skipped."""
    return subject_labels(_place_pairs(obj), "countries")


def _place_pairs(obj: dict[str, Any]) -> Iterator[tuple[str | None, str | None]]:
    """(name, ISO 3166-1 alpha-2 qcode) of each place, lazily (reading stops past the limit)."""
    located = obj.get("located")
    if isinstance(located, str):
        yield located, None
    for key in ("places", "locations"):
        entries = obj.get(key)
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            name = entry.get("name")
            codes = (entry.get(k) for k in ("qcode", "uri", "literal"))
            code = next((c for c in codes if isinstance(c, str) and country_code(c)), None)
            yield (name if isinstance(name, str) else None), code


def _names(obj: dict[str, Any], key: str) -> list[str]:
    """Distinct, non-blank ``name`` values of an array of concept objects, in order."""
    out: dict[str, None] = {}
    for index, entry in enumerate(_objects(obj, key)):
        name = entry.get("name")
        if name is None:
            continue
        if not isinstance(name, str):
            raise _ShapeError(f"{key}[{index}].name must be a string, not {_kind(name)}")
        label = " ".join(name.split())
        if label:
            out.setdefault(label, None)
    return list(out)
