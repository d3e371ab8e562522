"""Facets and taxonomy listings: counts on our own taxonomy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from newsflow_gateway.deps import SearchDep, TaxonomyDep
from newsflow_gateway.problems import Problem
from newsflow_gateway.search.backend import FacetKind, StoryQuery, StorySearch
from newsflow_gateway.search.facets import facet_counts
from newsflow_gateway.search.params import ItemQuery, NoQuery, single_valued

router = APIRouter(
    prefix="/v1", tags=["facets and taxonomy"], dependencies=[Depends(single_valued)]
)

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
    503: {"model": Problem, "description": "The search index is not ready; retry later."},
}
KINDS: tuple[FacetKind, ...] = ("topics", "offices", "countries", "content_types")


class FacetValue(BaseModel):
    id: str = Field(examples=["elections"])
    name: str = Field(examples=["Elections"])
    count: int


class MonthValue(BaseModel):
    month: str = Field(description="YYYY-MM (UTC).", examples=["2021-01"])
    count: int


class Facets(BaseModel):
    """Counts of matching stories per taxonomy entry and per month.

    Each kind is counted as if its own filter were off (disjunctive counts): with
    ``topic=elections`` the topics show what every other topic would add, while
    offices, countries, content types and months count within elections. The
    months count as if ``from`` and ``to`` were off. ``total`` counts the matches
    with every filter on, as ``/v1/items`` does.
    """

    total: int = Field(description="Stories matching the query with every filter on.")
    topics: list[FacetValue]
    offices: list[FacetValue]
    countries: list[FacetValue]
    content_types: list[FacetValue]
    months: list[MonthValue]


def entry_names(taxonomy: Any, kind: str) -> dict[str, str]:
    """Display names of one kind of taxonomy entry, by id (also the pages')."""
    return {key: entry.name for key, entry in getattr(taxonomy, kind).items()}


@router.get("/facets", response_model=Facets, summary="Counts for a search", responses=ERRORS)
async def facets(
    params: Annotated[ItemQuery, Query()],
    search: SearchDep,
    taxonomy: TaxonomyDep,
) -> Facets:
    """Counts by topic, office, country, content type and month for the same query
    and filters as ``/v1/items`` (values of one filter OR-ed, filters AND-ed).

    Each kind is counted over the matches of the query with every filter except its
    own, so checked values do not hide the others: with ``topic=elections`` the
    topic counts are those of the query without ``topic``, and the office, country,
    content-type and month counts are those within elections. The months ignore
    ``from``/``to`` in the same way. ``total`` is the number of matches with every
    filter on (``/v1/items``' total). Only canonical taxonomy entries are counted."""
    counted = await facet_counts(search, params.to_query(taxonomy))
    out: dict[str, Any] = {}
    for kind in KINDS:
        names = entry_names(taxonomy, kind)
        out[kind] = [
            FacetValue(id=b.key, name=names[b.key], count=b.count)
            for b in counted.buckets.get(kind, [])
            if b.key in names
        ]
    out["months"] = [
        MonthValue(month=b.key, count=b.count) for b in counted.buckets.get("months", [])
    ]
    return Facets(total=counted.total, **out)


class FormerName(BaseModel):
    name: str
    from_: str | None = Field(default=None, alias="from")
    until: str | None = None


class TaxonomyEntry(BaseModel):
    id: str
    name: str
    count: int = Field(description="Stored stories tagged with this entry.")


class OfficeEntry(TaxonomyEntry):
    status: str | None = None
    country: str | None = None
    former_names: list[FormerName] = Field(default_factory=list)


class TaxonomyList(BaseModel):
    taxonomy_version: str
    entries: list[TaxonomyEntry]


class OfficeList(BaseModel):
    taxonomy_version: str
    entries: list[OfficeEntry]


async def entry_counts(search: StorySearch, kind: FacetKind) -> dict[str, int]:
    """Stored stories per entry of one kind (also the pages')."""
    counted = await search.facets(StoryQuery())
    return {b.key: b.count for b in counted.buckets.get(kind, [])}


def _former(entry: Any) -> list[FormerName]:
    out = []
    for f in getattr(entry, "former_names", ()) or ():
        get = f.get if isinstance(f, dict) else lambda k, f=f: getattr(f, k, None)
        out.append(
            FormerName.model_validate(
                {"name": get("name"), "from": get("from_") or get("from"), "until": get("until")}
            )
        )
    return out


def _route(kind: FacetKind, path: str, title: str) -> None:
    async def listing(
        params: Annotated[NoQuery, Query()],
        search: SearchDep,
        taxonomy: TaxonomyDep,
    ) -> TaxonomyList:
        counts = await entry_counts(search, kind)
        entries = [
            TaxonomyEntry(id=k, name=e.name, count=counts.get(k, 0))
            for k, e in getattr(taxonomy, kind).items()
        ]
        return TaxonomyList(taxonomy_version=taxonomy.version, entries=entries)

    listing.__doc__ = f"All {title} of the taxonomy, with the number of stored stories."
    router.get(
        path,
        response_model=TaxonomyList,
        summary=f"Taxonomy: {title}",
        responses=ERRORS,
        name=f"list_{kind}",
    )(listing)


_LISTINGS: tuple[tuple[FacetKind, str, str], ...] = (
    ("topics", "/topics", "topics"),
    ("countries", "/countries", "countries"),
    ("content_types", "/content-types", "content types"),
)
for _kind, _path, _title in _LISTINGS:
    _route(_kind, _path, _title)


@router.get("/offices", response_model=OfficeList, summary="Taxonomy: offices", responses=ERRORS)
async def offices(
    params: Annotated[NoQuery, Query()],
    search: SearchDep,
    taxonomy: TaxonomyDep,
) -> OfficeList:
    """All offices with status, seat country, former names (with the dates they were
    in use) and the number of stored stories."""
    counts = await entry_counts(search, "offices")
    entries = [
        OfficeEntry(
            id=k,
            name=e.name,
            count=counts.get(k, 0),
            status=getattr(e, "status", None),
            country=getattr(e, "country", None),
            former_names=_former(e),
        )
        for k, e in taxonomy.offices.items()
    ]
    return OfficeList(taxonomy_version=taxonomy.version, entries=entries)
