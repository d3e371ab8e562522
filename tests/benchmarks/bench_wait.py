"""What waiting for a replica (WAIT) costs the accepting path.

Run with ``.venv/bin/python -m tests.benchmarks.bench_wait`` from the repository
root. It starts a primary and one replica (the redis-server the tests use) and times
:func:`newsflow.runtime.enqueue.enqueue`, the code behind ``newsflow push`` and
``POST /v1/items``, without and with ``WAIT 1``:

- ``push``: batches of 500 items, as ``newsflow push`` sends them;
- ``post``: one item per call in a MULTI, as a gateway request with one item.

Each case runs ``--runs`` times; the median and the spread (min to max) are printed.
Not a test (pytest does not collect it). Items are validated before timing starts,
so only the Redis round trips are measured.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from tests.redis_ha import deployment

from newsflow.domain.formats.common import ParsedItem, ParseResult
from newsflow.events import utcnow
from newsflow.runtime.enqueue import Checked, ReplicaWait, check, enqueue
from newsflow.runtime.redis_factory import create_redis


def checked(n: int) -> Checked:
    return check(
        ParseResult(
            items=[
                ParsedItem(
                    i + 1,
                    {"title": f"Bench story {i}", "published_at": "2021-02-01", "source": "B"},
                )
                for i in range(n)
            ]
        ),
        now=utcnow(),
    )


async def rate(url: str, items: Checked, *, per_call: int, wait: ReplicaWait | None) -> float:
    """Items per second through enqueue, ``per_call`` items a call."""
    redis = create_redis(url)
    try:
        await redis.flushall()
        calls = [
            Checked(valid=items.valid[i : i + per_call])
            for i in range(0, len(items.valid), per_call)
        ]
        started = time.perf_counter()
        for call in calls:
            report = await enqueue(
                redis,
                call,
                service="bench",
                atomic=per_call == 1,
                wait=wait,
                record_rejections=False,
            )
            if report.unconfirmed:
                raise RuntimeError("the replica did not confirm in time")
        return len(items.valid) / (time.perf_counter() - started)
    finally:
        await redis.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20_000, help="items per push run")
    parser.add_argument("--posts", type=int, default=2_000, help="single-item calls per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    push_items, post_items = checked(args.items), checked(args.posts)
    with tempfile.TemporaryDirectory() as tmp, deployment(Path(tmp), replicas=1) as pair:
        print(f"enqueue to a primary with one replica, {args.runs} runs each (items/s)")
        for name, items, per_call in (("push", push_items, 500), ("post", post_items, 1)):
            for wait in (None, ReplicaWait(1, 1_000)):
                rates = [
                    asyncio.run(rate(pair.primary.url, items, per_call=per_call, wait=wait))
                    for _ in range(args.runs)
                ]
                label = "WAIT 1" if wait else "no WAIT"
                print(
                    f"  {name:<5} {label:<8} median {statistics.median(rates):>9,.0f}  "
                    f"(min {min(rates):,.0f}, max {max(rates):,.0f})"
                )


if __name__ == "__main__":
    main()
