"""Atom and RSS feeds for any search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from newsflow.store import StoredStory
from newsflow_gateway.deps import ItemsDep, PublicBaseDep, SettingsDep, TaxonomyDep
from newsflow_gateway.problems import Problem
from newsflow_gateway.renderers import syndication
from newsflow_gateway.search.listing import LIST_PROJECTION, fetch_page
from newsflow_gateway.search.params import FeedQuery

router = APIRouter(prefix="/v1/feeds", tags=["feeds"])
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
}


async def _docs(
    params: FeedQuery, items: ItemsDep, taxonomy: TaxonomyDep, timeout_ms: int
) -> list[StoredStory]:
    page = await fetch_page(
        items,
        params.to_query(taxonomy),
        sort="newest",
        limit=params.limit,
        cursor=None,
        timeout_ms=timeout_ms,
        projection=LIST_PROJECTION,
    )
    return page.stories


def _title(params: FeedQuery) -> str:
    parts = [f'"{params.q}"'] if params.q else []
    for name in ("topic", "office", "country", "content_type", "language"):
        values = getattr(params, name)
        if values:
            parts.append(f"{name}={','.join(values)}")
    return "Newsflow: " + ("; ".join(parts) if parts else "latest stories")


def _feed_route(kind: str, media_type: str, render: Any, label: str) -> None:
    """Register ``/v1/feeds/<kind>``: the same search, rendered by ``render``."""

    async def feed(
        request: Request,
        params: Annotated[FeedQuery, Query()],
        items: ItemsDep,
        taxonomy: TaxonomyDep,
        settings: SettingsDep,
        base: PublicBaseDep,
    ) -> Response:
        docs = await _docs(params, items, taxonomy, settings.query_timeout_ms)
        query = request.url.query
        body = render(
            docs,
            title=_title(params),
            self_url=base + request.url.path + (f"?{query}" if query else ""),
            item_url=base + "/v1/items/{id}",
        )
        return Response(body, media_type=f"{media_type}; charset=utf-8")

    feed.__doc__ = (
        f"The newest stories matching the same query and filters as ``/v1/items``, as {label}."
    )
    router.get(
        f"/{kind}",
        summary=f"{label} feed of a search",
        name=f"feed_{kind}",
        responses={
            **ERRORS,
            200: {
                "content": {media_type: {"schema": {"type": "string"}}},
                "description": f"An {label} feed.",
            },
        },
    )(feed)


_feed_route("atom", "application/atom+xml", syndication.atom, "Atom 1.0")
_feed_route("rss", "application/rss+xml", syndication.rss, "RSS 2.0")
