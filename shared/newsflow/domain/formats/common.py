"""Result types shared by the format parsers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


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
