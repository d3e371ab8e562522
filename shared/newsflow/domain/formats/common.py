"""Result types and small helpers shared by the format parsers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class ParsedItem:
    """An item in the publisher contract, and the line it started on."""

    line: int
    item: dict[str, Any]


@dataclass(frozen=True)
class ParseError:
    line: int
    message: str


@dataclass
class ParseResult:
    items: list[ParsedItem] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)


def http_url(value: object) -> str | None:
    """``value`` stripped, if it is an absolute http(s) URL; anything else is None."""
    if not isinstance(value, str):
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme.lower() in ("http", "https") and parts.netloc else None
