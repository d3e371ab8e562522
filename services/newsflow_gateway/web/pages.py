"""The reader's pages: search, a story, and the office, topic and country pages.

Every page searches through :class:`~newsflow_gateway.search.backend.StorySearch`
with the API's own parameter code (:mod:`newsflow_gateway.web.links`), and reads a
story with the API's own :func:`~newsflow_gateway.routes.items.find_story`: there is
no second query path. Errors become pages (:class:`PageRoute`), never JSON and
never a 5xx for bad input.

``read_requires_key``: a browser cannot attach an ``Authorization`` header to a link
or a form, and the key must not travel in a URL or a script-readable cookie; so
while reading needs a key the pages answer 401 with a page saying to use the API
with a key (see the README, "Web pages").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from pymongo.errors import ConnectionFailure, ExecutionTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from newsflow.domain.taxonomy import Taxonomy
from newsflow_gateway.deps import ItemsDep, SearchDep, SettingsDep, StateDep, TaxonomyDep
from newsflow_gateway.problems import PROBLEM_JSON, ProblemError, http_problem, http_title
from newsflow_gateway.routes.facets import entry_counts, entry_names
from newsflow_gateway.routes.items import accept_quality, find_story
from newsflow_gateway.schemas import ItemSummary, detail_from_doc, summary_from_hit
from newsflow_gateway.search.backend import (
    CursorError,
    QuerySyntaxError,
    SearchUnavailableError,
    StoryQuery,
    StorySearch,
)
from newsflow_gateway.search.facets import facet_counts
from newsflow_gateway.search.params import ListQuery
from newsflow_gateway.web.links import FILTERS, SearchLink, check_reads, list_query
from newsflow_gateway.web.marks import Piece, highlighted, with_evidence
from newsflow_gateway.web.templating import create_templates

templates = create_templates()
STORY_ID = re.compile(r"^[0-9a-f]{32}$")
#: Facet values listed per kind before "more"; checked values are always listed.
FACET_ROWS = 12
SORTS = (("newest", "Newest first"), ("oldest", "Oldest first"), ("relevance", "Relevance"))
FILTER_LABELS = {
    "topic": "Topic",
    "office": "Office",
    "country": "Country",
    "content_type": "Content type",
    "language": "Language",
}


class PageError(Exception):
    """Answer with an error page."""

    def __init__(
        self, status: int, title: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = dict(headers or {})


def _as_page_error(exc: Exception) -> PageError | None:
    """The page for an error the search path raises; None for a real fault."""
    if isinstance(exc, PageError):
        return exc
    if isinstance(exc, ProblemError):
        return PageError(exc.status, exc.title, exc.detail or exc.title, exc.headers)
    if isinstance(exc, QuerySyntaxError):
        return PageError(422, "The search could not be read", f"Search words: {exc}")
    if isinstance(exc, CursorError):
        return PageError(422, "This page link is not valid", f"cursor: {exc}")
    if isinstance(exc, RequestValidationError):
        return PageError(422, "Unprocessable Content", "the address is not valid")
    if isinstance(exc, SearchUnavailableError):
        return PageError(
            503, "Search is not ready", exc.detail, {"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, ConnectionFailure | ExecutionTimeout):
        return PageError(503, "The store did not answer", "retry shortly", {"Retry-After": "5"})
    return None


#: Paths that are the API's, whoever asks: their errors are always problem JSON.
API_PREFIX = "/v1/"
API_PATHS = frozenset({"/v1", "/openapi.json", "/asyncapi.json", "/healthz", "/readyz", "/metrics"})
#: What a 404 or 405 page says, by status.
_HTTP_DETAILS = {
    404: "There is no page at this address.",
    405: "This address does not answer that kind of request.",
}


def wants_page(request: Request) -> bool:
    """A browser asking for a path outside the API: its Accept prefers HTML to JSON."""
    path = request.url.path
    if path in API_PATHS or path.startswith(API_PREFIX):
        return False
    accept = request.headers.get("accept", "")
    html = accept_quality(accept, "text/html")
    json = max(accept_quality(accept, "application/json"), accept_quality(accept, PROBLEM_JSON))
    return html > 0 and html >= json


async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """A 404 or 405 the router answers (no route matched): a page for a browser off
    the API, the problem JSON otherwise. The Allow header of a 405 is kept."""
    if not wants_page(request):
        return await http_problem(request, exc)
    status = exc.status_code
    detail = _HTTP_DETAILS.get(status, exc.detail if isinstance(exc.detail, str) else "")
    return error_page(request, PageError(status, http_title(status), detail, exc.headers))


def error_page(request: Request, error: PageError) -> Response:
    return templates.TemplateResponse(
        request,
        "error.html",
        {"error": error},
        status_code=error.status,
        headers=error.headers,
    )


class PageRoute(APIRoute):
    """A route whose errors are pages: the app's handlers answer problem JSON, which
    is right for the API and wrong for a person with a browser."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except Exception as exc:
                error = _as_page_error(exc)
                if error is None:
                    raise
                return error_page(request, error)

        return page


