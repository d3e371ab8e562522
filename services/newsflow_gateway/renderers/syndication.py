"""Atom 1.0 and RSS 2.0 renderings of a search. Built with ElementTree, so every
value is escaped by the serializer rather than by hand: story text is plain text,
and a ``<script>`` in a title reaches a feed reader as ``&lt;script&gt;``. Summaries
are declared ``type="text"`` (Atom); RSS descriptions, which readers take as HTML,
are HTML-escaped before the XML escaping.

``item_url`` is a template with ``{id}``; it and ``self_url`` are built from the
configured public base URL, never from the request's Host header."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from xml.etree import ElementTree as ET

from newsflow.store import StoredStory, StoredTag

ATOM_NS = "http://www.w3.org/2005/Atom"


#: What XML 1.0 cannot carry at all, escaped or not: C0 controls but tab, LF and CR;
#: lone surrogates; U+FFFE and U+FFFF. A feed's title echoes the query, so any of
#: them can arrive; they are dropped rather than make the whole feed unreadable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_safe(root: ET.Element) -> ET.Element:
    """``root`` with every text, tail and attribute value made writable as XML 1.0."""
    for element in root.iter():
        if element.text:
            element.text = _NOT_XML.sub("", element.text)
        if element.tail:
            element.tail = _NOT_XML.sub("", element.tail)
        for name, value in element.attrib.items():
            element.attrib[name] = _NOT_XML.sub("", value)
    return root


def _when(doc: StoredStory) -> datetime:
    return (doc.when or datetime(1970, 1, 1, tzinfo=UTC)).astimezone(UTC)


def _categories(doc: StoredStory) -> list[StoredTag]:
    return [t for t in doc.topics if t.id]


def atom(docs: list[StoredStory], *, title: str, self_url: str, item_url: str) -> bytes:
    ET.register_namespace("", ATOM_NS)
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    ET.SubElement(feed, f"{{{ATOM_NS}}}title").text = title
    ET.SubElement(feed, f"{{{ATOM_NS}}}id").text = self_url
    ET.SubElement(feed, f"{{{ATOM_NS}}}link", rel="self", href=self_url)
    updated = max((_when(d) for d in docs), default=datetime(1970, 1, 1, tzinfo=UTC))
    ET.SubElement(feed, f"{{{ATOM_NS}}}updated").text = updated.isoformat()
    author = ET.SubElement(feed, f"{{{ATOM_NS}}}author")
    ET.SubElement(author, f"{{{ATOM_NS}}}name").text = "Newsflow"
    for doc in docs:
        entry = ET.SubElement(feed, f"{{{ATOM_NS}}}entry")
        ET.SubElement(entry, f"{{{ATOM_NS}}}id").text = f"urn:newsflow:osce:item:{doc.id}"
        ET.SubElement(entry, f"{{{ATOM_NS}}}title").text = doc.title
        ET.SubElement(entry, f"{{{ATOM_NS}}}updated").text = _when(doc).isoformat()
        ET.SubElement(entry, f"{{{ATOM_NS}}}published").text = _when(doc).isoformat()
        link = doc.url or item_url.replace("{id}", doc.id)
        ET.SubElement(entry, f"{{{ATOM_NS}}}link", rel="alternate", href=link)
        if doc.summary:
            ET.SubElement(entry, f"{{{ATOM_NS}}}summary", type="text").text = doc.summary
        for tag in _categories(doc):
            ET.SubElement(entry, f"{{{ATOM_NS}}}category", term=tag.id or "", label=tag.name)
    body: bytes = ET.tostring(_xml_safe(feed), encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def rss(docs: list[StoredStory], *, title: str, self_url: str, item_url: str) -> bytes:
    root = ET.Element("rss", version="2.0")
    root.set("xmlns:atom", ATOM_NS)
    channel = ET.SubElement(root, "channel")
    ET.SubElement(channel, "title").text = title
    ET.SubElement(channel, "link").text = self_url
    ET.SubElement(channel, "description").text = f"{title} (Newsflow)"
    ET.SubElement(channel, "atom:link", href=self_url, rel="self", type="application/rss+xml")
    if docs:
        ET.SubElement(channel, "lastBuildDate").text = format_datetime(
            max(_when(d) for d in docs), usegmt=True
        )
    for doc in docs:
        entry = ET.SubElement(channel, "item")
        ET.SubElement(entry, "title").text = doc.title
        ET.SubElement(entry, "link").text = doc.url or item_url.replace("{id}", doc.id)
        guid = ET.SubElement(entry, "guid", isPermaLink="false")
        guid.text = f"urn:newsflow:osce:item:{doc.id}"
        ET.SubElement(entry, "pubDate").text = format_datetime(_when(doc), usegmt=True)
        if doc.summary:
            # RSS readers take <description> as HTML: escape the plain text for HTML
            # first, so the XML-decoded value shows "<script>" rather than running it.
            ET.SubElement(entry, "description").text = escape(doc.summary, quote=False)
        for tag in _categories(doc):
            ET.SubElement(entry, "category").text = tag.name
    body: bytes = ET.tostring(_xml_safe(root), encoding="utf-8")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body
