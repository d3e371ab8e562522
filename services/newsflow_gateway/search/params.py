"""Query parameters shared by lists, facets, feeds and the live stream, and how they
become a MongoDB filter. Unknown parameters are rejected (``extra="forbid"``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field

from newsflow.domain.taxonomy import Taxonomy
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.search.query import Filters, TextQuery, build_filter, parse_text_query

MAX_LIMIT = 100
_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _iso_only(value: Any) -> Any:
    """Only ISO 8601 date-times with a zone; pydantic would also take numbers as
    Unix times, which is not what the API documents."""
    if isinstance(value, str) and not _ISO_DATETIME.match(value):
        raise ValueError("must be an ISO 8601 date-time with a zone, e.g. 2021-01-07T00:00:00Z")
    if not isinstance(value, str):
        raise ValueError("must be an ISO 8601 date-time string")
    return value


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only)]
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
        "case- and accent-insensitive.",
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
        default=None, alias="from", description="Published at or after (ISO 8601 with zone)."
    )
    date_to: IsoDateTime | None = Field(
        default=None, alias="to", description="Published at or before (ISO 8601 with zone)."
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


class ListQuery(ItemQuery):
    sort: Literal["newest", "oldest", "relevance"] = Field(
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
    """The validated filter for ``query``: ids checked, dates ordered."""
    check_ids(query, taxonomy)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "from: must not be after 'to'",
            [{"field": "from", "message": "must not be after 'to'"}],
        )
    return build_filter(query.filters(), query.text())