async def reader_access(state: StateDep) -> None:
    """While reading needs a key, the pages cannot read (see the module docstring)."""
    if state.settings.read_requires_key:
        raise PageError(
            401,
            "Reading needs an API key",
            "This gateway is configured with read_requires_key: stories are read "
            "through the API (/v1/items) with an API key that has the 'read' scope. "
            "The web pages are not available.",
            {"WWW-Authenticate": 'Bearer realm="newsflow"'},
        )


router = APIRouter(
    include_in_schema=False,
    route_class=PageRoute,
    dependencies=[Depends(reader_access)],
    default_response_class=HTMLResponse,
)


# --- what the templates show --------------------------------------------------


@dataclass(frozen=True)
class Result:
    """A story in a list: its summary with the snippet to show."""

    story: ItemSummary
    title: list[Piece]
    snippet: list[Piece]
    snippet_cut: bool


@dataclass(frozen=True)
class FacetOption:
    value: str
    name: str
    count: int
    checked: bool


@dataclass(frozen=True)
class FacetGroup:
    param: str
    legend: str
    options: list[FacetOption]


@dataclass(frozen=True)
class Chip:
    label: str
    remove: str


def result(story: ItemSummary) -> Result:
    lights = story.highlights
    title = [Piece(story.title)]
    if lights and lights.title:
        title = highlighted(lights.title, story.title)
    for light in (lights.summary, lights.body) if lights else ():
        if light is not None and light.matches:
            return Result(story, title, highlighted(light), light.start > 0)
    return Result(story, title, [Piece(story.summary or "")], False)


async def story_list(
    search: StorySearch, query: StoryQuery, params: ListQuery
) -> tuple[list[Result], int, str | None]:
    found = await search.search(query, sort=params.sort, limit=params.limit, cursor=params.cursor)
    return [result(summary_from_hit(h)) for h in found.hits], found.total, found.next_cursor


def facet_groups(
    counted: Any, link: SearchLink, taxonomy: Taxonomy
) -> tuple[list[FacetGroup], list[tuple[str, int]]]:
    """The sidebar: per kind, the most frequent values and every checked one, with
    counts as if that kind were unchecked (:func:`facet_counts`)."""
    groups = []
    for param, kind in FILTERS.items():
        names = entry_names(taxonomy, kind)
        counts = {b.key: b.count for b in counted.buckets.get(kind, []) if b.key in names}
        shown = sorted(counts, key=lambda k: (-counts[k], names[k]))[:FACET_ROWS]
        shown += [v for v in link.values(param) if v in names and v not in shown]
        options = [FacetOption(v, names[v], counts.get(v, 0), link.has(param, v)) for v in shown]
        groups.append(FacetGroup(param, FILTER_LABELS[param], options))
    months = [(b.key, b.count) for b in counted.buckets.get("months", [])]
    months.sort(reverse=True)
    return groups, months


def chips(link: SearchLink, taxonomy: Taxonomy) -> list[Chip]:
    """The active filters, each a link to the search without it."""
    names = {param: entry_names(taxonomy, kind) for param, kind in FILTERS.items()}
    out = []
    for name, value in link.pairs:
        if name in names:
            label = f"{FILTER_LABELS[name]}: {names[name].get(value, value)}"
        elif name == "language":
            label = f"Language: {value}"
        elif name in ("from", "to"):
            label = f"{'From' if name == 'from' else 'To'} {value[:10]}"
        elif name == "q":
            label = f"Words: {value}"
        else:
            continue
        out.append(Chip(label, link.without(name, value)))
    return out


# --- search -------------------------------------------------------------------


