"""The normalised news item that flows between services after ingest."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class NewsItem(BaseModel):
    """A validated, cleaned and identified news item (one copy of a story).

    ``id`` identifies the story; ``copy_key`` identifies this copy of it, so that
    the same story published by two offices is one story with two copies.
    """

    # Read from events: unknown fields are ignored (producers strict, consumers tolerant).
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str = Field(
        pattern=r"^[0-9a-f]{32}$",
        description="Deterministic story id: the canonical URL, else the guid, else title and day.",
        examples=["4b3f0a9c2d1e8f7a6b5c4d3e2f1a0b9c"],
    )
    copy_key: str = Field(
        pattern=r"^[0-9a-f]{16}$",
        description="Which copy of the story: derived from the source and declared offices.",
    )
    title: str
    summary: str | None = None
    body: str | None = None
    url: str | None = None
    guid: str | None = Field(
        default=None,
        description="The publisher's permanent id of the story when it is no URL (NewsML-G2 guid).",
    )
    published_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = None
    revision: int = Field(
        default=0,
        ge=0,
        description="Orders versions of one copy: the publisher's revision, else updated_at in µs.",
    )
    content_type: str | None = None
    offices: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    countries: list[str] = Field(
        default_factory=list,
        description="Countries or places the story is about, as published (NewsML located).",
    )
    language: str | None = Field(
        default=None, description="BCP 47 tag: as declared, else as enrichment detected it."
    )
    language_source: Literal["declared", "inferred"] | None = Field(
        default=None,
        description=(
            "Where 'language' came from: the publisher (declared), or enrichment's guess "
            "from the text (inferred), as tags carry their source. Absent when there is "
            "no language, and in events from before it existed."
        ),
    )
    source: str | None = None
    idempotency_key: str | None = None
    received_at: datetime
