"""Disjunctive facet counts: each kind counted as if its own filter were off.

Filters combine as everywhere else (values of one filter OR-ed, filters AND-ed).
A reader who has checked ``topic=elections`` wants to see what checking another
topic would add, so the topic counts must not be narrowed by the topic filter
itself; they are narrowed by every *other* filter (office, country, ``q``...).
This is Elasticsearch's ``post_filter`` or Solr's tag/exclude, done here once
over :class:`~newsflow_gateway.search.backend.StorySearch`, so ``/v1/facets``
and the search page agree and any engine behind the interface gets it.

The months count as if ``from``/``to`` were off: a month's link on the search
page replaces the date range, so its count is what that link finds. ``language``
has no facet and always narrows. ``total`` is the number of matches of the whole
query, every filter on.

Cost: one extra :meth:`StorySearch.facets` per kind with an active filter, run
concurrently with the plain one; a search without filters costs what it did.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any, Final

from newsflow_gateway.search.backend import FacetKind, Facets, StoryQuery, StorySearch

#: The fields of :class:`~newsflow_gateway.index.index.SearchFilters` that are each
#: facet kind's own filter, and their "off" values.
OWN_FILTER: Final[dict[FacetKind, dict[str, Any]]] = {
    "topics": {"topic": ()},
    "offices": {"office": ()},
    "countries": {"country": ()},
    "content_types": {"content_type": ()},
    "months": {"date_from": None, "date_to": None},
}


def filtered_kinds(query: StoryQuery) -> list[FacetKind]:
    """The facet kinds whose own filter narrows ``query``."""
    return [
        kind
        for kind, fields in OWN_FILTER.items()
        if any(getattr(query.filters, name) for name in fields)
    ]


def without_own_filter(query: StoryQuery, kind: FacetKind) -> StoryQuery:
    """``query`` with the filter of ``kind`` off and everything else kept."""
    return replace(query, filters=replace(query.filters, **OWN_FILTER[kind]))


async def facet_counts(search: StorySearch, query: StoryQuery) -> Facets:
    """The total of ``query`` and, per kind, counts over the matches of ``query``
    without that kind's own filter (see the module docstring)."""
    kinds = filtered_kinds(query)
    if not kinds or query.nothing:
        return await search.facets(query)
    plain, *others = await asyncio.gather(
        search.facets(query), *(search.facets(without_own_filter(query, k)) for k in kinds)
    )
    buckets = dict(plain.buckets)
    for kind, counted in zip(kinds, others, strict=True):
        buckets[kind] = counted.buckets.get(kind, [])
    return Facets(plain.total, buckets)


__all__ = ["OWN_FILTER", "facet_counts", "filtered_kinds", "without_own_filter"]
