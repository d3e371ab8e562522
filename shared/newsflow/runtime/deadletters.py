"""Dead letters: list them, and replay them onto their source stream after a fix.

A dead letter (``news:dead``) holds the original entry's fields, the service and
group that gave up on it, the delivery count and the last error. Replaying adds
the original fields back to the source stream, where the group reads them as a
new entry, and deletes the dead letter, both in one MULTI/EXEC.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, TextIO

import redis as redis_sync

from newsflow import streams
from newsflow.events import DeadLetter, parse_event


@dataclass(frozen=True)
class Letter:
    entry_id: str
    event: DeadLetter


def _id(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def list_letters(client: redis_sync.Redis, *, count: int = 100, start: str = "-") -> list[Letter]:
    rows: Any = client.xrange(streams.DEAD, min=start, max="+", count=count) or []
    return [
        Letter(
            _id(entry_id),
            parse_event(
                DeadLetter, {streams.EVENT_FIELD: fields[streams.EVENT_FIELD.encode()].decode()}
            ),
        )
        for entry_id, fields in rows
    ]


def retry(client: redis_sync.Redis, entry_ids: Iterable[str] | None = None) -> list[str]:
    """Replay the given dead letters (all when ``entry_ids`` is None). Returns the
    new entry ids on the source streams."""
    wanted = set(entry_ids) if entry_ids is not None else None
    replayed: list[str] = []
    start = "-"
    while True:
        letters = list_letters(client, count=500, start=start)
        if not letters:
            break
        for letter in letters:
            if wanted is not None and letter.entry_id not in wanted:
                continue
            pipe = client.pipeline(transaction=True)
            pipe.xadd(letter.event.source_stream, dict(letter.event.fields))  # type: ignore[arg-type]
            pipe.xdel(streams.DEAD, letter.entry_id)
            new_id, _ = pipe.execute()
            replayed.append(_id(new_id))
        start = "(" + letters[-1].entry_id
    return replayed


def print_letters(letters: list[Letter], out: TextIO) -> None:
    if not letters:
        out.write("no dead letters\n")
        return
    for letter in letters:
        e = letter.event
        out.write(
            f"{letter.entry_id}  {e.service}  {e.source_stream} entry {e.entry_id}  "
            f"deliveries {e.delivery_count}  at {e.occurred_at:%Y-%m-%d %H:%M:%S}Z\n"
            f"    error: {e.error}\n"
        )
    out.write(f"{len(letters)} dead letter(s)\n")
