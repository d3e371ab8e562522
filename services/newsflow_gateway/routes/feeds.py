"""Atom and RSS feeds for any search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from newsflow_gateway import feeds
from newsflow_gateway.deps import ItemsDep, SettingsDep, TaxonomyDep
from newsflow_gateway.listing import LIST_PROJECTION, fetch_page
from newsflow_gateway.params import FeedQuery, mongo_filter
from newsflow_gateway.problems import Problem

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
}


async def _docs(
    params: FeedQuery, items: ItemsDep, taxonomy: TaxonomyDep, timeout_ms: int
) -> list[dict[str, Any]]:
    page = await fetch_page(
        items,
        mongo_filter(params, taxonomy),
        text=params.text(),
        sort="newest",
        limit=params.limit,
        cursor=None,
        timeout_ms=timeout_ms,
        projection=LIST_PROJECTION,
    )
    return page.docs


def _title(params: FeedQuery) -> str:
    parts = [f'"{params.q}"'] if params.q else []
    for name in ("topic", "office", "country", "content_type", "language"):
        values = getattr(params, name)
        if values:
            parts.append(f"{name}={','.join(values)}")
    return "Newsflow: " + ("; ".join(parts) if parts else "latest stories")


@router.get(
    "/atom",
    summary="Atom feed of a search",
    responses={
        **ERRORS,
        200: {
            "content": {"application/atom+xml": {"schema": {"type": "string"}}},
            "description": "An Atom 1.0 feed.",
        },
    },
)
async def atom(
    request: Request,
    params: Annotated[FeedQuery, Query()],
    items: ItemsDep,
    taxonomy: TaxonomyDep,
    settings: SettingsDep,
) -> Response:
    """The newest stories matching the same query and filters as ``/v1/items``, as Atom."""
    docs = await _docs(params, items, taxonomy, settings.query_timeout_ms)
    body = feeds.atom(
        docs,
        title=_title(params),
        self_url=str(request.url),
        item_url=str(request.base_url) + "v1/items/{id}",
    )
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get(
    "/rss",
    summary="RSS feed of a search",
    responses={
        **ERRORS,
        200: {
            "content": {"application/rss+xml": {"schema": {"type": "string"}}},
            "description": "An RSS 2.0 feed.",
        },
    },
)
async def rss(
    request: Request,
    params: Annotated[FeedQuery, Query()],
    items: ItemsDep,
    taxonomy: TaxonomyDep,
    settings: SettingsDep,
) -> Response:
    """The newest stories matching the same query and filters as ``/v1/items``, as RSS."""
    docs = await _docs(params, items, taxonomy, settings.query_timeout_ms)
    body = feeds.rss(
        docs,
        title=_title(params),
        self_url=str(request.url),
        item_url=str(request.base_url) + "v1/items/{id}",
    )
    return Response(body, media_type="application/rss+xml; charset=utf-8")
