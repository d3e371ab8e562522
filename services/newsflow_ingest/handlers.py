"""The ingest handler: normalise each entry, or reject it with a reason.

Pure apart from the clock passed in, so it is tested without Redis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime

import orjson

from newsflow.domain.normalise import Rejection, normalise
from newsflow.domain.text import identity_key
from newsflow.events import FieldError, ItemIngested, ItemRejected
from newsflow.runtime.worker import Done, Entry, Outcome

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


def idempotency_key(event: ItemIngested) -> str | None:
    """Where a publisher's idempotency key is remembered: per source, hashed."""
    item = event.item
    if not item.idempotency_key:
        return None
    digest = hashlib.sha256(item.idempotency_key.encode()).hexdigest()
    return f"newsflow:idem:ingest:{identity_key(item.source or '')}:{digest}"


def apply_idempotency(
    outcomes: Sequence[Outcome], seen: Mapping[str, bool], window_s: int
) -> list[Outcome]:
    """Drop items whose idempotency key was seen within the window; remember new keys.

    A repeat is acknowledged without being published again. The key is only
    remembered in the transaction that publishes its item, so a crash in between
    cannot make the first copy look like a repeat.
    """
    out: list[Outcome] = []
    batch: set[str] = set()
    for outcome in outcomes:
        event = outcome.outputs[0] if isinstance(outcome, Done) and outcome.outputs else None
        key = idempotency_key(event) if isinstance(event, ItemIngested) else None
        if key is None:
            out.append(outcome)
        elif seen.get(key) or key in batch:
            out.append(Done(duplicate=True))
        else:
            batch.add(key)
            assert isinstance(outcome, Done)
            out.append(Done(outputs=outcome.outputs, remember=[(key, window_s)]))
    return out
