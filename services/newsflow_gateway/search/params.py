"""HTTP query parameters shared by lists, facets, feeds and the live stream, and the
pure :class:`~newsflow_gateway.search.query.SearchQuery` they become.

Unknown parameters are rejected (``extra="forbid"``); ids are checked against the
taxonomy; ``q`` is parsed here, once. The first step of the one-way search path:
params → query → listing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from newsflow.domain import search
from newsflow.domain.taxonomy import Taxonomy
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.search.query import Filters, SearchQuery, Sort, TextQuery

MAX_LIMIT = 100
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _iso_only(value: Any) -> Any:
    """Only ISO 8601 date-times with a zone; pydantic would also take numbers as
    Unix times, which is not what the API documents."""
    if isinstance(value, str) and not _ISO_DATETIME.match(value):
        raise ValueError("must be an ISO 8601 date-time with a zone, e.g. 2021-01-07T00:00:00Z")
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


def _utc_clamped(value: datetime) -> datetime:
    """In UTC, as the store compares. An instant beyond what a UTC datetime can hold
    (``0001-01-01T00:00:00+05:00``, ``9999-12-31T23:59:59-05:00``) is clamped to
    the first or last one: as a bound it means "since ever" or "until ever"."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return EARLIEST if value.year < datetime.max.year // 2 else LATEST


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_utc_clamped)]
DATE_NOTE = (
    " Compared in UTC; an instant outside what UTC can represent (year 1 or 9999 with a"
    " zone) is clamped to 0001-01-01T00:00:00Z or 9999-12-31T23:59:59.999999Z."
)
_QUOTED = re.compile(r'(-?)"([^"]*)"')


def parse_text_query(q: str | None) -> TextQuery:
    """``asset recovery "rule of law" -ukraine co-operation`` → what must and must not match.

    A token of several words (``co-operation``, ``U.S.``) is a compound: it matches
    those words as a phrase, or joined into one. A ``q`` with nothing to search for
    is kept as such (``searchable=False``): it matches nothing, not everything.
    """
    if q is None:
        return TextQuery()
    required: list[str] = []
    phrases: list[list[str]] = []
    compounds: list[list[str]] = []
    excluded: list[str] = []

    def take_quoted(match: re.Match[str]) -> str:
        ws = search.words(match.group(2))
        if match.group(1) == "-":
            excluded.extend(search.pairs(ws))
            if len(ws) == 1:
                excluded.extend(ws)
        elif len(ws) > 1:
            phrases.append(ws)
        elif ws:
            required.extend(ws)
        return " "

    rest = _QUOTED.sub(take_quoted, q)
    for token in rest.split():
        negative = token.startswith("-") and len(token) > 1
        ws = search.words(token)
        if len(ws) > 1:
            if negative:
                excluded.extend([search.joined(ws), *search.pairs(ws)])
            else:
                compounds.append(ws)
            continue
        words = [w for w in ws if w not in search.STOP_WORDS]
        (excluded if negative else required).extend(words)
    return TextQuery(
        required=required,
        phrases=phrases,
        compounds=compounds,
        excluded=excluded,
        searchable=bool(required or phrases or compounds or excluded),
    )


#: A taxonomy id; declared non-empty so the OpenAPI document says what the server checks.
TaxonomyId = Annotated[str, Field(min_length=1, max_length=200)]


class NoQuery(BaseModel):
    """For endpoints that take no query parameters: any given is an error."""

    model_config = ConfigDict(extra="forbid")


class FormatQuery(NoQuery):
    format: Literal["json", "ninjs"] = Field(
        default="json", description="json, or ninjs for IPTC ninjs 2.2."
    )


class ItemQuery(BaseModel):
    """What to match: words, and taxonomy filters (OR within one, AND across)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    q: str | None = Field(
        default=None,
        max_length=500,
        description='Words (all must match), "quoted phrases" and -excluded words; '
        "case- and accent-insensitive. A hyphenated word also matches its joined form "
        "and the reverse (co-operation, cooperation). A q with nothing to search for "
        "(empty, punctuation or emoji only, only common words such as 'the') matches "
        "no story; leave q out to match every story.",
        examples=["asset recovery -ukraine"],
    )
    topic: list[TaxonomyId] = Field(
        default_factory=list, description="Topic ids (repeat for OR).", examples=[["elections"]]
    )
    office: list[TaxonomyId] = Field(
        default_factory=list, description="Office ids (repeat for OR).", examples=[["odihr"]]
    )
    country: list[TaxonomyId] = Field(
        default_factory=list, description="Country ids (repeat for OR).", examples=[["al"]]
    )
    content_type: list[TaxonomyId] = Field(
        default_factory=list,
        description="Content-type ids (repeat for OR).",
        examples=[["press-release"]],
    )
    language: list[Annotated[str, Field(pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")]] = Field(
        default_factory=list, description="BCP 47 language tags, e.g. en (repeat for OR)."
    )
    date_from: IsoDateTime | None = Field(
        default=None,
        alias="from",
        description="Published at or after (ISO 8601 with zone)." + DATE_NOTE,
    )
    date_to: IsoDateTime | None = Field(
        default=None,
        alias="to",
        description="Published at or before (ISO 8601 with zone)." + DATE_NOTE,
    )

    def filters(self) -> Filters:
        return Filters(
            topic=self.topic,
            office=self.office,
            country=self.country,
            content_type=self.content_type,
            language=[v.lower() for v in self.language],
            date_from=self.date_from,
            date_to=self.date_to,
        )

    def text(self) -> TextQuery:
        return parse_text_query(self.q)

    def to_query(self, taxonomy: Taxonomy) -> SearchQuery:
        """The validated query: ids known to the taxonomy, ``from`` not after ``to``.
        Raises a 422 :class:`ProblemError` naming the parameter otherwise."""
        check_ids(self, taxonomy)
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise ProblemError(
                422,
                "Unprocessable Content",
                "from: must not be after 'to'",
                [{"field": "from", "message": "must not be after 'to'"}],
            )
        return SearchQuery(filters=self.filters(), text=self.text())


class ListQuery(ItemQuery):
    sort: Sort = Field(
        default="newest", description="Order: newest, oldest, or relevance (needs q)."
    )
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT, description="Page size, at most 100.")
    cursor: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^(W[A-Za-z0-9_-]*)?$",  # base64url of a JSON array, which opens with "["
        description="`next_cursor` of the previous page.",
    )
    format: Literal["json", "ninjs"] = Field(
        default="json", description="json, or ninjs for IPTC ninjs 2.2 items."
    )


class FeedQuery(ItemQuery):
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT, description="Entries in the feed.")


def check_ids(query: ItemQuery, taxonomy: Taxonomy) -> None:
    """Reject ids the taxonomy does not know, naming the valid ones."""
    known: dict[str, Mapping[str, Any]] = {
        "topic": taxonomy.topics,
        "office": taxonomy.offices,
        "country": taxonomy.countries,
        "content_type": taxonomy.content_types,
    }
    errors = []
    for name, valid in known.items():
        for value in getattr(query, name):
            if value not in valid:
                errors.append(
                    {
                        "field": name,
                        "message": f"unknown id {value!r}; valid ids: {', '.join(sorted(valid))}",
                    }
                )
    if errors:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "; ".join(f"{e['field']}: {e['message']}" for e in errors),
            errors,
        )


def mongo_filter(query: ItemQuery, taxonomy: Taxonomy) -> dict[str, Any]:
    """The validated MongoDB filter of ``query`` (see :meth:`ItemQuery.to_query`)."""
    return query.to_query(taxonomy).filter()
