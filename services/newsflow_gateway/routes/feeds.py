"""Atom and RSS feeds for any search."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from newsflow.store import StoredStory, read_story
from newsflow_gateway.deps import PublicBaseDep, SearchDep, TaxonomyDep
from newsflow_gateway.problems import Problem
from newsflow_gateway.renderers import syndication
from newsflow_gateway.search.params import FeedQuery, single_valued

router = APIRouter(prefix="/v1/feeds", tags=["feeds"], dependencies=[Depends(single_valued)])
ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
    503: {"model": Problem, "description": "The search index is not ready; retry later."},
}


async def _docs(params: FeedQuery, search: SearchDep, taxonomy: TaxonomyDep) -> list[StoredStory]:
    page = await search.search(
        params.to_query(taxonomy), sort="newest", limit=params.limit, highlights=False
    )
    return [read_story(hit.document) for hit in page.hits]


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
        search: SearchDep,
        taxonomy: TaxonomyDep,
        base: PublicBaseDep,
    ) -> Response:
        docs = await _docs(params, search, taxonomy)
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
