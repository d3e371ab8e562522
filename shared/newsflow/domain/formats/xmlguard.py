"""The one gate every XML body passes before an XML parser expands anything in it.

A document type declaration is where XML bombs live: a 1 KB "billion laughs"
declares entities that expand to about a million characters, and external
entities read files or URLs. News feeds have no use for either, so, as the usual
XML-security advice says, a body that declares a DTD or an entity is refused
outright rather than parsed carefully.

The check reads only the prolog (DTDs and entity declarations may appear nowhere
else) with ``defusedxml``'s expat reader, which honours the document's encoding
the way the real parser will. A document expat cannot read that far (malformed, or
in an encoding expat lacks) is checked by scanning its prolog as text instead,
the same split ``feedparser`` makes itself, so the lenient fallback parser cannot
be handed what the strict one would have refused.
"""

from __future__ import annotations

import re
import xml.sax
from typing import Final
from xml.sax.handler import ContentHandler

from defusedxml import DefusedXmlException
from defusedxml.expatreader import DefusedExpatParser

REFUSED: Final = (
    "XML documents may not declare a DTD or entities (<!DOCTYPE>, <!ENTITY>); "
    "they are refused for safety"
)
#: Where the prolog ends: the first element, as feedparser finds it.
_FIRST_ELEMENT: Final = re.compile(r"<\w")
_DECLARATION: Final = re.compile(r"<!\s*(?:DOCTYPE|ENTITY)", re.IGNORECASE)
_CHUNK: Final = 8192
_HEAD: Final = 65536
#: Every family of encodings feedparser can read a document in: ASCII-compatible
#: (latin-1 maps every byte), UTF-16 either way round, UTF-32 and EBCDIC.
_ENCODINGS: Final = ("latin-1", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be", "cp037")


class _PastPrologError(Exception):
    """The root element started: nothing after it can declare a DTD."""


class _StopAtRoot(ContentHandler):
    def startElement(self, name: str, attrs: object) -> None:  # noqa: N802 (SAX API)
        raise _PastPrologError

    def startElementNS(self, name: object, qname: object, attrs: object) -> None:  # noqa: N802
        raise _PastPrologError


def refuse_reason(data: bytes) -> str | None:
    """Why ``data`` must not reach an XML parser, or None when it may."""
    parser = DefusedExpatParser(forbid_dtd=True, forbid_entities=True, forbid_external=True)
    parser.setContentHandler(_StopAtRoot())
    try:
        for start in range(0, len(data), _CHUNK):
            parser.feed(data[start : start + _CHUNK])
    except _PastPrologError:
        return None
    except DefusedXmlException:
        return REFUSED
    except (xml.sax.SAXException, ValueError, LookupError):
        pass  # expat could not read the prolog: judge its prolog as text, in every encoding
    head = data[:_HEAD]
    return REFUSED if any(_declares(head.decode(c, "replace")) for c in _ENCODINGS) else None


def _declares(text: str) -> bool:
    """Whether the text before the first element declares a DTD or an entity."""
    first = _FIRST_ELEMENT.search(text)
    return _DECLARATION.search(text[: first.start()] if first else text) is not None
