"""The OSCE newsroom listing as scraped (the seed format).

A listing starts with a header ("Newsroom", "News and press releases", a
description), then repeats, per story::

    <title>
    Publishing date: 7 January 2021
    Content type: News                       (optional)
    Where we are: Office A, Office B         (optional; comma-separated)
    What we do: Topic A, Topic B             (optional; comma-separated)
    <summary>                                (optional; one line)

A story is recognised by its "Publishing date:" line; the line before it is the
title. Everything between the metadata and the next title is the summary.
"""

from __future__ import annotations

from typing import Any, Final

from newsflow.domain.formats.common import ParsedItem, ParseError, ParseResult, without_bom

_FIELDS: Final = {
    "publishing date": "published_at",
    "content type": "content_type",
    "where we are": "offices",
    "what we do": "topics",
}
_DATE_PREFIX: Final = "publishing date:"


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def parse_newsroom(text: str, *, source: str | None = "osce.org") -> ParseResult:
    """Parse a newsroom listing into publisher-contract items.

    One leading byte-order mark is dropped, as the JSON formats drop it: a listing
    saved as "UTF-8 with BOM" would otherwise start its first title with it.
    """
    lines = without_bom(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [
        i - 1
        for i, line in enumerate(lines)
        if line.strip().lower().startswith(_DATE_PREFIX) and i > 0
    ]
    result = ParseResult()
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        title = lines[start].strip()
        if not title or title.lower().startswith(tuple(k + ":" for k in _FIELDS)):
            result.errors.append(ParseError(start + 2, "'Publishing date:' without a title line"))
            continue
        item: dict[str, Any] = {"title": title}
        if source:
            item["source"] = source
        summary: list[str] = []
        for line in lines[start + 1 : end]:
            key, sep, value = line.partition(":")
            field = _FIELDS.get(key.strip().lower()) if sep else None
            if field and not summary:
                value = value.strip()
                if field in ("offices", "topics"):
                    item[field] = _split(value)
                elif value:
                    item[field] = value
            elif line.strip():
                summary.append(line.strip())
        if summary:
            item["summary"] = " ".join(summary)
        result.items.append(ParsedItem(line=start + 1, item=item))
    if not starts and text.strip():
        result.errors.append(ParseError(1, "no story found: expected 'Publishing date:' lines"))
    return result
