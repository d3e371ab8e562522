"""``newsflow push``: read a file of items, check each, and XADD the good ones.

The file's format is found by :func:`newsflow.domain.formats.parse_body`, and the
items go through :func:`newsflow.runtime.enqueue.enqueue`, the same code as
``POST /v1/items``: a bad line is reported to the person pushing, with its line
number, and recorded on ``news:rejected`` like every other rejection. Good items
are sent in pipelined batches while the ingest group keeps up (``max_lag``).

:func:`dry_run` (``newsflow push --dry-run FILE``) runs the same reading and
checking without Redis: each item that would be pushed is printed as one JSON
line, each rejection with its line and reason, so a publisher can check an
export before going live.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal, TextIO

from newsflow.domain.formats import FORMATS, Format, ParseResult, parse_body
from newsflow.events import utcnow
from newsflow.runtime.enqueue import (
    EnqueueReport,
    ReplicaWait,
    check,
    conflicts,
    enqueue,
    wait_for_ingest,
)
from newsflow.runtime.redis_factory import create_redis

Choice = Format | Literal["auto"]
CHOICES: tuple[Choice, ...] = ("auto", *FORMATS)
SERVICE = "push"
#: Said once when the rejections could not be recorded (see EnqueueReport).
NOT_RECORDED = "not recorded on news:rejected: this Redis user may not write there"


def _known_topic() -> Callable[[str], bool]:
    from newsflow.domain.tagging import Tagger
    from newsflow.domain.taxonomy import load_taxonomy

    tagger = Tagger(load_taxonomy())
    return lambda label: tagger.resolve_topic(label) is not None


def parse_file(path: Path, fmt: Choice = "auto") -> ParseResult:
    """Read ``path`` in ``fmt``; raises NotText for a text format that is not UTF-8."""
    data = path.read_bytes()
    return parse_body(data, fmt, name=path.name, known_topic=_known_topic())


async def push_async(
    result: ParseResult,
    redis_url: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_lag: int = 10_000,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    wait: ReplicaWait | None = None,
) -> EnqueueReport:
    """Validate and push parsed items; slow down while the pipeline lags behind."""
    redis = create_redis(redis_url)
    try:
        return await enqueue(
            redis,
            check(result, now=utcnow()),
            service=SERVICE,
            before_batch=wait_for_ingest(redis, max_lag, sleep=sleep),
            progress=progress,
            wait=wait,
        )
    finally:
        await redis.aclose()


def push(
    result: ParseResult,
    redis_url: str,
    *,
    progress: Callable[[int, int], None] | None = None,
    max_lag: int = 10_000,
    wait: ReplicaWait | None = None,
) -> EnqueueReport:
    """:func:`push_async` for the command line."""
    return asyncio.run(push_async(result, redis_url, progress=progress, max_lag=max_lag, wait=wait))


def print_report(report: EnqueueReport, out: TextIO, err: TextIO | None = None) -> None:
    for rejected in report.rejected:
        out.write(f"line {rejected.line}: rejected: {rejected.reason}\n")
    if report.rejected and not report.rejections_recorded:
        (err or out).write(f"newsflow push: {len(report.rejected)} rejection(s) {NOT_RECORDED}\n")
    distinct = len({a.item_id for a in report.accepted})
    out.write(
        f"pushed {len(report.accepted)} items ({distinct} distinct stories), "
        f"rejected {len(report.rejected)}\n"
    )
    if report.unconfirmed:
        missing = report.read - len(report.rejected) - len(report.accepted)
        out.write(
            f"not confirmed: {missing} items, from line {report.unconfirmed[0].line} on: "
            f"{len(report.unconfirmed)} were written on the Redis primary but not confirmed "
            f"by its replicas in time ({report.replicas_acked} confirmed) and may still be "
            "stored; the rest were not sent. Pushing the file again is safe: an item "
            "already stored is recognised by its identity and idempotency key and not "
            "stored twice\n"
        )


def dry_run(result: ParseResult, out: TextIO, err: TextIO) -> tuple[int, int]:
    """Check parsed items as a push would, without Redis: items to ``out``, rejections to ``err``.

    Each item that would be pushed is written to ``out`` as one JSON line, exactly as
    it would go onto ``news:ingest``; each rejection (an unreadable part, an item the
    normaliser refuses, an ``idempotency_key`` used for two stories in the file) to
    ``err`` with its line. Returns (items, rejections). A key that Redis already
    holds for another story is not checked: that needs the server.
    """
    checked = check(result, now=utcnow())
    clashes = conflicts(checked, {})
    clashing = {c.index for c in clashes}
    valid = [v for v in checked.valid if v.index not in clashing]
    for item in valid:
        out.write(item.payload.decode() + "\n")
    rejected = sorted([*checked.rejected, *clashes], key=lambda r: r.line)
    for rejection in rejected:
        err.write(f"line {rejection.line}: rejected: {rejection.reason}\n")
    err.write(f"would push {len(valid)} items, rejected {len(rejected)}\n")
    return len(valid), len(rejected)
