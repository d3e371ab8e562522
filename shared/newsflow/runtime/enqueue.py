"""Validate, then XADD: how every front door puts publishers' items on ``news:ingest``.

``newsflow push`` and ``POST /v1/items`` both come here, in two steps:

1. :func:`check` (pure CPU, so the gateway runs it off the event loop) normalises
   each parsed item with the ingest service's own normaliser, so a bad item is
   answered to whoever sent it instead of surfacing later on ``news:rejected``.
2. :func:`enqueue` asks Redis whether an item reuses an ``idempotency_key`` for a
   different story (a conflict; see :mod:`newsflow.runtime.idempotency`), records
   rejections on ``news:rejected`` when asked to, and XADDs the valid items in the
   plain publisher form (``item=<json>``), pipelined, exactly as any publisher
   would. ``before_batch`` runs before each batch goes out: that is where push
   waits for a lagging pipeline and the gateway answers 503.

With ``atomic`` (the gateway) nothing is sent when anything was rejected, and the
whole batch goes in one MULTI: all or nothing.

**Waiting for a replica.** Redis replicates asynchronously: an XADD the primary
answered can still be lost if the primary dies before a replica has it. With a
:class:`ReplicaWait` (settings ``redis_wait_replicas``/``redis_wait_timeout_ms``)
each batch is followed, on the same connection, by ``WAIT numreplicas timeout``.
A batch the replicas did not confirm in time is reported ``unconfirmed`` and
nothing more is sent: the gateway answers 503, push counts those items as not
confirmed. WAIT cannot undo a write: they are on the primary and may still be
stored; sending them again is safe (a stored item's identity and idempotency key
make the repeat a no-op).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import orjson
from redis.asyncio import Redis
from redis.exceptions import NoPermissionError, ResponseError

from newsflow import streams
from newsflow.domain.formats.common import ParseResult
from newsflow.domain.items import NewsItem
from newsflow.domain.normalise import Rejection, normalise
from newsflow.events import FieldError, ItemRejected, payload_echo
from newsflow.runtime import idempotency, tracing
from newsflow.runtime.codec import text
from newsflow.runtime.idempotency import CONFLICT_MESSAGE, Verdict
from newsflow.runtime.lag import group_state

#: Items per pipelined XADD round trip when not atomic.
BATCH: Final = 500
#: Largest original payload copied into a rejection event (as ingest does).
INGEST_GROUP: Final = streams.GROUPS[streams.INGEST]


@dataclass(frozen=True)
class Valid:
    """An item that passed the normaliser: its position, line, normal form and payload."""

    index: int
    line: int
    item: NewsItem
    payload: bytes


@dataclass(frozen=True)
class Rejected:
    """An item (or an unreadable part of the body) that will not be enqueued, and why.

    ``index`` is the item's position among the parsed items; None for a part of the
    body no item could be read from (then ``line`` is where it was).
    """

    line: int
    reason: str
    errors: tuple[FieldError, ...] = ()
    index: int | None = None
    payload: str = ""
    conflict: bool = False


@dataclass
class Checked:
    valid: list[Valid] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def read(self) -> int:
        return len(self.valid) + len(self.rejected)


@dataclass(frozen=True)
class Enqueued:
    index: int
    line: int
    item_id: str
    entry_id: str


@dataclass(frozen=True)
class ReplicaWait:
    """Wait after each batch until ``replicas`` replicas have it, at most ``timeout_ms``."""

    replicas: int
    timeout_ms: int

    @classmethod
    def from_settings(cls, replicas: int, timeout_ms: int) -> ReplicaWait | None:
        """None (do not wait) when no replica is asked for."""
        return cls(replicas, timeout_ms) if replicas > 0 else None


@dataclass
class EnqueueReport:
    read: int = 0
    accepted: list[Enqueued] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    #: Written to the primary but not confirmed by enough replicas in time.
    unconfirmed: list[Enqueued] = field(default_factory=list)
    #: How many replicas confirmed the last batch (None: no wait was asked for).
    replicas_acked: int | None = None
    #: False when the rejections could not be put on news:rejected: the Redis user may
    #: not write there (a publisher's ACL user may only XADD news:ingest).
    rejections_recorded: bool = True

    @property
    def conflicts(self) -> list[Rejected]:
        return [r for r in self.rejected if r.conflict]


def check(result: ParseResult, *, now: datetime, source: str | None = None) -> Checked:
    """Normalise every parsed item (``source``, if given, overrides each item's own).

    Pure and CPU-bound: no I/O, never raises on bad input.
    """
    checked = Checked()
    for error in result.errors:
        checked.rejected.append(
            Rejected(
                line=error.line, reason=error.message, payload=payload_echo({"line": error.line})
            )
        )
    for index, parsed in enumerate(result.items):
        raw = parsed.item if source is None else {**parsed.item, "source": source}
        try:
            item = normalise(raw, now=now)
        except Rejection as rejection:
            checked.rejected.append(
                Rejected(
                    line=parsed.line,
                    reason=rejection.reason,
                    errors=tuple(FieldError(**e) for e in rejection.errors),
                    index=index,
                    payload=payload_echo({streams.ITEM_FIELD: orjson.dumps(raw).decode()}),
                )
            )
            continue
        checked.valid.append(Valid(index, parsed.line, item, orjson.dumps(raw)))
    checked.rejected.sort(key=lambda r: r.line)
    return checked


def conflicts(checked: Checked, held: dict[str, idempotency.Remembered]) -> list[Rejected]:
    """Valid items whose ``idempotency_key`` holds another story, here or in Redis."""
    out: list[Rejected] = []
    first: dict[str, idempotency.Remembered] = {}
    for valid in checked.valid:
        key = idempotency.item_key(valid.item)
        if key is None:
            continue
        stored = held.get(key) or first.get(key)
        first.setdefault(key, idempotency.Remembered(idempotency.fingerprint(valid.item), "-"))
        if idempotency.verdict(valid.item, stored) is not Verdict.CONFLICT:
            continue
        message = CONFLICT_MESSAGE
        if stored and stored.story_id:
            message += f" (story {stored.story_id})"
        out.append(
            Rejected(
                line=valid.line,
                reason=f"idempotency_key: {message}",
                errors=(FieldError(field="idempotency_key", message=message),),
                index=valid.index,
                payload=payload_echo({streams.ITEM_FIELD: valid.payload.decode()}),
                conflict=True,
            )
        )
    return out


async def record(redis: Redis, rejected: Sequence[Rejected], *, service: str) -> None:
    """Put each rejection on ``news:rejected``, like ingest's own, so none is only printed."""
    if not rejected:
        return
    run = f"{service}:{uuid.uuid4().hex}"
    pipe = redis.pipeline(transaction=False)
    for r in rejected:
        event = ItemRejected(
            correlation_id=run,
            reason=r.reason,
            errors=list(r.errors),
            payload=r.payload,
            ingest_entry_id="",
            service=service,
        )
        pipe.xadd(streams.REJECTED, event.to_fields())  # type: ignore[arg-type]
    await pipe.execute()


async def send(
    redis: Redis, payloads: Sequence[bytes], *, atomic: bool, wait: ReplicaWait | None
) -> tuple[list[str], int | None]:
    """XADD ``payloads`` to news:ingest in one round trip; their ids, and the replicas
    that confirmed them when ``wait`` is given.

    WAIT counts the writes of the connection it is sent on, so it has to follow the
    XADDs on that connection: one plain pipeline holds MULTI, the XADDs, EXEC and
    WAIT (inside a MULTI, WAIT would not wait).
    """
    pipe = redis.pipeline(transaction=False)
    if atomic:
        pipe.execute_command("MULTI")
    # The publish request's trace context, when there is one, travels with the items.
    traced = tracing.entry_fields()
    for payload in payloads:
        pipe.xadd(streams.INGEST, {streams.ITEM_FIELD: payload, **traced})
    if atomic:
        pipe.execute_command("EXEC")
    if wait is not None:
        pipe.execute_command("WAIT", wait.replicas, wait.timeout_ms)
    replies: list[Any] = await pipe.execute()
    acked = int(replies.pop()) if wait is not None else None
    ids: list[Any] = replies[-1] if atomic else replies
    for reply in ids:
        if isinstance(reply, Exception):
            raise reply
    return [text(i) for i in ids], acked


async def enqueue(
    redis: Redis,
    checked: Checked,
    *,
    service: str,
    atomic: bool = False,
    record_rejections: bool = True,
    before_batch: Callable[[], Awaitable[None]] | None = None,
    progress: Callable[[int, int], None] | None = None,
    wait: ReplicaWait | None = None,
) -> EnqueueReport:
    """Send the valid items of ``checked`` to ``news:ingest``; see the module docstring."""
    held = await idempotency.recall(
        redis, [k for v in checked.valid if (k := idempotency.item_key(v.item))]
    )
    clashes = conflicts(checked, held)
    clashing = {r.index for r in clashes}
    report = EnqueueReport(
        read=checked.read, rejected=sorted([*checked.rejected, *clashes], key=lambda r: r.line)
    )
    if record_rejections:
        # Best effort: the sender is told of each rejection anyway; a user that may
        # only XADD news:ingest must still get its good items through.
        try:
            await record(redis, report.rejected, service=service)
        except NoPermissionError:
            report.rejections_recorded = False
    if atomic and report.rejected:
        return report
    valid = [v for v in checked.valid if v.index not in clashing]
    size = len(valid) if atomic else BATCH
    for start in range(0, len(valid), max(size, 1)):
        batch = valid[start : start + size]
        if before_batch:
            await before_batch()
        ids, report.replicas_acked = await send(
            redis, [v.payload for v in batch], atomic=atomic, wait=wait
        )
        sent = [Enqueued(v.index, v.line, v.item.id, i) for v, i in zip(batch, ids, strict=True)]
        if wait is not None and (report.replicas_acked or 0) < wait.replicas:
            report.unconfirmed.extend(sent)
            break
        report.accepted.extend(sent)
        if progress:
            progress(len(report.accepted), len(valid))
    return report


async def ingest_lag(redis: Redis) -> int:
    """How many entries of ``news:ingest`` the ingest group has not read; 0 if none exist."""
    try:
        state = await group_state(redis, streams.INGEST, INGEST_GROUP)
    except ResponseError:  # no stream yet: nothing is waiting
        return 0
    return state[0] if state else 0


def wait_for_ingest(
    redis: Redis,
    max_lag: int,
    *,
    timeout_s: float = 300,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    interval_s: float = 0.5,
) -> Callable[[], Awaitable[None]]:
    """A ``before_batch`` that waits while ingest lags more than ``max_lag`` (0: never).

    After ``timeout_s`` of waiting in a row it sends anyway: a push is never refused.
    """

    async def wait() -> None:
        waited = 0.0
        while max_lag and waited < timeout_s and await ingest_lag(redis) > max_lag:
            await sleep(interval_s)
            waited += interval_s

    return wait