@router.get("/", name="search_page")
async def search_page(request: Request, search: SearchDep, taxonomy: TaxonomyDep) -> Response:
    """The newsroom: search with facets; the URL holds the whole state."""
    link = SearchLink.of(request.query_params)
    params = list_query(link)
    query = params.to_query(taxonomy)
    results, total, next_cursor = await story_list(search, query, params)
    groups, months = facet_groups(await facet_counts(search, query), link, taxonomy)
    return templates.TemplateResponse(
        request,
        "search.html",
        {
            "link": link,
            "params": params,
            "results": results,
            "total": total,
            "older": link.page(next_cursor) if next_cursor else None,
            "groups": groups,
            "months": months,
            "chips": chips(link, taxonomy),
            "sorts": SORTS,
            "stream": link.api("/v1/stream"),
        },
    )


# --- a story ------------------------------------------------------------------


@router.get("/stories/{item_id}", name="story_page")
async def story_page(
    request: Request, item_id: str, items: ItemsDep, settings: SettingsDep
) -> Response:
    """One story: its text with the inferred tags' evidence marked, and every copy."""
    check_reads(SearchLink.of(request.query_params))
    stored = (
        await find_story(items, item_id, settings.query_timeout_ms)
        if STORY_ID.match(item_id)
        else None
    )
    if stored is None:
        raise PageError(404, "No such story", "There is no story with this id.")
    story = detail_from_doc(stored)
    return templates.TemplateResponse(
        request,
        "story.html",
        {
            "story": story,
            "title": with_evidence(story, "title"),
            "summary": with_evidence(story, "summary"),
            "body": with_evidence(story, "body"),
        },
    )


# --- offices, topics, countries -----------------------------------------------

EntityKind = Literal["offices", "topics", "countries"]


@dataclass(frozen=True)
class Kind:
    kind: EntityKind
    param: str
    title: str
    one: str


KINDS: dict[str, Kind] = {
    "offices": Kind("offices", "office", "Offices", "Office"),
    "topics": Kind("topics", "topic", "Topics", "Topic"),
    "countries": Kind("countries", "country", "Countries", "Country"),
}


def _listing(kind: Kind) -> None:
    async def listing(request: Request, search: SearchDep, taxonomy: TaxonomyDep) -> Response:
        check_reads(SearchLink.of(request.query_params))
        counts = await entry_counts(search, kind.kind)
        entries = list(getattr(taxonomy, kind.kind).values())
        return templates.TemplateResponse(
            request,
            "entities.html",
            {"kind": kind, "entries": entries, "counts": counts, "taxonomy": taxonomy},
        )

    listing.__doc__ = f"Every {kind.one.lower()} of the taxonomy with its story count."
    router.get(f"/{kind.kind}", name=f"{kind.kind}_page")(listing)

    async def entry(
        request: Request,
        entry_id: str,
        search: SearchDep,
        taxonomy: TaxonomyDep,
    ) -> Response:
        found = getattr(taxonomy, kind.kind).get(entry_id)
        if found is None:
            raise PageError(
                404,
                f"No such {kind.one.lower()}",
                f"The taxonomy has no {kind.one.lower()} with this id.",
            )
        paging = SearchLink.of(request.query_params)
        check_reads(paging, ("cursor",))
        link = SearchLink(((kind.param, entry_id),))
        params = list_query(SearchLink((*link.pairs, *paging.pairs)))
        results, total, next_cursor = await story_list(search, params.to_query(taxonomy), params)
        path = f"/{kind.kind}/{entry_id}"
        return templates.TemplateResponse(
            request,
            "entity.html",
            {
                "kind": kind,
                "entry": found,
                "taxonomy": taxonomy,
                "results": results,
                "total": total,
                "older": paging.page(next_cursor, path) if next_cursor else None,
                "link": link,
                "stream": link.api("/v1/stream"),
                "offices_here": _offices_in(taxonomy, kind, entry_id),
            },
        )

    entry.__doc__ = f"One {kind.one.lower()}: its taxonomy entry, latest stories, live feed."
    router.get(f"/{kind.kind}/{{entry_id}}", name=f"{kind.param}_page")(entry)


def _offices_in(taxonomy: Taxonomy, kind: Kind, entry_id: str) -> Sequence[Any]:
    """A country's page lists the offices seated there; an office's, its children."""
    if kind.kind == "countries":
        return [o for o in taxonomy.offices.values() if o.country == entry_id]
    if kind.kind == "offices":
        return [o for o in taxonomy.offices.values() if o.parent == entry_id]
    return []


for _kind in KINDS.values():
    _listing(_kind)
