"""JSON Lines (one item per line) and JSON (one item or an array) in our contract."""

from __future__ import annotations

from typing import Any

import orjson

from newsflow.domain.formats.common import ParsedItem, ParseError, ParseResult


def parse_jsonl(text: str) -> ParseResult:
    result = ParseResult()
    # Split on newlines only: U+2028 and friends may legally sit inside JSON strings.
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            value: Any = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            result.errors.append(ParseError(number, f"not valid JSON: {exc}"))
            continue
        if not isinstance(value, dict):
            result.errors.append(ParseError(number, "each line must be a JSON object"))
            continue
        result.items.append(ParsedItem(line=number, item=value))
    return result


def parse_json(text: str) -> ParseResult:
    result = ParseResult()
    try:
        value: Any = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        result.errors.append(ParseError(1, f"not valid JSON: {exc}"))
        return result
    values = value if isinstance(value, list) else [value]
    for index, entry in enumerate(values, start=1):
        if isinstance(entry, dict):
            result.items.append(ParsedItem(line=index, item=entry))
        else:
            result.errors.append(ParseError(index, "each item must be a JSON object"))
    return result
