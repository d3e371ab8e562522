"""The ingest handler: normalise each entry, or reject it with a reason.

Pure apart from the clock passed in, so it is tested without Redis.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import orjson

from newsflow.events import FieldError, ItemIngested, ItemRejected
from newsflow.normalise import Rejection, normalise
from newsflow.worker import Done, Entry, Outcome

#: Largest original payload copied into a rejection event.
MAX_PAYLOAD_ECHO = 64 * 1024


def _payload(entry: Entry) -> str:
    """The entry as received, for the rejected stream: its raw fields as JSON."""
    raw = dict(entry.fields) if entry.fields else {"body": repr(entry.body)}
    text = orjson.dumps(raw).decode()
    return text if len(text) <= MAX_PAYLOAD_ECHO else text[:MAX_PAYLOAD_ECHO] + "…(truncated)"


def ingest_one(entry: Entry, *, now: datetime) -> Done:
    """One entry in, one event out: ingested, or rejected with field-level reasons."""
    try:
        item = normalise(entry.body, now=now)
    except Rejection as rejection:
        return Done(
            outputs=[
                ItemRejected(
                    event_id=entry.event_id("rejected"),
                    correlation_id=entry.correlation_id,
                    reason=rejection.reason,
                    errors=[FieldError(**e) for e in rejection.errors],
                    payload=_payload(entry),
                    ingest_entry_id=entry.id,
                )
            ],
            rejected=True,
        )
    return Done(
        outputs=[
            ItemIngested(
                event_id=entry.event_id("ingested"),
                correlation_id=entry.correlation_id,
                item=item,
                ingest_entry_id=entry.id,
            )
        ]
    )


def ingest_batch(entries: Sequence[Entry], *, now: datetime) -> list[Outcome]:
    return [ingest_one(entry, now=now) for entry in entries]
