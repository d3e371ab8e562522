"""Dead letters: list them, replay them onto their source stream after a fix, or
delete one that is not worth replaying.

A dead letter (``news:dead``) holds the original entry's fields, the service and
group that gave up on it, the delivery count and the last error. Replaying adds
the original fields back to the source stream, where the group reads them as a
new entry, and deletes the dead letter, both in one MULTI/EXEC under WATCH: two
operators replaying the same letter at once replay it once.

This is the one implementation: the gateway's admin routes await it, and the
``newsflow dlq`` command runs it through ``asyncio.run``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from redis.asyncio import Redis
from redis.exceptions import WatchError

from newsflow import streams
from newsflow.events import DeadLetter, parse_event
from newsflow.runtime.codec import is_stream_id, text

#: Dead letters read per page when replaying all of them.
PAGE: Final = 500
#: Attempts at one replay when news:dead keeps changing under the WATCH.
_ATTEMPTS: Final = 20


@dataclass(frozen=True)
class Letter:
    """One dead letter: its own entry id on ``news:dead`` and the event it holds."""

    entry_id: str
    event: DeadLetter


def _letter(entry_id: Any, fields: Any) -> Letter:
    raw = fields[streams.EVENT_FIELD.encode()]
    return Letter(text(entry_id), parse_event(DeadLetter, {streams.EVENT_FIELD: text(raw)}))


def check_ids(entry_ids: Iterable[str]) -> list[str]:
    """The ids as a list; ValueError naming the first one that is not a stream id."""
    ids = list(entry_ids)
    for entry_id in ids:
        if not is_stream_id(entry_id):
            raise ValueError(f"not a stream id: {entry_id!r} (expected <milliseconds>-<sequence>)")
    return ids


async def list_letters(
    redis: Redis, *, count: int = 100, after: str | None = None, until: str = "+"
) -> list[Letter]:
    """Up to ``count`` dead letters, oldest first, after the id ``after`` (exclusive)
    and up to ``until`` (inclusive).

    Page on by passing the last letter's ``entry_id`` as ``after``.
    """
    start = "-" if after is None else "(" + check_ids([after])[0]
    rows: Any = await redis.xrange(streams.DEAD, min=start, max=until, count=count) or []
    return [_letter(entry_id, fields) for entry_id, fields in rows]


async def get_letter(redis: Redis, entry_id: str) -> Letter | None:
    """The dead letter with this id; None when there is none."""
    rows: Any = await redis.xrange(streams.DEAD, min=check_ids([entry_id])[0], max=entry_id)
    return _letter(*rows[0]) if rows else None


async def delete(redis: Redis, entry_id: str) -> bool:
    """Drop one dead letter without replaying it; False when there was none."""
    return int(await redis.xdel(streams.DEAD, check_ids([entry_id])[0])) == 1


async def replay_one(redis: Redis, entry_id: str) -> str | None:
    """Replay one dead letter; the new entry id on its source stream, None when the
    letter is gone (never existed, or replayed meanwhile)."""
    check_ids([entry_id])
    async with redis.pipeline(transaction=True) as pipe:
        for _ in range(_ATTEMPTS):
            try:
                await pipe.watch(streams.DEAD)
                rows: Any = await pipe.xrange(streams.DEAD, min=entry_id, max=entry_id)
                if not rows:  # leaving the block resets the pipeline, and so unwatches
                    return None
                letter = _letter(*rows[0])
                pipe.multi()  # type: ignore[no-untyped-call]
                pipe.xadd(letter.event.source_stream, dict(letter.event.fields))  # type: ignore[arg-type]
                pipe.xdel(streams.DEAD, entry_id)
                new_id, _ = await pipe.execute()
                return text(new_id)
            except WatchError:  # news:dead changed between the read and EXEC: read again
                continue
    raise RuntimeError(f"news:dead kept changing; could not replay {entry_id}")


async def replay(redis: Redis, entry_ids: Iterable[str] | None = None) -> list[str]:
    """Replay the given dead letters (all when ``entry_ids`` is None); ids that are
    not (or no longer) dead letters are skipped. Returns the new entry ids on the
    source streams. ValueError, before anything is replayed, for an id that is not
    a stream id."""
    if entry_ids is not None:
        replayed = [await replay_one(redis, i) for i in dict.fromkeys(check_ids(entry_ids))]
        return [i for i in replayed if i is not None]
    # Up to the newest letter of now: a replayed entry that fails again comes back
    # as a new dead letter, and must wait for the next replay, not loop this one.
    newest: Any = await redis.xrevrange(streams.DEAD, count=1)
    if not newest:
        return []
    until = text(newest[0][0])
    out: list[str] = []
    after: str | None = None
    while letters := await list_letters(redis, count=PAGE, after=after, until=until):
        for letter in letters:
            new_id = await replay_one(redis, letter.entry_id)
            if new_id is not None:
                out.append(new_id)
        after = letters[-1].entry_id
    return out
