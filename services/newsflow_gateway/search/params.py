"""HTTP query parameters shared by lists, facets, feeds and the live stream, and the
:class:`~newsflow_gateway.search.backend.StoryQuery` they become.

Unknown parameters are rejected (``extra="forbid"``); ids are checked against the
taxonomy; ``q`` is parsed here, once, by :func:`newsflow_gateway.index.query.parse`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from fastapi import Request
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from newsflow.domain.taxonomy import Taxonomy
from newsflow_gateway.index.query import MAX_QUERY_CHARS, EmptyQueryError, parse
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.search.backend import SearchFilters, Sort, StoryQuery

MAX_LIMIT = 100
#: Distinct values one list filter (``topic``, ``office``, ``country``,
#: ``content_type``, ``language``) may take. Above the largest taxonomy kind (68
#: countries, 51 offices), so "every one of them" still works; without a bound, the
#: search page, whose every link and chip carries every value, grows with its square.
MAX_FILTER_VALUES = 100
#: Distinct values all list filters together may take: the whole taxonomy (151 ids)
#: plus some languages, and a bound on the page's size whatever the mix.
MAX_FILTER_VALUES_TOTAL = 200
#: The list filters, which repeat (OR within one, AND across).
LIST_FILTERS: Final = ("topic", "office", "country", "content_type", "language")
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
Q_HELP = (
    "Words, all of which must match (case- and accent-insensitive, stemmed for "
    'English, French, German and Russian); "quoted phrases"; -excluded words or '
    "-(groups); OR between alternatives; (parentheses); title: and summary: to search "
    "one field; a trailing * for a prefix (elect*). A hyphenated word also matches its "
    "joined form (co-operation, cooperation); l'ODIHR searches ODIHR. Bad syntax is a "
    "422 naming what is wrong and the character position. A q with nothing to search "
    "for (punctuation or emoji only) matches no story; leave q out to match every story."
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
        max_length=MAX_QUERY_CHARS,
        description=Q_HELP,
        examples=["asset recovery -ukraine", '"rule of law" (albania OR serbia)', "title:elect*"],
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

    @field_validator(*LIST_FILTERS)
    @classmethod
    def _distinct(cls, values: list[str]) -> list[str]:
        """A repeated value is dropped (first one kept, order kept): it means nothing
        more in an OR. Then at most :data:`MAX_FILTER_VALUES` distinct ones."""
        distinct = list(dict.fromkeys(values))
        if len(distinct) > MAX_FILTER_VALUES:
            raise ValueError(f"at most {MAX_FILTER_VALUES} distinct values (got {len(distinct)})")
        return distinct

    @model_validator(mode="after")
    def _few_in_all(self) -> ItemQuery:
        total = sum(len(getattr(self, name)) for name in LIST_FILTERS)
        if total > MAX_FILTER_VALUES_TOTAL:
            raise ValueError(
                f"{', '.join(LIST_FILTERS)}: at most {MAX_FILTER_VALUES_TOTAL} distinct"
                f" values together (got {total})"
            )
        return self

    def filters(self) -> SearchFilters:
        return SearchFilters(
            topic=self.topic,
            office=self.office,
            country=self.country,
            content_type=self.content_type,
            language=[v.lower() for v in self.language],
            date_from=self.date_from,
            date_to=self.date_to,
        )

    def to_query(self, taxonomy: Taxonomy) -> StoryQuery:
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
        if self.q is None:
            return StoryQuery(filters=self.filters())
        try:  # any other QuerySyntaxError is answered 422 by the problems handler
            return StoryQuery(text=parse(self.q), filters=self.filters())
        except EmptyQueryError:
            return StoryQuery(filters=self.filters(), nothing=True)


class ListQuery(ItemQuery):
    sort: Sort = Field(
        default="newest", description="Order: newest, oldest, or relevance (needs q)."
    )
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT, description="Page size, at most 100.")
    cursor: str | None = Field(
        default=None,
        max_length=500,
        pattern=r"^[A-Za-z0-9_-]*$",  # base64url
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


#: Query parameters that take one value; the list filters (topic, office...) repeat.
SINGLE_VALUED: Final = ("q", "sort", "limit", "cursor", "from", "to", "format")


async def single_valued(request: Request) -> None:
    """A dependency of the read routes: ``q=a&q=b`` is a 422, not "the last one wins"."""
    repeated = [n for n in SINGLE_VALUED if len(request.query_params.getlist(n)) > 1]
    if repeated:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "; ".join(f"{n}: given more than once" for n in repeated),
            [{"field": n, "message": "given more than once"} for n in repeated],
        )
