"""The publisher contract: what an external publisher may put on ``news:ingest``.

A publisher in any language pushes one JSON object per stream entry::

    XADD news:ingest * item '{"title": "...", "published_at": "7 January 2021"}'

The object is validated by :class:`PublisherItem`. Unknown fields are rejected,
every string and list has a documented limit (:data:`LIMITS`), and every field has
one JSON type: a string where a list belongs, a number for a date, or ``"3"`` or
``true`` for a revision is refused, not coerced. The reason for a rejection names
the field in the contract's words ("title: at most 500 characters"), never
pydantic's (:func:`describe_errors`). Validation here is structural; the ingest service's
normaliser (:mod:`newsflow.domain.normalise`) then cleans and identifies the item.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Final

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
)

from newsflow.domain.text import is_blank, label_key

#: Limits on every string (characters) and list (entries) of the contract.
#: The README's publisher section is generated from the same numbers.
LIMITS: Final[dict[str, int]] = {
    "title": 500,
    "summary": 5_000,
    "body": 200_000,
    "url": 2_048,
    "guid": 1_000,
    "published_at": 64,
    "updated_at": 64,
    "content_type": 100,
    "offices": 50,
    "office": 300,
    "topics": 50,
    "topic": 200,
    "countries": 50,
    "country": 200,
    "language": 35,
    "source": 200,
    "idempotency_key": 200,
}

#: Largest revision: the largest integer every JSON reader holds exactly.
MAX_REVISION: Final = 2**53

#: Largest encoded item we read from a stream entry, in bytes. Bigger entries are
#: rejected before JSON parsing so one huge entry cannot stall a worker.
MAX_ITEM_BYTES: Final = 512 * 1024

#: Earliest publishing date we accept: the OSCE's predecessor, the CSCE, dates from 1973,
#: and nothing in a news corpus is older than the twentieth century.
EARLIEST_DATE: Final = datetime(1900, 1, 1, tzinfo=UTC)

_MONTHS: Final = {
    name: number
    for number, name in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ],
        start=1,
    )
}
_NEWSROOM_DATE = re.compile(r"^\s*(\d{1,2})\s+([A-Za-z]+)\s+(\d{4})\s*$")

# Characters that have no business in news text: C0/C1 controls other than tab and
# newline, and the bidirectional overrides and isolates used to disguise text
# ("Trojan Source"). Ordinary right-to-left script is fine; these controls are not.
_BIDI_CONTROLS: Final = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


#: Every character :func:`check_text` refuses, as one character class: C0/C1 controls
#: other than tab, newline and carriage return; bidi controls; lone surrogates; and
#: the 34 non-characters that end each plane (U+FFFE, U+FFFF, U+1FFFE, ...).
_FORBIDDEN: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
    + "".join(sorted(_BIDI_CONTROLS))
    + "\ud800-\udfff"
    + "".join(chr(plane * 0x10000 + 0xFFFE) + chr(plane * 0x10000 + 0xFFFF) for plane in range(17))
    + "]"
)
#: The same for ASCII text, which is most text and scans ten times faster.
_FORBIDDEN_ASCII: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(value: str) -> str:
    """Reject NUL and other control characters, bidi overrides and lone surrogates.

    One regular-expression scan: this runs on every string of every item.
    """
    found = (_FORBIDDEN_ASCII if value.isascii() else _FORBIDDEN).search(value)
    if found is None:
        return value
    ch = found.group()
    code = ord(ch)
    if code < 0x20 or 0x7F <= code < 0xA0:
        raise ValueError(f"control character U+{code:04X} is not allowed")
    if ch in _BIDI_CONTROLS:
        raise ValueError(f"bidirectional control character U+{code:04X} is not allowed")
    if 0xD800 <= code <= 0xDFFF:
        raise ValueError("lone surrogate characters are not allowed")
    raise ValueError(f"non-character U+{code:04X} is not allowed")


def _split_labels(value: Any) -> Any:
    """Split every entry of a list of labels on commas, and count repeats once.

    The newsroom prints several offices on one line separated by ", " and no
    observed label contains a comma, so "A, B" is two labels. A bare string is not
    a list: it is rejected, as the contract says, not taken as one label. An empty
    entry is rejected too (the published schema says at least one character), and
    so is one of only invisible characters (:func:`~newsflow.domain.text.is_blank`).

    Labels that are one label by :func:`~newsflow.domain.text.label_key` (case and
    accents aside: 'Serbia', 'SERBIA', 'Sérbia') are kept once, in the first
    spelling, before the list's limit is checked: ten thousand 'Serbia' are one
    country in plain JSON as in NewsML-G2 or ninjs, and fifty-one distinct places
    are still too many. This runs for every format, since they all end here.
    """
    if not isinstance(value, list):
        return value
    out: list[Any] = []
    seen: set[str] = set()
    for entry in value:
        if not isinstance(entry, str):
            out.append(entry)
            continue
        if is_blank(entry):
            raise ValueError("labels must not be empty")
        for part in entry.split(","):
            part = part.strip()
            if is_blank(part):
                continue
            key = label_key(part)
            if key not in seen:
                seen.add(key)
                out.append(part)
    return out


def _visible(value: str) -> str:
    """A required text is not empty, nor only invisible characters ("\\u200b")."""
    if is_blank(value):
        raise ValueError("must not be empty")
    return value


#: The message for a date in a form we do not read.
DATE_FORMS: Final = (
    "must be ISO 8601 (2021-01-07 or 2021-01-07T10:00:00Z) or the newsroom form '7 January 2021'"
)


def parse_published_at(value: str | datetime | date) -> datetime:
    """Parse ISO 8601 or the newsroom's "7 January 2021" form into an aware UTC datetime.

    A date without a time means midnight UTC; a time without a zone is taken as UTC.
    """
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time(0), tzinfo=UTC)
    else:
        text = value.strip()
        match = _NEWSROOM_DATE.match(text)
        if match:
            day, month_name, year = match.groups()
            month = _MONTHS.get(month_name.lower())
            if month is None:
                raise ValueError(f"unknown month {month_name!r}")
            parsed = datetime(int(year), month, int(day), tzinfo=UTC)
        else:
            iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
            try:
                parsed = datetime.fromisoformat(iso)
            except ValueError:
                raise ValueError(DATE_FORMS) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _date_field(limit: int) -> Any:
    """A date is a string in the contract (Python callers may pass a date or datetime).

    A number is refused, not read as a Unix time: nothing in the contract says which
    epoch or unit it would be.
    """

    def check(value: Any) -> Any:
        if value is None or isinstance(value, datetime | date):
            return value
        if not isinstance(value, str):
            raise ValueError(f"must be a string: {DATE_FORMS.removeprefix('must be ')}")
        if len(value.strip()) > limit:
            raise ValueError(f"at most {limit:,} characters")
        return parse_published_at(value)

    return BeforeValidator(check)


def _integer(value: Any) -> Any:
    """An integer is a JSON number: not a string of digits, not true or false."""
    if isinstance(value, bool | str):
        raise ValueError("must be an integer")
    return value


Text = Annotated[str, AfterValidator(check_text)]
#: Text that must show something: the title. Emptiness looks through format characters.
VisibleText = Annotated[str, AfterValidator(check_text), AfterValidator(_visible)]


class PublisherItem(BaseModel):
    """One news item as a publisher sends it. Unknown fields are rejected."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        str_strip_whitespace=True,
        json_schema_extra={
            "examples": [
                {
                    "title": "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
                    "summary": "BELGRADE, 5 January 2021 – Jan Braathu assumed his duties...",
                    "published_at": "6 January 2021",
                    "content_type": "Press release",
                    "offices": ["OSCE Mission to Serbia"],
                    "topics": [],
                    "language": "en",
                    "source": "osce.org",
                }
            ]
        },
    )

    title: VisibleText = Field(
        min_length=1, max_length=LIMITS["title"], description="Headline. Required."
    )
    summary: Text | None = Field(default=None, max_length=LIMITS["summary"])
    body: Text | None = Field(default=None, max_length=LIMITS["body"])
    url: Text | None = Field(
        default=None, max_length=LIMITS["url"], description="Canonical http(s) URL of the story."
    )
    guid: Text | None = Field(
        default=None,
        min_length=1,
        max_length=LIMITS["guid"],
        # One token: whitespace inside an identifier is a mistake, not part of it.
        pattern=r"^\S+$",
        description=(
            "The publisher's permanent id of the story when it is not a URL (a NewsML-G2 "
            "guid, a ninjs uri, an RSS guid or Atom id, e.g. "
            "'urn:newsml:example.com:20261129:abc123'). Without a url it identifies the "
            "story, so every version of it stays one story even when its headline changes."
        ),
    )
    published_at: Annotated[datetime | None, _date_field(LIMITS["published_at"])] = Field(
        default=None,
        description="ISO 8601, or the newsroom's '7 January 2021'. Times without a zone are UTC.",
    )
    updated_at: Annotated[datetime | None, _date_field(LIMITS["updated_at"])] = Field(
        default=None, description="When the publisher last changed the story; orders revisions."
    )
    revision: Annotated[int | None, BeforeValidator(_integer)] = Field(
        default=None,
        ge=0,
        le=MAX_REVISION,
        description="Publisher's revision number; a higher revision replaces a lower one.",
    )
    content_type: Text | None = Field(default=None, max_length=LIMITS["content_type"])
    offices: Annotated[
        list[Annotated[Text, Field(min_length=1, max_length=LIMITS["office"])]],
        BeforeValidator(_split_labels),
        Field(max_length=LIMITS["offices"]),
    ] = Field(default_factory=list, description="Publishing offices, as published.")
    topics: Annotated[
        list[Annotated[Text, Field(min_length=1, max_length=LIMITS["topic"])]],
        BeforeValidator(_split_labels),
        Field(max_length=LIMITS["topics"]),
    ] = Field(default_factory=list, description="Topics ('What we do'), as published.")
    countries: Annotated[
        list[Annotated[Text, Field(min_length=1, max_length=LIMITS["country"])]],
        BeforeValidator(_split_labels),
        Field(max_length=LIMITS["countries"]),
    ] = Field(
        default_factory=list,
        description=(
            "Countries or places the story is about, as published: a name ('Serbia'), an "
            "ISO 3166-1 alpha-2 code ('iso3166-1a2:RS') or both ('Serbia (iso3166-1a2:RS)'). "
            "Enrichment resolves them to participating States and Partners; the rest stay "
            "unresolved labels."
        ),
        examples=[["Serbia (iso3166-1a2:RS)"]],
    )
    language: Text | None = Field(
        default=None,
        max_length=LIMITS["language"],
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$",
        description="BCP 47 language tag, e.g. 'en' or 'ru'.",
    )
    source: Text | None = Field(default=None, max_length=LIMITS["source"])
    idempotency_key: Text | None = Field(
        default=None,
        max_length=LIMITS["idempotency_key"],
        description="Optional key; repeats within the idempotency window are recognised.",
    )


