"""Tag models: what enrichment attaches to an item, and why.

A tag ties an item to one canonical taxonomy entry and explains itself: where it
came from (the publisher's metadata, or inference from the text), how sure we are,
and the evidence: the label as published, or the span of text with its offsets.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

TagSource = Literal["declared", "inferred"]
EvidenceField = Literal["declared", "title", "summary", "body"]


class Evidence(BaseModel):
    """One reason for a tag: a declared label, or a matched span of text."""

    # Read from events: unknown fields are ignored (producers strict, consumers tolerant).
    model_config = ConfigDict(frozen=True, extra="ignore")

    field: EvidenceField = Field(
        description="Where it was found: declared metadata or a text field."
    )
    text: str = Field(description="The label or the matched text, exactly as it appears.")
    start: int | None = Field(default=None, ge=0, description="Start offset in the field (chars).")
    end: int | None = Field(default=None, ge=0, description="End offset (exclusive) in the field.")


class Tag(BaseModel):
    """A topic, office, country or content-type tag on an item."""

    # Read from events: unknown fields are ignored (producers strict, consumers tolerant).
    model_config = ConfigDict(frozen=True, extra="ignore")

    id: str | None = Field(
        description="Canonical taxonomy id; null for an unresolved declared label.",
        examples=["odihr"],
    )
    name: str = Field(description="Current display name (the label itself when unresolved).")
    source: TagSource
    confidence: float = Field(ge=0.0, le=1.0)
    label: str | None = Field(
        default=None,
        description="The name as published, e.g. a former office name used at the time.",
    )
    resolved: bool = Field(default=True, description="False when no taxonomy entry matched.")
    evidence: list[Evidence] = Field(default_factory=list)


class Tags(BaseModel):
    """Everything enrichment concluded about one item."""

    # Read from events: unknown fields are ignored (producers strict, consumers tolerant).
    model_config = ConfigDict(frozen=True, extra="ignore")

    taxonomy_version: str = Field(description="Version of the taxonomy that produced these tags.")
    topics: list[Tag] = Field(default_factory=list)
    offices: list[Tag] = Field(default_factory=list)
    countries: list[Tag] = Field(default_factory=list)
    content_type: Tag | None = None
