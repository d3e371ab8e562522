"""The invariant checker of the fault-injection tests.

After a scenario, compare what publishers sent with what the store (MongoDB, and
the gateway in front of it) and the dead-letter stream hold, and with the state of
every consumer group:

- every accepted item (a story id) is exactly once in the store or exactly once in
  ``news:dead``, never in both and never in neither;
- the store holds nothing that was not sent, and no story twice (the gateway's
  listing neither: no id on two pages, ``total`` equal to the store's count);
- no group (ingest, enrichment, storage) has pending entries, and every group's
  lag is 0 (computed by :func:`newsflow_tools.status.collect`, since Redis 6.2 has no
  ``lag`` field).

:func:`check` raises ``AssertionError`` naming every violation, so a test polls it
with :func:`tests.helpers.eventually` until the pipeline has settled, and the last
violation is the one reported on failure. :func:`settled` does exactly that.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
import redis as redis_sync

from newsflow import streams
from newsflow.domain.normalise import Rejection, normalise
from newsflow.events import utcnow
from newsflow_tools import status
from tests.helpers import eventually

#: Above this many stored stories the gateway is asked for its total only, not paged
#: through (SecantusDB pays ~50 µs per matching document on every page).
GATEWAY_FULL_LISTING_MAX = 600


def story_id(item: Mapping[str, Any]) -> str:
    """The story id the ingest service will give a publisher's item."""
    return normalise(dict(item), now=utcnow()).id


@dataclass
class DeadEntry:
    service: str
    entry_id: str
    delivery_count: int
    error: str
    story_id: str | None


@dataclass
class Report:
    """What the checker saw when every invariant held."""

    stored: set[str]
    dead: dict[str, DeadEntry]
    groups: dict[str, status.GroupStatus] = field(default_factory=dict)
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __bool__(self) -> bool:  # so that eventually() accepts it
        return True


def dead_letters(redis: redis_sync.Redis) -> list[DeadEntry]:
    """Every entry of ``news:dead``, with the story id of the item it carried."""
    out: list[DeadEntry] = []
    for _, fields in redis.xrange(streams.DEAD):
        letter = orjson.loads(fields[streams.EVENT_FIELD.encode()])
        out.append(
            DeadEntry(
                service=letter["service"],
                entry_id=letter["entry_id"],
                delivery_count=int(letter["delivery_count"]),
                error=letter["error"],
                story_id=_story_of(letter["fields"]),
            )
        )
    return out


def _story_of(fields: Mapping[str, str]) -> str | None:
    """The story id inside a dead entry: an event of ours, or a publisher's item."""
    if streams.EVENT_FIELD in fields:
        event = orjson.loads(fields[streams.EVENT_FIELD])
        item = event.get("item")
        return str(item["id"]) if isinstance(item, dict) and "id" in item else None
    if streams.ITEM_FIELD in fields:
        try:
            return normalise(fields[streams.ITEM_FIELD], now=utcnow()).id
        except Rejection:
            return None
    return None


def group_problems(redis: redis_sync.Redis) -> tuple[list[str], dict[str, status.GroupStatus]]:
    """Violations of "no pending entries, lag 0" in the three worker groups."""
    problems: list[str] = []
    seen: dict[str, status.GroupStatus] = {}
    report = {s.stream: s for s in status.run_sync(redis, status.collect)}
    for stream, group_name in streams.GROUPS.items():
        groups = {g.name: g for g in report[stream].groups}
        group = groups.get(group_name)
        if group is None:
            problems.append(f"{stream}: group {group_name!r} does not exist")
            continue
        seen[group_name] = group
        if group.pending:
            holders = {c.name: c.pending for c in group.consumers if c.pending}
            problems.append(f"{stream}/{group_name}: {group.pending} pending, held by {holders}")
        if group.lag:
            problems.append(f"{stream}/{group_name}: lag {group.lag}")
    return problems, seen


