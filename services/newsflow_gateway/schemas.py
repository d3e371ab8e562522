"""Response models: explicit, so internal fields never leak into the API. They are
built from the stored story as :mod:`newsflow.store` describes it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from newsflow.store import StoredStory
from newsflow_gateway.index.index import SearchHit


class EvidenceOut(BaseModel):
    field: Literal["declared", "title", "summary", "body"]
    text: str
    start: int | None = None
    end: int | None = None


class TagOut(BaseModel):
    """A canonical tag with the reasons for it."""

    id: str | None = Field(
        description="Canonical taxonomy id; null when unresolved.", examples=["odihr"]
    )
    name: str = Field(examples=["OSCE Office for Democratic Institutions and Human Rights"])
    source: Literal["declared", "inferred"]
    confidence: float = Field(ge=0, le=1)
    labels: list[str] = Field(
        default_factory=list, description="Names as published, e.g. a former office name."
    )
    resolved: bool = True
    evidence: list[EvidenceOut] = Field(default_factory=list)


class HighlightOut(BaseModel):
    """Where the query matched in one field: plain text, no HTML.

    ``text`` is a snippet of the field starting at character ``start`` of it;
    ``matches`` are ``[start, end)`` character offsets into ``text``.
    """

    text: str = Field(examples=["OSCE/ODIHR observes parliamentary elections in Albania"])
    start: int = Field(default=0, description="Where the snippet begins in the field.")
    matches: list[tuple[int, int]] = Field(examples=[[[44, 53]]])


class Highlights(BaseModel):
    title: HighlightOut | None = None
    summary: HighlightOut | None = None
    body: HighlightOut | None = None


class ItemSummary(BaseModel):
    """A story in a result list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "4b3f0a9c2d1e8f7a6b5c4d3e2f1a0b9c",
                    "title": "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
                    "published_at": "2021-01-06T00:00:00Z",
                }
            ]
        }
    )

    id: str
    title: str
    summary: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    language: str | None = None
    content_type: TagOut | None = None
    offices: list[TagOut] = Field(default_factory=list)
    topics: list[TagOut] = Field(default_factory=list)
    countries: list[TagOut] = Field(default_factory=list)
    score: float | None = Field(default=None, description="Relevance, with sort=relevance.")
    highlights: Highlights | None = Field(
        default=None, description="With q: where it matched in title, summary and body."
    )


class CopyOut(BaseModel):
    """One published copy of the story (one per publishing office or publisher)."""

    copy_key: str
    source: str | None = None
    offices: list[str] = Field(description="Offices as the publisher named them.")
    topics: list[str] = Field(description="Topics as the publisher named them.")
    content_type: str | None = None
    revision: int
    received_at: datetime


class ItemDetail(ItemSummary):
    """A full story: text, tags with evidence, and every copy it was published as."""

    body: str | None = None
    sources: list[str] = Field(default_factory=list)
    published_by: list[str] = Field(
        default_factory=list, description="Office names as published, across all copies."
    )
    copies: list[CopyOut] = Field(default_factory=list)
    taxonomy_version: str | None = None


class ItemPage(BaseModel):
    """One page of results, with the exact total and the cursor for the next page."""

    items: list[ItemSummary]
    total: int = Field(description="Exact number of matching stories.")
    limit: int
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )


def summary_from_doc(story: StoredStory, score: float | None = None) -> ItemSummary:
    # One validation reading the story's attributes: the fields share their names.
    summary = ItemSummary.model_validate(story, from_attributes=True)
    summary.score = score
    return summary


def summary_from_hit(hit: SearchHit) -> ItemSummary:
    """A search hit (the index's stored payload) as a result-list entry: one validation."""
    data = dict(hit.document)
    data["id"] = hit.id
    data["score"] = hit.score
    if hit.highlights:
        data["highlights"] = {
            name: {"text": h.text, "start": h.start, "matches": h.matches}
            for name, h in hit.highlights.items()
        }
    return ItemSummary.model_validate(data)


def detail_from_doc(story: StoredStory) -> ItemDetail:
    base = summary_from_doc(story).model_dump()
    copies = [
        CopyOut(
            copy_key=c.copy_key,
            source=c.item.source,
            offices=c.item.offices,
            topics=c.item.topics,
            content_type=c.item.content_type,
            revision=c.revision,
            received_at=c.received_at,
        )
        for _, c in sorted(story.copies.items())
    ]
    return ItemDetail(
        **base,
        body=story.body,
        sources=story.sources,
        published_by=story.offices_published,
        copies=copies,
        taxonomy_version=story.taxonomy_version,
    )
