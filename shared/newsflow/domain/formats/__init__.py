"""Pure parsers of the formats publishers already have: bytes in, items and errors out.

Every parser returns :class:`ParseResult`: the items it could read (as dicts in
the publisher contract) and per-item errors with a line number, never raising on
bad input. :func:`parse_body` picks the parser, from a format name, a media type
(:func:`media_format`) or the content itself (:func:`sniff`); every XML body
passes :mod:`~newsflow.domain.formats.xmlguard` first.
"""

from newsflow.domain.formats.common import ParsedItem, ParseError, ParseResult
from newsflow.domain.formats.dispatch import (
    FORMATS,
    MEDIA_TYPES,
    Format,
    NotText,
    media_format,
    parse_body,
    sniff,
)

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Format",
    "NotText",
    "ParseError",
    "ParseResult",
    "ParsedItem",
    "media_format",
    "parse_body",
    "sniff",
]
