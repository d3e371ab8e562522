"""JSON Lines (one item per line) and JSON (one item or an array) in our contract."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from newsflow.domain.formats.common import (
    ParsedItem,
    ParseError,
    ParseResult,
    not_json,
    without_bom,
)


def parse_jsonl(data: bytes | str) -> ParseResult:
    """One item per line; a bad line is an error of its own and never stops the rest.

    Given bytes, each line is decoded alone, so one line that is not UTF-8 is
    rejected as such and the others are read (a JSON or XML document is one
    whole, and :func:`~newsflow.domain.formats.parse_body` refuses it whole).
    Splitting the bytes on ``\\n`` is safe: no multi-byte UTF-8 character holds that byte.
    One byte-order mark at the start of the body is dropped (not one per line).
    """
    result = ParseResult()
    for number, line in enumerate(_lines(data), start=1):
        if line is None:
            result.errors.append(ParseError(number, "not UTF-8 text"))
            continue
        if not line.strip():
            continue
        try:
            value: Any = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            result.errors.append(ParseError(number, not_json(exc)))
            continue
        if not isinstance(value, dict):
            result.errors.append(ParseError(number, "each line must be a JSON object"))
            continue
        result.items.append(ParsedItem(line=number, item=value))
    return result


def _lines(data: bytes | str) -> Iterator[str | None]:
    """Each line's text, None for a line of bytes that is not UTF-8."""
    # Split on newlines only: U+2028 and friends may legally sit inside JSON strings.
    if isinstance(data, str):
        yield from without_bom(data).split("\n")
        return
    for raw in without_bom(data).split(b"\n"):
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield None


def parse_json(text: str) -> ParseResult:
    """One item or an array of items; one leading byte-order mark is dropped."""
    result = ParseResult()
    try:
        value: Any = orjson.loads(without_bom(text))
    except orjson.JSONDecodeError as exc:
        result.errors.append(ParseError(1, not_json(exc)))
        return result
    values = value if isinstance(value, list) else [value]
    for index, entry in enumerate(values, start=1):
        if isinstance(entry, dict):
            result.items.append(ParsedItem(line=index, item=entry))
        else:
            result.errors.append(ParseError(index, "each item must be a JSON object"))
    return result
