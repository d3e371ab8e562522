"""Merging copies of a story: union of offices, idempotent replays, revisions."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime

from newsflow.domain.items import NewsItem
from newsflow.domain.normalise import normalise
from newsflow.domain.tags import Evidence, Tag, Tags
from newsflow_storage.merge import merge
from newsflow_storage.repository import InMemoryStoryRepository, store_copy

NOW = datetime(2026, 11, 26, tzinfo=UTC)
TITLE = "OSCE holds online training on asset recovery for criminal justice practitioners"


def copy(
    offices: list[str],
    *,
    summary: str = "Short.",
    revision: int | None = None,
    received: datetime = NOW,
) -> NewsItem:
    raw: dict[str, object] = {
        "title": TITLE,
        "published_at": "7 January 2021",
        "offices": offices,
        "summary": summary,
    }
    if revision is not None:
        raw["revision"] = revision
    return normalise(raw, now=NOW, received_at=received)


def tags_for(office_ids: list[str], topic: str = "economic-activities") -> Tags:
    return Tags(
        taxonomy_version="test-1",
        offices=[
            Tag(
                id=o,
                name=o.upper(),
                source="declared",
                confidence=1.0,
                label=o,
                evidence=[Evidence(field="declared", text=o)],
            )
            for o in office_ids
        ],
        topics=[
            Tag(
                id=topic,
                name=topic,
                source="inferred",
                confidence=0.7,
                evidence=[Evidence(field="title", text="asset recovery", start=40, end=54)],
            )
        ],
    )


def test_two_copies_are_one_story_with_the_union_of_offices() -> None:
    a = copy(["OCEEA", "OSCE Secretariat"])
    b = copy(["TNTD", "OSCE Secretariat"], summary="A longer summary of the same story.")
    doc = merge(a.id, None, a, tags_for(["oceea", "secretariat"]))
    assert doc is not None
    doc = merge(a.id, doc, b, tags_for(["tntd", "secretariat"]))
    assert doc is not None
    assert doc["office_ids"] == ["oceea", "secretariat", "tntd"]
    assert doc["summary"] == "A longer summary of the same story."
    assert len(doc["copies"]) == 2
    assert doc["_v"] == 2


def test_replay_changes_nothing() -> None:
    a = copy(["OCEEA"])
    doc = merge(a.id, None, a, tags_for(["oceea"]))
    assert merge(a.id, doc, a, tags_for(["oceea"])) is None


def test_order_of_copies_does_not_matter() -> None:
    a, b = copy(["OCEEA"]), copy(["TNTD"], summary="Longer summary here.")
    ta, tb = tags_for(["oceea"]), tags_for(["tntd"], topic="policing")
    ab = merge(a.id, merge(a.id, None, a, ta), b, tb)
    ba = merge(a.id, merge(a.id, None, b, tb), a, ta)
    assert ab is not None
    assert ba is not None
    assert {k: v for k, v in ab.items() if k != "_v"} == {k: v for k, v in ba.items() if k != "_v"}


def test_older_revision_never_overwrites_newer() -> None:
    newer = copy(["OCEEA"], summary="Revision 3", revision=3)
    older = copy(["OCEEA"], summary="Revision 1", revision=1)
    doc = merge(newer.id, None, newer, tags_for(["oceea"]))
    assert merge(newer.id, doc, older, tags_for(["oceea"])) is None
    assert doc is not None
    assert doc["summary"] == "Revision 3"


def test_concurrent_writers_keep_every_copy() -> None:
    """Many copies stored concurrently through the optimistic-concurrency loop."""
    repo = InMemoryStoryRepository()
    offices = [f"Office {n}" for n in range(12)]
    copies = [(copy([o]), tags_for([f"o{n}"])) for n, o in enumerate(offices)]

    async def writer(item: NewsItem, tags: Tags) -> None:
        await asyncio.sleep(random.random() / 100)
        await store_copy(repo, item, tags)

    async def main() -> None:
        await asyncio.gather(*(writer(i, t) for i, t in copies))

    asyncio.run(main())
    (doc,) = repo.docs.values()
    assert doc["office_ids"] == sorted(f"o{n}" for n in range(12))


def test_the_same_copy_pushed_again_later_changes_nothing() -> None:
    first = copy(["OCEEA"])
    again = copy(["OCEEA"], received=datetime(2026, 11, 27, tzinfo=UTC))
    doc = merge(first.id, None, first, tags_for(["oceea"]))
    assert merge(first.id, doc, again, tags_for(["oceea"])) is None
    corrected = copy(["OCEEA"], summary="Corrected.", received=datetime(2026, 11, 27, tzinfo=UTC))
    updated = merge(first.id, doc, corrected, tags_for(["oceea"]))
    assert updated is not None
    assert updated["summary"] == "Corrected."
