"""The stored story document: the one contract between storage and the gateway.

Storage writes one document per story (``newsflow_storage.merge.derive``); the
gateway filters, sorts, projects and renders it. Both name its fields through
:class:`StoryField`, and the gateway reads documents through :class:`StoredStory`,
so a renamed or retyped field is a change in one place that mypy and the tests
follow everywhere.

Reading is tolerant (``extra="ignore"``, defaults for fields a projection leaves
out): a gateway must keep serving documents written by an older or a newer
storage during a rolling upgrade. Stored field names never change, because
stories already in the database keep the names they were written with; a new
field is additive and optional here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field

from newsflow.domain.tags import EvidenceField, TagSource


class StoryField:
    """Field names of the stored story, for filters, projections, sorts and indexes."""

    ID: Final = "_id"
    #: Optimistic-concurrency counter: bumped by every write of the story.
    VERSION: Final = "_v"
    TITLE: Final = "title"
    SUMMARY: Final = "summary"
    BODY: Final = "body"
    URL: Final = "url"
    PUBLISHED_AT: Final = "published_at"
    #: ``published_at``, or the first receive time when the publisher gave none:
    #: the key every listing sorts and pages on.
    SORT_AT: Final = "sort_at"
    FIRST_RECEIVED_AT: Final = "first_received_at"
    LANGUAGE: Final = "language"
    SOURCES: Final = "sources"
    OFFICES_PUBLISHED: Final = "offices_published"
    OFFICES: Final = "offices"
    TOPICS: Final = "topics"
    COUNTRIES: Final = "countries"
    CONTENT_TYPE: Final = "content_type"
    OFFICE_IDS: Final = "office_ids"
    TOPIC_IDS: Final = "topic_ids"
    COUNTRY_IDS: Final = "country_ids"
    CONTENT_TYPE_ID: Final = "content_type_id"
    TAXONOMY_VERSION: Final = "taxonomy_version"
    #: Legacy: index terms (words and word pairs) that storage wrote before the
    #: gateway kept its own search index. No longer written; stories stored by an
    #: older version still carry them, so readers project them away by these names
    #: (see :data:`LEGACY_FIELDS`).
    TITLE_TERMS: Final = "title_terms"
    SUMMARY_TERMS: Final = "summary_terms"
    TERMS: Final = "terms"
    #: Every copy of the story, by copy key: what the derived fields come from.
    COPIES: Final = "copies"


#: Fields older versions of storage wrote and this one no longer does. A story
#: stored before the upgrade keeps them until a new copy of it is merged (the
#: rewrite replaces the whole document and leaves them out).
LEGACY_FIELDS: Final = (StoryField.TITLE_TERMS, StoryField.SUMMARY_TERMS, StoryField.TERMS)


def story_fields() -> frozenset[str]:
    """Every name declared on :class:`StoryField`, legacy ones included."""
    return frozenset(v for k, v in vars(StoryField).items() if k.isupper() and isinstance(v, str))


def written_fields() -> frozenset[str]:
    """The fields storage writes today: :func:`story_fields` without :data:`LEGACY_FIELDS`."""
    return story_fields() - frozenset(LEGACY_FIELDS)


class _Stored(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


class StoredEvidence(_Stored):
    field: EvidenceField
    text: str
    start: int | None = None
    end: int | None = None


class StoredTag(_Stored):
    """A tag merged across copies: the highest confidence, every published label."""

    id: str | None = None
    name: str
    source: TagSource
    confidence: float
    label: str | None = None
    labels: list[str] = Field(default_factory=list)
    resolved: bool = True
    evidence: list[StoredEvidence] = Field(default_factory=list)


class StoredCopyItem(_Stored):
    """The parts of a copy's item the gateway shows; the full item is kept too."""

    source: str | None = None
    offices: list[str] = Field(default_factory=list)
    topics: list[str] = Field(default_factory=list)
    content_type: str | None = None


class StoredCopy(_Stored):
    """One copy of the story, as storage received it (``item``) and tagged it."""

    copy_key: str
    revision: int
    received_at: datetime
    item: StoredCopyItem
    tags: dict[str, Any] = Field(default_factory=dict)


class StoredStory(_Stored):
    """A story as the gateway reads it. Fields a projection leaves out take defaults."""

    id: str = Field(alias=StoryField.ID)
    version: int = Field(default=0, alias=StoryField.VERSION)
    title: str
    summary: str | None = None
    body: str | None = None
    url: str | None = None
    published_at: datetime | None = None
    sort_at: datetime | None = None
    first_received_at: datetime | None = None
    language: str | None = None
    sources: list[str] = Field(default_factory=list)
    offices_published: list[str] = Field(default_factory=list)
    offices: list[StoredTag] = Field(default_factory=list)
    topics: list[StoredTag] = Field(default_factory=list)
    countries: list[StoredTag] = Field(default_factory=list)
    content_type: StoredTag | None = None
    office_ids: list[str] = Field(default_factory=list)
    topic_ids: list[str] = Field(default_factory=list)
    country_ids: list[str] = Field(default_factory=list)
    content_type_id: str | None = None
    taxonomy_version: str | None = None
    # Legacy (see LEGACY_FIELDS): present only on stories an older storage wrote.
    copies: dict[str, StoredCopy] = Field(default_factory=dict)

    @property
    def when(self) -> datetime | None:
        """When the story happened, as feeds date it: published, else first received."""
        return self.published_at or self.sort_at or self.first_received_at


def read_story(doc: dict[str, Any]) -> StoredStory:
    """A document from the store (any projection of it) as a :class:`StoredStory`."""
    return StoredStory.model_validate(doc)


__all__ = [
    "LEGACY_FIELDS",
    "StoredCopy",
    "StoredCopyItem",
    "StoredEvidence",
    "StoredStory",
    "StoredTag",
    "StoryField",
    "read_story",
    "story_fields",
    "written_fields",
]
