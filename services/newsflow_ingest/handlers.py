"""The ingest handler: normalise each entry, or reject it with a reason.

Pure apart from the clock passed in, so it is tested without Redis.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from newsflow.domain.normalise import Rejection, normalise
from newsflow.events import FieldError, ItemIngested, ItemRejected, payload_echo
from newsflow.runtime.idempotency import (
    CONFLICT_MESSAGE,
    Remembered,
    Verdict,
    claim_value,
    item_key,
    verdict,
)
from newsflow.runtime.worker import Done, Entry, Outcome


#: Largest original payload copied into a rejection event.
def _payload(entry: Entry) -> str:
    """The entry as received, for the rejected stream: its raw fields as JSON."""
    raw = dict(entry.fields) if entry.fields else {"body": repr(entry.body)}
    return payload_echo(raw)


#: Entry ids whose time is older than this were set by hand (``XADD news:ingest 1-1``).
_EPOCH_FLOOR = datetime(2000, 1, 1, tzinfo=UTC)


def received_at(entry: Entry, now: datetime) -> datetime:
    """When Redis accepted the entry: the milliseconds in its id.

    The same entry processed again (a redelivery, or a retry after a Redis failover
    lost what ingest had written) is the same receipt, so storage can tell it from a
    publisher's replay, which is a new entry with a new id. An id set by hand, whose
    time is not plausible, falls back to ``now``.
    """
    try:
        millis = int(entry.id.partition("-")[0])
    except ValueError:
        return now
    at = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)
    return at if _EPOCH_FLOOR <= at <= now + timedelta(days=1) else now


def ingest_one(entry: Entry, *, now: datetime) -> Done:
    """One entry in, one event out: ingested, or rejected with field-level reasons."""
    try:
        item = normalise(entry.body, now=now, received_at=received_at(entry, now))
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


def idempotency_claims(entries: Sequence[Entry], outcomes: Sequence[Outcome]) -> dict[str, str]:
    """The idempotency keys this batch would claim: the first entry holding each key."""
    claims: dict[str, str] = {}
    for entry, outcome in zip(entries, outcomes, strict=True):
        event = _ingested(outcome)
        key = item_key(event.item) if event else None
        if event and key and key not in claims:
            claims[key] = claim_value(event.item, entry.id)
    return claims


def apply_idempotency(
    entries: Sequence[Entry], outcomes: Sequence[Outcome], held: Mapping[str, Remembered]
) -> list[Outcome]:
    """Publish new keys, acknowledge true repeats silently, reject a key reused for another story.

    ``held`` is what each key holds once this batch claimed the free ones (see
    :func:`newsflow.runtime.idempotency.claim`), so an entry decides against its own
    claim, an earlier entry of the batch, or another publisher's in-flight item alike.
    """
    out: list[Outcome] = []
    for entry, outcome in zip(entries, outcomes, strict=True):
        event = _ingested(outcome)
        key = item_key(event.item) if event else None
        if event is None or key is None:
            out.append(outcome)
            continue
        stored = held.get(key)
        match verdict(event.item, stored, entry.id):
            case Verdict.NEW:
                out.append(outcome)
            case Verdict.REPEAT:
                out.append(Done(duplicate=True))
            case Verdict.CONFLICT:
                out.append(_conflict(entry, event.item.idempotency_key or "", stored))
    return out


def _ingested(outcome: Outcome) -> ItemIngested | None:
    event = outcome.outputs[0] if isinstance(outcome, Done) and outcome.outputs else None
    return event if isinstance(event, ItemIngested) else None


def _conflict(entry: Entry, key: str, stored: Remembered | None) -> Done:
    message = CONFLICT_MESSAGE
    if stored and stored.story_id:
        message += f" (story {stored.story_id})"
    return Done(
        outputs=[
            ItemRejected(
                event_id=entry.event_id("rejected"),
                correlation_id=entry.correlation_id,
                reason=f"idempotency_key: {message}",
                errors=[FieldError(field="idempotency_key", message=message)],
                payload=_payload(entry),
                ingest_entry_id=entry.id,
            )
        ],
        rejected=True,
    )
