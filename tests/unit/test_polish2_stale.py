"""The "skipped a stale copy" line names the news:ingest entry and prints times as times.

Publishers know their item by the entry id ``news:ingest`` gave it; the line's
``entry_id`` is the storage worker's own (``news:enriched``) entry. The event's
correlation id is the ingest entry id, so the line names it. A revision taken from
``updated_at`` (microseconds since 1970) is printed as the time it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.events import ItemEnriched
from newsflow.runtime.worker import Done, Entry
from newsflow_enrichment.handlers import enrich_one
from newsflow_ingest.handlers import ingest_one
from newsflow_storage.handlers import store_batch
from newsflow_storage.repository import InMemoryStoryRepository
from tests.unit.test_polish_stale import Capture, entry, stale_lines

NOW = datetime(2026, 11, 26, tzinfo=UTC)
TAGGER = Tagger(load_taxonomy())


def copy(
    ingest_id: str, *, revision: int | None = None, updated: str | None = None, received: int = 0
) -> ItemEnriched:
    raw: dict[str, object] = {"title": "ODIHR opens a mission", "url": "https://example.org/m"}
    if revision is not None:
        raw["revision"] = revision
    if updated is not None:
        raw["updated_at"] = updated
    item = normalise(raw, now=NOW, received_at=NOW + timedelta(seconds=received))
    return ItemEnriched(correlation_id=ingest_id, item=item, tags=TAGGER.tag(item))


@pytest.fixture
def lines() -> Iterator[list[dict[str, str]]]:
    capture = Capture()
    logger = logging.getLogger("newsflow.storage")
    old = logger.level
    logger.addHandler(capture)
    logger.setLevel(logging.INFO)
    yield capture.lines
    logger.removeHandler(capture)
    logger.setLevel(old)


async def test_the_line_names_the_ingest_entry(lines: list[dict[str, str]]) -> None:
    repo = InMemoryStoryRepository()
    await store_batch([entry(copy("1700000000000-0", revision=3), "1800000000000-0")], repo)
    older = copy("1700000000005-0", revision=2, received=5)
    await store_batch([entry(older, "1800000000005-0")], repo)
    (line,) = stale_lines(lines)
    assert line["entry_id"] == "1800000000005-0"  # the news:enriched entry, as every line
    assert "(news:ingest entry 1700000000005-0)" in line["message"]
    assert "revision 2 " in line["message"]
    assert line["message"].endswith("stored revision 3")


async def test_an_event_made_by_a_tool_names_its_correlation_id(
    lines: list[dict[str, str]],
) -> None:
    repo = InMemoryStoryRepository()
    await store_batch([entry(copy("1-0", revision=3), "10-0")], repo)
    await store_batch([entry(copy("reenrich:2:abc", revision=2, received=5), "11-0")], repo)
    (line,) = stale_lines(lines)
    assert "(correlation id reenrich:2:abc)" in line["message"]
    assert "news:ingest" not in line["message"]


async def test_the_ingest_id_survives_ingest_and_enrichment(lines: list[dict[str, str]]) -> None:
    """The real path: the id news:ingest gave the item is the one the line names."""
    repo = InMemoryStoryRepository()
    for ingest_id, enriched_id, revision in (("5-0", "50-0", 3), ("6-0", "60-0", 2)):
        raw = orjson.dumps(
            {"title": "ODIHR opens a mission", "url": "https://example.org/m", "revision": revision}
        ).decode()
        ingested = ingest_one(
            Entry(id=ingest_id, body={"item": raw}, fields={"item": raw}, correlation_id=ingest_id),
            now=NOW,
        ).outputs[0]
        fields = ingested.to_fields()
        outcome, _ = enrich_one(
            Entry(id=f"{ingest_id}x", body=fields, fields=fields, correlation_id=ingest_id),
            TAGGER,
        )
        assert isinstance(outcome, Done)
        (enriched,) = outcome.outputs
        assert isinstance(enriched, ItemEnriched)
        await store_batch([entry(enriched, enriched_id)], repo)
    (line,) = stale_lines(lines)
    assert line["entry_id"] == "60-0"
    assert "(news:ingest entry 6-0)" in line["message"]


@pytest.mark.parametrize("bulk", [False, True])
async def test_a_revision_from_updated_at_is_printed_as_a_time(
    lines: list[dict[str, str]], bulk: bool
) -> None:
    repo = InMemoryStoryRepository()
    newer = copy("1-0", updated="2021-05-04T10:00:00Z")
    older = copy("2-0", updated="2021-05-04T09:30:00.123456Z", received=5)
    if bulk:  # both new to the store: merged in memory
        await store_batch([entry(newer, "10-0"), entry(older, "11-0")], repo)
    else:
        await store_batch([entry(newer, "10-0")], repo)
        await store_batch([entry(older, "11-0")], repo)
    (line,) = stale_lines(lines)
    message = line["message"]
    assert "1620122400000000" not in message
    assert "revision 2021-05-04T09:30:00.123456Z (updated_at)" in message
    assert message.endswith("stored revision 2021-05-04T10:00:00Z (updated_at)")
