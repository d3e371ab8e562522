"""Facets and taxonomy listings: counts on our own taxonomy."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from newsflow.store import StoryField as F
from newsflow_gateway.deps import ItemsDep, SettingsDep, TaxonomyDep
from newsflow_gateway.problems import Problem
from newsflow_gateway.search.params import ItemQuery, NoQuery

router = APIRouter(prefix="/v1", tags=["facets and taxonomy"])

ERRORS: dict[int | str, dict[str, Any]] = {
    422: {"model": Problem, "description": "Invalid parameter; the problem names it."},
    503: {"model": Problem, "description": "The store is unreachable; retry later."},
}
FACET_FIELDS = {
    "topics": F.TOPIC_IDS,
    "offices": F.OFFICE_IDS,
    "countries": F.COUNTRY_IDS,
    "content_types": F.CONTENT_TYPE_ID,
}
#: Multikey fields (a story has several): unwound before counting.
_MANY = {F.TOPIC_IDS, F.OFFICE_IDS, F.COUNTRY_IDS}


class FacetValue(BaseModel):
    id: str = Field(examples=["elections"])
    name: str = Field(examples=["Elections"])
    count: int


class MonthValue(BaseModel):
    month: str = Field(description="YYYY-MM (UTC).", examples=["2021-01"])
    count: int


class Facets(BaseModel):
    """Counts of matching stories per taxonomy entry and per month."""

    total: int
    topics: list[FacetValue]
    offices: list[FacetValue]
    countries: list[FacetValue]
    content_types: list[FacetValue]
    months: list[MonthValue]


def _names(taxonomy: Any, kind: str) -> dict[str, str]:
    return {key: entry.name for key, entry in getattr(taxonomy, kind).items()}


async def count_by(items: ItemsDep, match: dict[str, Any], timeout_ms: int) -> dict[str, Any]:
    facet: dict[str, Any] = {
        kind: (
            [{"$unwind": f"${field}"}] if field in _MANY else [{"$match": {field: {"$ne": None}}}]
        )
        + [{"$sortByCount": f"${field}"}]
        for kind, field in FACET_FIELDS.items()
    }
    facet["months"] = [
        {
            "$group": {
                "_id": {"$dateToString": {"format": "%Y-%m", "date": f"${F.SORT_AT}"}},
                "count": {"$sum": 1},
            }
        },
        {"$sort": {"_id": -1}},
    ]
    facet["total"] = [{"$count": "n"}]
    cursor = await items.aggregate([{"$match": match}, {"$facet": facet}], maxTimeMS=timeout_ms)
    rows = await cursor.to_list()
    return rows[0] if rows else {}


@router.get("/facets", response_model=Facets, summary="Counts for a search", responses=ERRORS)
async def facets(
    params: Annotated[ItemQuery, Query()],
    items: ItemsDep,
    taxonomy: TaxonomyDep,
    settings: SettingsDep,
) -> Facets:
    """Counts by topic, office, country, content type and month for the same query
    and filters as ``/v1/items``. Only canonical taxonomy entries are counted."""
    query = params.to_query(taxonomy)
    raw = await count_by(items, query.filter(), settings.query_timeout_ms)
    out: dict[str, Any] = {}
    for kind in FACET_FIELDS:
        names = _names(taxonomy, kind)
        out[kind] = [
            FacetValue(id=r["_id"], name=names[r["_id"]], count=r["count"])
            for r in raw.get(kind, [])
            if r["_id"] in names
        ]
    out["months"] = [
        MonthValue(month=r["_id"], count=r["count"]) for r in raw.get("months", []) if r["_id"]
    ]
    total = raw.get("total") or [{"n": 0}]
    return Facets(total=total[0]["n"], **out)


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


async def _counts(items: ItemsDep, kind: str, timeout_ms: int) -> dict[str, int]:
    raw = await count_by(items, {}, timeout_ms)
    return {r["_id"]: r["count"] for r in raw.get(kind, [])}


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


def _route(kind: str, path: str, title: str) -> None:
    async def listing(
        params: Annotated[NoQuery, Query()],
        items: ItemsDep,
        taxonomy: TaxonomyDep,
        settings: SettingsDep,
    ) -> TaxonomyList:
        counts = await _counts(items, kind, settings.query_timeout_ms)
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


for _kind, _path, _title in (
    ("topics", "/topics", "topics"),
    ("countries", "/countries", "countries"),
    ("content_types", "/content-types", "content types"),
):
    _route(_kind, _path, _title)


@router.get("/offices", response_model=OfficeList, summary="Taxonomy: offices", responses=ERRORS)
async def offices(
    params: Annotated[NoQuery, Query()],
    items: ItemsDep,
    taxonomy: TaxonomyDep,
    settings: SettingsDep,
) -> OfficeList:
    """All offices with status, seat country, former names (with the dates they were
    in use) and the number of stored stories."""
    counts = await _counts(items, "offices", settings.query_timeout_ms)
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
