"""The storage handler: merge each enriched copy into its story, then announce it.

A batch first goes through the bulk insert of new stories; copies of stories that
already exist go one by one through the optimistic read-merge-write path. Either
way the announcement (``ItemStored``) carries the story as stored
(:func:`~newsflow_storage.merge.story_snapshot`), which the gateway indexes.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pydantic import ValidationError
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ConnectionFailure,
    ExecutionTimeout,
    NetworkTimeout,
)

from newsflow.events import ItemEnriched, ItemStored, parse_event
from newsflow.runtime.worker import Done, Entry, Failed, Outcome, TransientError
from newsflow.store import StoryField as F
from newsflow_storage.merge import story_snapshot
from newsflow_storage.repository import (
    ConflictError,
    StoreResult,
    StoryRepository,
    insert_new_stories,
    store_copy,
)

log = logging.getLogger("newsflow.storage")

#: Errors that mean "MongoDB is unreachable right now", not "this item is bad".
TRANSIENT = (AutoReconnect, ConnectionFailure, NetworkTimeout, ExecutionTimeout)


def _parse(entry: Entry) -> ItemEnriched | Failed:
    try:
        return parse_event(ItemEnriched, entry.body)
    except ValidationError as exc:
        return Failed(f"not an ItemEnriched event: {exc}")


async def store_one(entry: Entry, event: ItemEnriched, repo: StoryRepository) -> Outcome:
    """The one-by-one path: read, merge, write with optimistic concurrency."""
    try:
        result = await store_copy(repo, event.item, event.tags)
    except TRANSIENT as exc:
        raise TransientError(str(exc)) from exc
    except ConflictError as exc:
        return Failed(str(exc))
    return _announce(entry, event, result)


def revision_text(revision: int, updated_at: object) -> str:
    """A revision as an operator reads it: a time when it is ``updated_at`` in µs.

    Without a publisher's revision, a copy's revision is its ``updated_at`` in
    microseconds since 1970 (``1620122400000000``), which means nothing to read; it
    is printed as the ISO 8601 time it is (``2021-05-04T10:00:00Z (updated_at)``).
    A revision is taken for a time when it agrees with the copy's ``updated_at`` to
    the millisecond (what the store keeps); any other is the publisher's number.
    """
    if isinstance(updated_at, datetime):
        when = updated_at if updated_at.tzinfo else updated_at.replace(tzinfo=UTC)
        if revision // 1000 == (when - _EPOCH) // timedelta(milliseconds=1):
            exact = _EPOCH + timedelta(microseconds=revision)
            return exact.isoformat().replace("+00:00", "Z") + " (updated_at)"
    return str(revision)


_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


#: What a Redis stream entry id looks like: milliseconds, a dash, a sequence number.
_STREAM_ID: Final = re.compile(r"\d+-\d+")


def origin(event: ItemEnriched) -> str:
    """Where the copy came from, for a log line: its news:ingest entry, when known.

    The event carries no ingest entry id of its own, but its correlation id is that
    id (ingest sets it so and enrichment passes it on), unless a tool made the event
    (``newsflow reenrich`` writes ``reenrich:...``): then it is named for what it is.
    """
    cid = event.correlation_id
    return f"news:ingest entry {cid}" if _STREAM_ID.fullmatch(cid) else f"correlation id {cid}"


def _stored_updated_at(doc: dict[str, Any], copy_key: str) -> object:
    """The ``updated_at`` of the stored copy ``copy_key`` of ``doc``, if there is one."""
    record = (doc.get(F.COPIES) or {}).get(copy_key) or {}
    item = record.get("item") if isinstance(record, dict) else None
    return item.get("updated_at") if isinstance(item, dict) else None


def _announce(entry: Entry, event: ItemEnriched, result: StoreResult) -> Outcome:
    if result.stale_of is not None:
        # Skipping is right (an older revision never overwrites a newer one), but an
        # operator looking for the missing revision must find why, by story or entry.
        # The line's entry_id is this worker's news:enriched entry; publishers know
        # the item by its news:ingest entry id, so the message names that too.
        item = event.item
        with entry.log_context(story_id=item.id):
            log.info(
                "skipped a stale copy %s of story %s (%s): revision %s "
                "is older than the stored revision %s",
                item.copy_key,
                item.id,
                origin(event),
                revision_text(item.revision, item.updated_at),
                revision_text(result.stale_of, _stored_updated_at(result.doc, item.copy_key)),
            )
    # A replay changes nothing and announces nothing. The same receipt processed
    # again announces again: after a crash between the write and the ack (a
    # redelivery), or after a Redis failover that lost the announcement and the ack
    # but not the entry (then delivered as new), the first announcement may never
    # have been published.
    if not result.changed and not entry.redelivered and not result.same_receipt:
        return Done()
    return Done(
        outputs=[
            ItemStored(
                event_id=entry.event_id("stored"),
                correlation_id=event.correlation_id,
                item_id=event.item.id,
                copy_key=event.item.copy_key,
                revision=event.item.revision,
                created=result.created,
                story=story_snapshot(result.doc),
            )
        ]
    )


async def store_batch(entries: Sequence[Entry], repo: StoryRepository) -> list[Outcome]:
    """One outcome per entry; MongoDB being down (TransientError) retries the batch."""
    events = [_parse(entry) for entry in entries]
    valid = [(i, e) for i, e in enumerate(events) if isinstance(e, ItemEnriched)]
    fast: list[StoreResult | None] = [None] * len(valid)
    bulk_failed = False
    try:
        fast = await insert_new_stories(repo, [(e.item, e.tags) for _, e in valid])
    except TRANSIENT as exc:
        raise TransientError(str(exc)) from exc
    except BulkWriteError as exc:
        # Written, but not durably (a write concern error): retry the whole batch.
        # The retry counts as a redelivery, so what was written is announced.
        raise TransientError(f"bulk insert not confirmed: {exc}") from exc
    except Exception:
        log.exception("bulk insert failed; storing the batch one entry at a time")
        bulk_failed = True
    done: dict[int, Outcome] = {
        i: _announce(entries[i], event, result)
        for (i, event), result in zip(valid, fast, strict=True)
        if result is not None
    }
    outcomes: list[Outcome] = []
    for i, entry in enumerate(entries):
        event = events[i]
        if isinstance(event, Failed):
            outcomes.append(event)
        elif i in done:
            outcomes.append(done[i])
        else:
            if bulk_failed:
                # Part of the bulk insert may have gone through: a copy found
                # already stored must still be announced, as on a redelivery.
                entry = dataclasses.replace(entry, redelivered=True)
            try:
                outcomes.append(await store_one(entry, event, repo))
            except TransientError:
                raise
            except Exception as exc:
                with entry.log_context():
                    log.exception("storage failed for entry %s", entry.id)
                outcomes.append(Failed(f"{type(exc).__name__}: {exc}"))
    return outcomes
