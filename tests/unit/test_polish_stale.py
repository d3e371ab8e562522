"""Storage says so when it skips a stale copy: one INFO line naming story, entry and revisions.

A copy older than the one stored (a lower ``revision``) never overwrites it, and is
acknowledged without an announcement. An operator asking "why did revision 2 not
show?" must find that in the log, by story id or entry id, like every other line
about an item.
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
from newsflow.events import ItemEnriched, ItemStored
from newsflow.runtime.logs import JsonFormatter
from newsflow.runtime.worker import Done, Entry
from newsflow_storage.handlers import store_batch
from newsflow_storage.repository import InMemoryStoryRepository

NOW = datetime(2026, 11, 26, tzinfo=UTC)
TAGGER = Tagger(load_taxonomy())


def copy(
    revision: int, title: str = "ODIHR opens an observation mission", *, received: int = 0
) -> ItemEnriched:
    """A copy of one story at ``revision``, received ``received`` seconds after NOW."""
    item = normalise(
        {
            "title": title,
            "url": "https://example.org/odihr-mission",
            "offices": ["ODIHR"],
            "revision": revision,
        },
        now=NOW,
        received_at=NOW + timedelta(seconds=received),
    )
    return ItemEnriched(correlation_id=f"c-{revision}", item=item, tags=TAGGER.tag(item))


def entry(event: ItemEnriched, entry_id: str) -> Entry:
    fields = event.to_fields()
    return Entry(id=entry_id, body=fields, fields=fields, correlation_id=entry_id)


class Capture(logging.Handler):
    """What the JSON formatter made of each record, formatted when it was logged."""

    def __init__(self) -> None:
        super().__init__()
        self.setFormatter(JsonFormatter("storage"))
        self.lines: list[dict[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(orjson.loads(self.format(record)))


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


def stale_lines(lines: list[dict[str, str]]) -> list[dict[str, str]]:
    return [line for line in lines if "stale" in line["message"]]


async def test_a_stale_revision_is_skipped_with_one_info_line(
    lines: list[dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    repo = InMemoryStoryRepository()
    newer, older = copy(3, "Corrected headline"), copy(2, received=5)
    assert newer.item.id == older.item.id
    (stored,) = await store_batch([entry(newer, "1700000000000-0")], repo)
    assert isinstance(stored, Done)
    assert isinstance(stored.outputs[0], ItemStored)
    assert stale_lines(lines) == []  # storing a copy is not news

    with caplog.at_level(logging.INFO, logger="newsflow.storage"):
        (skipped,) = await store_batch([entry(older, "1700000000005-0")], repo)
    assert skipped == Done()  # acknowledged, nothing announced
    assert repo.docs[newer.item.id]["title"] == "Corrected headline"  # never overwritten

    (line,) = stale_lines(lines)
    assert line["level"] == "INFO"
    assert line["logger"] == "newsflow.storage"
    assert line["story_id"] == newer.item.id
    assert line["entry_id"] == "1700000000005-0"
    assert "revision 2" in line["message"]
    assert "revision 3" in line["message"]
    (record,) = [r for r in caplog.records if "stale" in r.getMessage()]
    assert record.levelno == logging.INFO


async def test_a_replay_and_a_newer_revision_log_no_stale_line(
    lines: list[dict[str, str]],
) -> None:
    repo = InMemoryStoryRepository()
    await store_batch([entry(copy(2), "1-0")], repo)
    await store_batch([entry(copy(2, received=5), "2-0")], repo)  # the same copy again
    (newer,) = await store_batch([entry(copy(3, "Corrected headline"), "3-0")], repo)
    assert isinstance(newer, Done)
    assert isinstance(newer.outputs[0], ItemStored)
    assert stale_lines(lines) == []


async def test_a_stale_copy_behind_a_newer_one_in_the_same_batch_is_logged(
    lines: list[dict[str, str]],
) -> None:
    """Both new to the store: the bulk-insert path merges them in memory."""
    repo = InMemoryStoryRepository()
    newer, older = copy(5, "Corrected headline"), copy(4, received=5)
    first, second = await store_batch([entry(newer, "1-0"), entry(older, "2-0")], repo)
    assert isinstance(first, Done)
    assert isinstance(first.outputs[0], ItemStored)
    assert second == Done()
    assert repo.docs[newer.item.id]["title"] == "Corrected headline"
    (line,) = stale_lines(lines)
    assert (line["story_id"], line["entry_id"]) == (newer.item.id, "2-0")
    assert "revision 4" in line["message"]
    assert "revision 5" in line["message"]
