"""Versioned events exchanged between services over Redis Streams.

Every event is a frozen pydantic model with an explicit ``schema_version``, a
unique ``event_id``, ``occurred_at`` and a ``correlation_id`` that follows one
item from ingest to storage. Changes within a version are additive only; a
breaking change is a new event type on a new stream. ``tests/unit/test_events.py``
pins each event's JSON schema so that an accidental change fails the build.

On the wire an event is the JSON of the model in the ``event`` field of a stream
entry (see :mod:`newsflow.streams`), readable from any language.

**Producers strict, consumers tolerant.** A consumer ignores fields it does not
know (``extra="ignore"``, here and on the nested models), so a rolling upgrade can
add an optional field without turning every not-yet-upgraded reader's input into
dead letters. Our own code cannot produce an unknown field: the pydantic mypy
plugin's ``init_forbid_extra`` makes one a type error, and the pinned schemas fix
what we write.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Final, Literal, TypeVar

import orjson
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from newsflow import streams
from newsflow.domain.items import NewsItem
from newsflow.domain.tags import Tags
from newsflow.streams import EVENT_FIELD


def utcnow() -> datetime:
    return datetime.now(UTC)


class Event(BaseModel):
    """Fields every event carries."""

    # Tolerant reader: unknown fields are ignored (see the module docstring).
    model_config = ConfigDict(frozen=True, extra="ignore")

    #: The stream this kind of event travels on; set by each subclass.
    stream: ClassVar[str]

    schema_version: Literal[1] = Field(default=1, description="Version of this event's schema.")
    event_id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique per event.")
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    correlation_id: str = Field(
        max_length=200,
        description="Follows one item through the pipeline; the ingest stream entry id by default.",
    )
    traceparent: str | None = Field(
        default=None,
        description=(
            "W3C trace context (https://www.w3.org/TR/trace-context/) of the handling that "
            "produced this event; a consumer continues the trace from it. Absent when "
            "nothing traced the item; a malformed value is ignored, never an error."
        ),
    )

    def to_fields(self) -> dict[str, bytes]:
        """The stream entry for this event."""
        return {EVENT_FIELD: orjson.dumps(self.model_dump(mode="json"))}


E = TypeVar("E", bound=Event)


def parse_event(model: type[E], body: Any) -> E:
    """Read an event from what the broker delivered: ``{"event": "<json>"}`` or the object."""
    if isinstance(body, dict) and EVENT_FIELD in body:
        body = body[EVENT_FIELD]
    if isinstance(body, bytes | bytearray | str):
        return model.model_validate_json(body)
    return model.model_validate(body)


class ItemIngested(Event):
    """An item passed validation and normalisation (ingest → enrichment)."""

    stream: ClassVar[str] = streams.INGESTED
    event_type: Literal["item.ingested"] = "item.ingested"
    item: NewsItem
    ingest_entry_id: str = Field(description="The entry id the item had on news:ingest.")


class ItemEnriched(Event):
    """An item with its canonical tags (enrichment → storage)."""

    stream: ClassVar[str] = streams.ENRICHED
    event_type: Literal["item.enriched"] = "item.enriched"
    item: NewsItem
    tags: Tags


class ItemStored(Event):
    """A copy of a story was written to the store (storage → gateway search index and live feed)."""

    stream: ClassVar[str] = streams.STORED
    event_type: Literal["item.stored"] = "item.stored"
    item_id: str
    copy_key: str
    revision: int
    created: bool = Field(description="True when this write created the story.")
    story: dict[str, Any] | None = Field(
        default=None,
        description=(
            "The story as it now stands in the store, without its copies: every derived "
            "field (newsflow.store.StoryField names), '_id' and the version '_v' (higher is "
            "newer; keep the highest when announcements arrive out of order). Datetimes are "
            "ISO-8601 UTC strings to the millisecond. Absent from events of an older "
            "storage: read the story from the store by item_id then."
        ),
    )


class FieldError(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    field: str
    message: str


#: How much of a rejected entry ``ItemRejected.payload`` echoes.
MAX_PAYLOAD_ECHO: Final = 64 * 1024


def payload_echo(value: Any) -> str:
    """``value`` as JSON for ``ItemRejected.payload``, cut at :data:`MAX_PAYLOAD_ECHO`."""
    text = orjson.dumps(value).decode()
    return text if len(text) <= MAX_PAYLOAD_ECHO else text[:MAX_PAYLOAD_ECHO] + "…(truncated)"


class ItemRejected(Event):
    """An item that could not be accepted, with the original payload and the reason."""

    stream: ClassVar[str] = streams.REJECTED
    event_type: Literal["item.rejected"] = "item.rejected"
    reason: str = Field(description="Human-readable reason.")
    errors: list[FieldError] = Field(default_factory=list)
    payload: str = Field(description="The entry as received, as JSON (truncated past 64 KiB).")
    ingest_entry_id: str = Field(description="The entry's id on ``source_stream``.")
    service: str = "ingest"
    source_stream: str = Field(
        default=streams.INGEST, description="The stream the entry was read from."
    )
    payload_base64: dict[str, str] | None = Field(
        default=None,
        description=(
            "The entry's exact bytes when it could not be decoded (not UTF-8, no payload "
            "field, broken JSON or envelope): each value base64-encoded, keyed by its field "
            "name ('base64:' and the base64 of the name when the name is not UTF-8)."
        ),
    )


class DeadLetter(Event):
    """An entry that failed ``max_deliveries`` times; kept for inspection and replay."""

    stream: ClassVar[str] = streams.DEAD
    event_type: Literal["entry.dead"] = "entry.dead"
    service: str
    source_stream: str
    group: str
    entry_id: str
    delivery_count: int
    error: str
    fields: dict[str, str] = Field(description="The original entry's fields, decoded as UTF-8.")


ALL_EVENTS: tuple[type[Event], ...] = (
    ItemIngested,
    ItemEnriched,
    ItemStored,
    ItemRejected,
    DeadLetter,
)
