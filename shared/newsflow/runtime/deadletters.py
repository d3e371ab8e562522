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

from pydantic import ValidationError
from redis.asyncio import Redis
from redis.exceptions import WatchError

from newsflow import streams
from newsflow.events import DeadLetter, parse_event
from newsflow.runtime.codec import is_stream_id, text

#: Dead letters read per page when replaying all of them.
PAGE: Final = 500
#: Attempts at one replay when news:dead keeps changing under the WATCH.
_ATTEMPTS: Final = 20
#: Characters of an unreadable entry shown to the operator, at most.
PREVIEW_CHARS: Final = 200
#: Where a replay may write: the streams a worker group reads, so the only streams
#: a dead letter can come from. Anything else (a hash, a stranger's stream) is refused.
REPLAY_TARGETS: Final = frozenset(streams.GROUPS)


@dataclass(frozen=True)
class Letter:
    """One dead letter: its own entry id on ``news:dead`` and the event it holds."""

    entry_id: str
    event: DeadLetter


@dataclass(frozen=True)
class Unreadable:
    """An entry on ``news:dead`` that is not a dead letter (written by hand, or by a
    stranger): shown as it is, so that an operator can see and delete it, never replayed."""

    entry_id: str
    preview: str
    reason: str


class UnreplayableError(Exception):
    """A dead letter that cannot be replayed: unreadable, or aimed at a stream that is
    not one of the pipeline's inputs. The message says which, for the operator."""


def _lenient(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _clip(shown: str) -> str:
    return shown if len(shown) <= PREVIEW_CHARS else shown[:PREVIEW_CHARS] + "…"


def _preview(fields: Any) -> str:
    """The entry's fields as one line, clipped; bytes that are not UTF-8 replaced."""
    return _clip(" ".join(f"{_lenient(k)}={_lenient(v)}" for k, v in dict(fields or {}).items()))


def _letter(entry_id: Any, fields: Any) -> Letter | Unreadable:
    raw = dict(fields or {}).get(streams.EVENT_FIELD.encode())
    if raw is None:
        return Unreadable(text(entry_id), _preview(fields), "not a dead letter (no 'event' field)")
    try:
        event = parse_event(DeadLetter, {streams.EVENT_FIELD: text(raw)})
    except (ValidationError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        first = exc.errors()[0] if isinstance(exc, ValidationError) else None
        where = ".".join(str(p) for p in first["loc"]) if first and first["loc"] else ""
        reason = f"{where}: {first['msg']}" if first else str(exc)
        return Unreadable(text(entry_id), _preview(fields), _clip(f"not a dead letter ({reason})"))
    return Letter(text(entry_id), event)


def _replayable(entry: Letter | Unreadable) -> Letter:
    """The letter, if replaying it can work; UnreplayableError saying why not."""
    if isinstance(entry, Unreadable):
        raise UnreplayableError(f"{entry.entry_id} is not a dead letter: {entry.reason}")
    target = entry.event.source_stream
    if target not in REPLAY_TARGETS:
        allowed = ", ".join(sorted(REPLAY_TARGETS))
        raise UnreplayableError(
            f"cannot replay to {_clip(target)!r}: only the pipeline's streams ({allowed})"
        )
    if not entry.event.fields:
        raise UnreplayableError(f"{entry.entry_id} holds no fields to replay")
    return entry


def check_ids(entry_ids: Iterable[str]) -> list[str]:
    """The ids as a list; ValueError naming the first one that is not a stream id."""
    ids = list(entry_ids)
    for entry_id in ids:
        if not is_stream_id(entry_id):
            raise ValueError(f"not a stream id: {entry_id!r} (expected <milliseconds>-<sequence>)")
    return ids


async def list_letters(
    redis: Redis, *, count: int = 100, after: str | None = None, until: str = "+"
) -> list[Letter | Unreadable]:
    """Up to ``count`` entries of news:dead, oldest first, after the id ``after``
    (exclusive) and up to ``until`` (inclusive); one that is not a dead letter comes
    as :class:`Unreadable`, so one bad entry hides none of the others.

    Page on by passing the last letter's ``entry_id`` as ``after``.
    """
    start = "-" if after is None else "(" + check_ids([after])[0]
    rows: Any = await redis.xrange(streams.DEAD, min=start, max=until, count=count) or []
    return [_letter(entry_id, fields) for entry_id, fields in rows]


async def get_letter(redis: Redis, entry_id: str) -> Letter | Unreadable | None:
    """The dead letter with this id; None when there is none."""
    rows: Any = await redis.xrange(streams.DEAD, min=check_ids([entry_id])[0], max=entry_id)
    return _letter(*rows[0]) if rows else None


async def delete(redis: Redis, entry_id: str) -> bool:
    """Drop one dead letter without replaying it; False when there was none."""
    return int(await redis.xdel(streams.DEAD, check_ids([entry_id])[0])) == 1


async def replay_one(redis: Redis, entry_id: str) -> str | None:
    """Replay one dead letter; the new entry id on its source stream, None when the
    letter is gone (never existed, or replayed meanwhile). UnreplayableError when it
    is not a dead letter or names a stream outside the pipeline."""
    check_ids([entry_id])
    async with redis.pipeline(transaction=True) as pipe:
        for _ in range(_ATTEMPTS):
            try:
                await pipe.watch(streams.DEAD)
                rows: Any = await pipe.xrange(streams.DEAD, min=entry_id, max=entry_id)
                if not rows:  # leaving the block resets the pipeline, and so unwatches
                    return None
                letter = _replayable(_letter(*rows[0]))
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
    a stream id; UnreplayableError for a given id that cannot be replayed. Replaying
    all skips those: they stay on news:dead for the operator to delete."""
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
            if isinstance(letter, Unreadable):
                continue
            try:
                new_id = await replay_one(redis, letter.entry_id)
            except UnreplayableError:
                continue
            if new_id is not None:
                out.append(new_id)
        after = letters[-1].entry_id
    return out