#: What each kind of field is, for "must be ..." messages.
_KINDS: Final = {
    "offices": "a list of strings",
    "topics": "a list of strings",
    "countries": "a list of strings",
}


def describe_errors(error: ValidationError) -> list[dict[str, str]]:
    """Turn pydantic's errors into ``{"field", "message"}`` pairs in the contract's words.

    "title: at most 500 characters", never pydantic's own phrasing.
    """
    return [
        {
            "field": ".".join(str(part) for part in err["loc"]) or "item",
            "message": _message(err),
        }
        for err in error.errors(include_url=False)
    ]


def _message(err: Any) -> str:
    kind, ctx, loc = err["type"], err.get("ctx") or {}, err["loc"]
    field = str(loc[0]) if loc else "item"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "missing":
        return "required"
    if kind in ("string_too_long", "too_long"):
        limit = ctx.get("max_length")
        unit = "characters" if isinstance(err.get("input"), str) else "entries"
        return f"at most {limit:,} {unit}"
    if kind in ("string_too_short", "too_short"):
        return "must not be empty"
    if kind == "string_type":
        return "must be a string"
    if kind == "list_type":
        return f"must be {_KINDS.get(field, 'a list')}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return "must be an integer"
    if kind in ("greater_than_equal", "less_than_equal") and field == "revision":
        return "must be an integer from 0 to 2^53"
    if kind == "string_pattern_mismatch" and field == "language":
        return "must be a BCP 47 language tag, e.g. 'en' or 'sr-Latn'"
    if kind == "string_pattern_mismatch" and field == "guid":
        return "must not contain whitespace"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    return str(err["msg"])


def summarise_errors(errors: list[dict[str, str]]) -> str:
    """One human-readable line for a list of field errors."""
    return "; ".join(f"{e['field']}: {e['message']}" for e in errors)
