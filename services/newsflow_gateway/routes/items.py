"""Search and fetch stories: ``GET /v1/items`` and ``GET /v1/items/{id}``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pymongo.asynchronous.collection import AsyncCollection

from newsflow.store import LEGACY_FIELDS, StoredStory, read_story
from newsflow.store import StoryField as F
from newsflow_gateway.deps import ItemsDep, SearchDep, SettingsDep, TaxonomyDep
from newsflow_gateway.problems import Problem, ProblemError
from newsflow_gateway.renderers.ninjs_doc import NINJS_MEDIA_TYPE, to_ninjs
from newsflow_gateway.schemas import ItemDetail, ItemPage, detail_from_doc, summary_from_hit
from newsflow_gateway.search.params import FormatQuery, ListQuery, single_valued

router = APIRouter(prefix="/v1", tags=["items"], dependencies=[Depends(single_valued)])

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
    503: {"model": Problem, "description": "The store or index is not ready; retry later."},
}
NINJS_CONTENT = {NINJS_MEDIA_TYPE: {"schema": {"type": "object"}}}
#: The answer depends on Accept (JSON or ninjs): caches must key on it.
VARY = {"Vary": "Accept"}


def accept_quality(accept: str, media_type: str) -> float:
    """The q of ``media_type`` in an Accept header (0 when absent or unparsable)."""
    best = 0.0
    for part in accept.split(","):
        name, *params = (p.strip() for p in part.split(";"))
        if name.lower() != media_type:
            continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = max(best, q)
    return best


def wants_ninjs(request: Request, fmt: str) -> bool:
    """``format=ninjs``, or an Accept header that prefers ninjs to plain JSON."""
    if fmt == "ninjs":
        return True
    accept = request.headers.get("accept", "")
    ninjs = accept_quality(accept, NINJS_MEDIA_TYPE)
    return ninjs > 0 and ninjs >= accept_quality(accept, "application/json")


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
    search: SearchDep,
    taxonomy: TaxonomyDep,
) -> Any:
    """Stories matching the query and filters, newest first by default.

    **Query syntax** (``q``): words (all must match), ``"phrases"``, ``-exclusions``,
    ``OR``, parentheses, ``title:`` and ``summary:`` scopes, trailing-``*`` prefixes.
    Examples: ``asset recovery -ukraine``, ``"rule of law" (albania OR serbia)``,
    ``title:elect*``. Bad syntax is a 422 whose ``errors`` give the position.

    **Highlights**: with ``q``, each item carries ``highlights`` for title, summary and
    body: snippet text and ``[start, end)`` character offsets of the matches.

    **Paging** is by cursor: follow ``next_cursor`` until it is null. With
    ``newest``/``oldest`` it is exact while stories arrive: no story twice, none
    present throughout skipped, no depth limit. ``relevance`` pages by rank (up to
    10,000 deep); while stories arrive, ranks move, so a story near a page boundary
    may repeat or be missed. ``sort=relevance`` without ``q`` is ``newest``.
    ``total`` is the exact number of matches. ``format=ninjs`` (or ``Accept:
    application/ninjs+json``) returns the items as IPTC ninjs 2.2.
    """
    query = params.to_query(taxonomy)
    ninjs = wants_ninjs(request, params.format)
    page = await search.search(
        query,
        sort=params.sort,
        limit=params.limit,
        cursor=params.cursor,
        highlights=not ninjs,
        with_body=ninjs,
    )
    if ninjs:
        return JSONResponse(
            {
                "items": [to_ninjs(read_story(h.document)) for h in page.hits],
                "total": page.total,
                "limit": params.limit,
                "next_cursor": page.next_cursor,
            },
            media_type=NINJS_MEDIA_TYPE,
            headers=VARY,
        )
    result = ItemPage(
        items=[summary_from_hit(h) for h in page.hits],
        total=page.total,
        limit=params.limit,
        next_cursor=page.next_cursor,
    )
    # Already a validated model: serialise once, without FastAPI validating it again.
    return Response(result.model_dump_json(), media_type="application/json", headers=VARY)


async def find_story(
    items: AsyncCollection[dict[str, Any]], item_id: str, timeout_ms: int
) -> StoredStory | None:
    """One stored story by id, without the legacy fields; the API and the story page
    both read it here."""
    doc = await items.find_one(
        {F.ID: item_id}, dict.fromkeys(LEGACY_FIELDS, 0), max_time_ms=timeout_ms
    )
    return None if doc is None else read_story(doc)


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
    story = await find_story(items, item_id, settings.query_timeout_ms)
    if story is None:
        raise ProblemError(404, "Not Found", f"no story with id {item_id}")
    if wants_ninjs(request, params.format):
        return JSONResponse(to_ninjs(story), media_type=NINJS_MEDIA_TYPE, headers=VARY)
    return Response(
        detail_from_doc(story).model_dump_json(), media_type="application/json", headers=VARY
    )
