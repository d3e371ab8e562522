"""Search and fetch stories: ``GET /v1/items`` and ``GET /v1/items/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from newsflow.store import StoryField as F
from newsflow.store import read_story
from newsflow_gateway.deps import ItemsDep, SettingsDep, TaxonomyDep
from newsflow_gateway.problems import Problem, ProblemError
from newsflow_gateway.renderers.ninjs_doc import NINJS_MEDIA_TYPE, to_ninjs
from newsflow_gateway.schemas import ItemDetail, ItemPage, detail_from_doc, summary_from_doc
from newsflow_gateway.search.listing import WITHOUT_INDEX, CursorError, fetch_page
from newsflow_gateway.search.params import FormatQuery, ListQuery

router = APIRouter(prefix="/v1", tags=["items"])

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
    503: {"model": Problem, "description": "The store is unreachable; retry later."},
}
NINJS_CONTENT = {NINJS_MEDIA_TYPE: {"schema": {"type": "object"}}}


def wants_ninjs(request: Request, fmt: str) -> bool:
    return fmt == "ninjs" or NINJS_MEDIA_TYPE in request.headers.get("accept", "")


@router.get(
    "/items",
    response_model=ItemPage,
    summary="Search stories",
    responses={
        **ERRORS,
        200: {"content": NINJS_CONTENT, "description": "A page of stories (JSON, or ninjs items)."},
    },
)
async def list_items(
    request: Request,
    params: Annotated[ListQuery, Query()],
    items: ItemsDep,
    taxonomy: TaxonomyDep,
    settings: SettingsDep,
) -> Any:
    """Stories matching the query and filters, newest first by default.

    Paging is by cursor: follow ``next_cursor`` until it is null. Pages are stable
    while new stories arrive (no duplicates, no gaps) and there is no depth limit.
    ``total`` is the exact number of matches. ``format=ninjs`` (or ``Accept:
    application/ninjs+json``) returns the items as IPTC ninjs 2.2.
    """
    query = params.to_query(taxonomy)
    ninjs = wants_ninjs(request, params.format)
    try:
        page = await fetch_page(
            items,
            query,
            sort=params.sort,
            limit=params.limit,
            cursor=params.cursor,
            timeout_ms=settings.query_timeout_ms,
            projection={**WITHOUT_INDEX, F.COPIES: 0} if ninjs else None,
        )
    except CursorError as exc:
        raise ProblemError(
            422,
            "Unprocessable Content",
            f"cursor: {exc}",
            [{"field": "cursor", "message": str(exc)}],
        ) from None
    if ninjs:
        return JSONResponse(
            {
                "items": [to_ninjs(s) for s in page.stories],
                "total": page.total,
                "limit": params.limit,
                "next_cursor": page.next_cursor,
            },
            media_type=NINJS_MEDIA_TYPE,
        )
    result = ItemPage(
        items=[summary_from_doc(h.story, h.score) for h in page.hits],
        total=page.total,
        limit=params.limit,
        next_cursor=page.next_cursor,
    )
    # Already a validated model: serialise once, without FastAPI validating it again.
    return Response(result.model_dump_json(), media_type="application/json")


@router.get(
    "/items/{item_id}",
    response_model=ItemDetail,
    summary="One story with its tags, evidence and copies",
    responses={
        404: {"model": Problem, "description": "No such story."},
        **ERRORS,
        200: {"content": NINJS_CONTENT, "description": "The story (JSON or ninjs)."},
    },
)
async def get_item(
    request: Request,
    item_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="Story id.")],
    items: ItemsDep,
    settings: SettingsDep,
    params: Annotated[FormatQuery, Query()],
) -> Any:
    """The full story: text, every tag with its evidence, and the copies it was
    published as (one per publishing office)."""
    doc = await items.find_one(
        {F.ID: item_id}, WITHOUT_INDEX, max_time_ms=settings.query_timeout_ms
    )
    if doc is None:
        raise ProblemError(404, "Not Found", f"no story with id {item_id}")
    story = read_story(doc)
    if wants_ninjs(request, params.format):
        return JSONResponse(to_ninjs(story), media_type=NINJS_MEDIA_TYPE)
    return detail_from_doc(story)
