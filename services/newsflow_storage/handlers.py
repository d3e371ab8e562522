"""The storage handler: merge each enriched copy into its story, then announce it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import ValidationError
from pymongo.errors import AutoReconnect, ConnectionFailure, ExecutionTimeout, NetworkTimeout

from newsflow.events import ItemEnriched, ItemStored, parse_event
from newsflow.worker import Done, Entry, Failed, Outcome, TransientError
from newsflow_storage.repository import ConflictError, StoryRepository, store_copy

log = logging.getLogger("newsflow.storage")

#: Errors that mean "MongoDB is unreachable right now", not "this item is bad".
TRANSIENT = (AutoReconnect, ConnectionFailure, NetworkTimeout, ExecutionTimeout)


async def store_one(entry: Entry, repo: StoryRepository) -> Outcome:
    try:
        event = parse_event(ItemEnriched, entry.body)
    except ValidationError as exc:
        return Failed(f"not an ItemEnriched event: {exc}")
    try:
        result = await store_copy(repo, event.item, event.tags)
    except TRANSIENT as exc:
        raise TransientError(str(exc)) from exc
    except ConflictError as exc:
        return Failed(str(exc))
    # A replay changes nothing and announces nothing. A redelivery after a crash
    # between the write and the ack announces again: the first announcement may
    # never have been published.
    if not result.changed and not entry.redelivered:
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
            )
        ]
    )


async def store_batch(entries: Sequence[Entry], repo: StoryRepository) -> list[Outcome]:
    """One outcome per entry; MongoDB being down (TransientError) retries the batch."""
    outcomes: list[Outcome] = []
    for entry in entries:
        try:
            outcomes.append(await store_one(entry, repo))
        except TransientError:
            raise
        except Exception as exc:
            log.exception("storage failed for entry %s", entry.id)
            outcomes.append(Failed(f"{type(exc).__name__}: {exc}"))
    return outcomes
