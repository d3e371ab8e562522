"""Search and fetch stories: ``GET /v1/items`` and ``GET /v1/items/{id}``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from newsflow.taxonomy import Taxonomy
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from newsflow_gateway.deps import ItemsDep, SettingsDep, TaxonomyDep
from newsflow_gateway.problems import Problem, ProblemError
from newsflow_gateway.query import (
    CursorError,
    Filters,
    build_filter,
    decode_cursor,
    encode_cursor,
    keyset_after,
    parse_text_query,
)
from newsflow_gateway.schemas import ItemDetail, ItemPage, detail_from_doc, summary_from_doc

router = APIRouter(prefix="/v1", tags=["items"])

MAX_LIMIT = 100

#: Fields a result list needs; the rest (body, copies, index terms) stays in the store.
LIST_PROJECTION = {
    "title": 1,
    "summary": 1,
    "url": 1,
    "published_at": 1,
    "language": 1,
    "content_type": 1,
    "offices": 1,
    "topics": 1,
    "countries": 1,
    "sort_at": 1,
}

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
    503: {"model": Problem, "description": "The store is unreachable; retry later."},
}


class ItemQuery(BaseModel):
    """Search parameters shared by lists, facets, feeds and the live stream."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    q: str | None = Field(
        default=None,
        max_length=500,
        description='Words (all must match), "quoted phrases" and -excluded words; '
        "case- and accent-insensitive.",
        examples=["asset recovery -ukraine"],
    )
    topic: list[str] = Field(
        default_factory=list, description="Topic ids (repeat for OR).", examples=[["elections"]]
    )
    office: list[str] = Field(
        default_factory=list, description="Office ids (repeat for OR).", examples=[["odihr"]]
    )
    country: list[str] = Field(
        default_factory=list, description="Country ids (repeat for OR).", examples=[["al"]]
    )
    content_type: list[str] = Field(
        default_factory=list,
        description="Content-type ids (repeat for OR).",
        examples=[["press-release"]],
    )
    language: list[str] = Field(default_factory=list, description="Language tags, e.g. en.")
    date_from: AwareDatetime | None = Field(
        default=None, alias="from", description="Published at or after (ISO 8601 with zone)."
    )
    date_to: AwareDatetime | None = Field(
        default=None, alias="to", description="Published at or before (ISO 8601 with zone)."
    )


class ListQuery(ItemQuery):
    sort: Literal["newest", "oldest"] = Field(default="newest", description="Result order.")
    limit: int = Field(default=20, ge=1, le=MAX_LIMIT, description="Page size, at most 100.")
    cursor: str | None = Field(
        default=None, max_length=500, description="`next_cursor` of the previous page."
    )


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
    check_ids(query, taxonomy)
    if query.date_from and query.date_to and query.date_from > query.date_to:
        raise ProblemError(
            422,
            "Unprocessable Content",
            "from: must not be after 'to'",
            [{"field": "from", "message": "must not be after 'to'"}],
        )
    filters = Filters(
        topic=query.topic,
        office=query.office,
        country=query.country,
        content_type=query.content_type,
        language=[v.lower() for v in query.language],
        date_from=query.date_from,
        date_to=query.date_to,
    )
    return build_filter(filters, parse_text_query(query.q))


@router.get(
    "/items",
    response_model=ItemPage,
    summary="Search stories",
    responses=ERRORS,
)
async def list_items(
    params: Annotated[ListQuery, Query()],
    items: ItemsDep,
    taxonomy: TaxonomyDep,
    settings: SettingsDep,
) -> ItemPage:
    """Stories matching the query and filters, newest first by default.

    Paging is by cursor: follow ``next_cursor`` until it is null. Pages are stable
    while new stories arrive (no duplicates, no gaps) and there is no depth limit.
    ``total`` is the exact number of matches.
    """
    base = mongo_filter(params, taxonomy)
    descending = params.sort == "newest"
    page_filter = base
    if params.cursor:
        try:
            sort_at, last_id = decode_cursor(params.cursor, (datetime, str))
        except CursorError as exc:
            raise ProblemError(
                422,
                "Unprocessable Content",
                f"cursor: {exc}",
                [{"field": "cursor", "message": str(exc)}],
            ) from None
        page_filter = {"$and": [base, keyset_after(sort_at, last_id, descending=descending)]}
    direction = -1 if descending else 1
    timeout = settings.query_timeout_ms
    total = await items.count_documents(base, maxTimeMS=timeout)
    docs = await (
        items.find(page_filter, LIST_PROJECTION, max_time_ms=timeout)
        .sort([("sort_at", direction), ("_id", direction)])
        .limit(params.limit + 1)
        .to_list()
    )
    has_more = len(docs) > params.limit
    docs = docs[: params.limit]
    next_cursor = encode_cursor([docs[-1]["sort_at"], docs[-1]["_id"]]) if has_more else None
    return ItemPage(
        items=[summary_from_doc(d) for d in docs],
        total=total,
        limit=params.limit,
        next_cursor=next_cursor,
    )


@router.get(
    "/items/{item_id}",
    response_model=ItemDetail,
    summary="One story with its tags, evidence and copies",
    responses={404: {"model": Problem, "description": "No such story."}, **ERRORS},
)
async def get_item(
    item_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Story id.")],
    items: ItemsDep,
    settings: SettingsDep,
) -> ItemDetail:
    """The full story: text, every tag with its evidence, and the copies it was
    published as (one per publishing office)."""
    doc = await items.find_one(
        {"_id": item_id}, {"terms": 0, "title_terms": 0}, max_time_ms=settings.query_timeout_ms
    )
    if doc is None:
        raise ProblemError(404, "Not Found", f"no story with id {item_id}")
    return detail_from_doc(doc)
