"""The one interface the routes search through, and the query they pass it.

Routes, feeds and the live feed know :class:`StorySearch` only. The embedded
implementation is :class:`~newsflow_gateway.index.service.IndexService` (a Tantivy
index per gateway); a distributed engine (OpenSearch, say) would implement the same
four methods and the routes would not change. See the README, "Beyond one machine".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from newsflow_gateway.index.index import (
    NO_FILTERS,
    CursorError,
    FacetBucket,
    FacetKind,
    SearchFilters,
    SearchHit,
    SearchPage,
    Sort,
)
from newsflow_gateway.index.query import ParsedQuery, QuerySyntaxError


class SearchUnavailableError(RuntimeError):
    """The search engine cannot answer yet (rebuilding, starting, failed): a 503."""

    def __init__(self, detail: str, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class StoryQuery:
    """What to match: parsed words (or None for every story) and filters.

    ``nothing`` is a ``q`` with nothing searchable in it (``.*``, emoji): it matches
    no story, as documented for ``q``.
    """

    text: ParsedQuery | None = None
    filters: SearchFilters = NO_FILTERS
    nothing: bool = False


@dataclass(frozen=True)
class Facets:
    total: int
    buckets: dict[FacetKind, list[FacetBucket]]


class StorySearch(Protocol):
    """Searching stored stories: what every read route uses."""

    async def search(
        self,
        query: StoryQuery,
        *,
        sort: Sort = "newest",
        limit: int = 20,
        cursor: str | None = None,
        highlights: bool = True,
        with_body: bool = False,
    ) -> SearchPage:
        """A page of matches with the exact total; raises :class:`CursorError` for a
        cursor it did not make and :class:`SearchUnavailableError` when not serving."""
        ...

    async def facets(self, query: StoryQuery) -> Facets:
        """Counts per taxonomy kind and month of the matches."""
        ...

    async def matching(self, ids: Sequence[str], query: StoryQuery) -> list[SearchHit]:
        """Which of ``ids`` match ``query`` (the live feed's test), in ``ids`` order."""
        ...

    def status(self) -> dict[str, Any]:
        """State for ``/readyz`` and ``newsflow status``: at least ``state``."""
        ...


__all__ = [
    "CursorError",
    "FacetBucket",
    "FacetKind",
    "Facets",
    "QuerySyntaxError",
    "SearchFilters",
    "SearchHit",
    "SearchPage",
    "SearchUnavailableError",
    "Sort",
    "StoryQuery",
    "StorySearch",
]