def _gateway_problems(get: Callable[..., httpx.Response], stored: set[str]) -> list[str]:
    problems: list[str] = []
    if len(stored) > GATEWAY_FULL_LISTING_MAX:
        response = get("/v1/items", limit=1)
        if response.status_code != 200:
            return [f"gateway: GET /v1/items answered {response.status_code}"]
        total = int(response.json()["total"])
        if total != len(stored):
            problems.append(f"gateway: total {total}, store holds {len(stored)}")
        return problems
    listed: list[str] = []
    cursor: str | None = None
    total = None
    while True:
        params: dict[str, Any] = {"limit": 100}
        if cursor:
            params["cursor"] = cursor
        response = get("/v1/items", **params)
        if response.status_code != 200:
            return [f"gateway: GET /v1/items answered {response.status_code}: {response.text}"]
        page = response.json()
        total = int(page["total"]) if total is None else total
        listed.extend(i["id"] for i in page["items"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    repeated = sorted(i for i, n in Counter(listed).items() if n > 1)
    if repeated:
        problems.append(f"gateway: listed more than once: {repeated[:10]}")
    if set(listed) != stored:
        problems.append(
            f"gateway: lists {len(set(listed))} stories, store holds {len(stored)}; "
            f"missing {sorted(stored - set(listed))[:5]}, extra {sorted(set(listed) - stored)[:5]}"
        )
    if total != len(stored):
        problems.append(f"gateway: total {total}, store holds {len(stored)}")
    return problems


def check(
    redis: redis_sync.Redis,
    items: Any,
    *,
    sent: Iterable[str],
    expected_dead: Iterable[str] | None = None,
    gateway: Callable[..., httpx.Response] | None = None,
    unique_titles: bool = True,
) -> Report:
    """Assert every delivery invariant once; raise ``AssertionError`` listing violations.

    ``sent``: the story ids of every item a publisher got accepted (repeats allowed:
    pushing one story twice must still give one document). ``items``: the pymongo
    collection. ``expected_dead``: when given, exactly these stories must be
    dead-lettered. ``gateway``: ``Stack.get``, to check the API's view as well.
    ``unique_titles``: the scenario's stories have distinct titles, so two documents
    with one title and day are a duplicate under two ids.
    """
    accepted = set(sent)
    problems: list[str] = []

    docs = {d["_id"]: d for d in items.find({}, {"title": 1, "published_at": 1, "copies": 1})}
    stored = set(docs)
    if unique_titles:
        by_title = Counter((d.get("title"), str(d.get("published_at"))[:10]) for d in docs.values())
        twice = [k for k, n in by_title.items() if n > 1]
        if twice:
            problems.append(f"store: the same story under several ids: {twice[:5]}")

    letters = dead_letters(redis)
    dead_counts = Counter(d.story_id for d in letters)
    dead = {d.story_id: d for d in letters if d.story_id is not None}
    if None in dead_counts:
        problems.append(f"dead letters without a story id: {dead_counts[None]}")
    for sid, n in dead_counts.items():
        if sid is not None and n > 1:
            problems.append(f"dead letters: story {sid} dead-lettered {n} times")

    both = accepted & stored & set(dead)
    if both:
        problems.append(f"{len(both)} stories both stored and dead-lettered: {sorted(both)[:5]}")
    neither = accepted - stored - set(dead)
    if neither:
        problems.append(
            f"{len(neither)} of {len(accepted)} accepted stories neither stored nor dead: "
            f"{sorted(neither)[:5]}"
        )
    extra = (stored | set(dead)) - accepted
    if extra:
        problems.append(
            f"{len(extra)} stories stored or dead that nobody sent: {sorted(extra)[:5]}"
        )
    if expected_dead is not None and set(dead) != set(expected_dead):
        problems.append(
            f"dead letters hold {sorted(dead)}, expected exactly {sorted(set(expected_dead))}"
        )

    group_issues, groups = group_problems(redis)
    problems.extend(group_issues)
    if gateway is not None and not problems:
        problems.extend(_gateway_problems(gateway, stored))

    if problems:
        raise AssertionError("delivery invariants violated:\n  " + "\n  ".join(problems))
    return Report(stored=stored, dead=dead, groups=groups, docs=docs)


def settled(
    redis: redis_sync.Redis,
    items: Any,
    *,
    sent: Iterable[str],
    expected_dead: Iterable[str] | None = None,
    gateway: Callable[..., httpx.Response] | None = None,
    unique_titles: bool = True,
    timeout: float = 30.0,
) -> Report:
    """Poll :func:`check` until it holds; fail with its last violation after ``timeout``."""
    sent = list(sent)
    expected = None if expected_dead is None else list(expected_dead)
    deadline = time.monotonic() + timeout
    # Cheap first: wait on Redis alone until the groups have drained, so that the
    # full check does not load the store while the pipeline is still writing to it.
    with contextlib.suppress(AssertionError):
        eventually(lambda: not group_problems(redis)[0], timeout=timeout, interval=0.2)
    return eventually(
        lambda: check(
            redis,
            items,
            sent=sent,
            expected_dead=expected,
            gateway=gateway,
            unique_titles=unique_titles,
        ),
        timeout=max(deadline - time.monotonic(), 5.0),
        interval=0.25,
    )
