"""Pure parsers of the formats publishers already have: text in, items and errors out.

Every parser returns :class:`ParseResult`: the items it could read (as dicts in
the publisher contract) and per-item errors with a line number, never raising on
bad input.
"""

from newsflow.domain.formats.common import ParsedItem, ParseError, ParseResult

__all__ = ["ParseError", "ParseResult", "ParsedItem"]
