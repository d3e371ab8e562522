"""Invisible titles, a BOM in the newsroom format, and label lists deduplicated by identity.

- A title made only of format characters (Unicode category Cf: ZWSP, ZWJ, BOM, bidi
  marks) is as empty as one made of spaces, and is refused the same way; the
  characters themselves stay in a title that has visible text too.
- The plain-text newsroom format drops one leading byte-order mark, as JSON does.
- Countries, topics and offices are deduplicated by their identity key (case and
  accents folded), keeping the first spelling, before the 50-entry limit is checked,
  so a list means the same whichever format carried it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow.domain.contract import LIMITS, PublisherItem
from newsflow.domain.formats import parse_body
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.normalise import Rejection, normalise
from newsflow.events import ItemIngested, ItemRejected
from newsflow.runtime.worker import Entry
from newsflow_ingest.handlers import ingest_one
from tests.unit.gateway.conftest import Start, assert_problem
from tests.unit.gateway.conftest import start as start  # the in-process gateway fixture

pytestmark = pytest.mark.tools

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
EMPTY_TITLE = [{"field": "title", "message": "must not be empty"}]
INVISIBLE = ["\ufeff", "\u200b", "\u200c", "\u200d", "\u200e\u200f", " \u2060 \ufeff ", "\u00ad"]


def rejection(item: Any) -> list[dict[str, str]]:
    with pytest.raises(Rejection) as refused:
        normalise(item, now=NOW)
    return refused.value.errors


@pytest.mark.parametrize("title", INVISIBLE)
def test_an_invisible_title_is_refused_like_a_blank_one(title: str) -> None:
    assert rejection({"title": "   "}) == EMPTY_TITLE
    assert rejection({"title": title}) == EMPTY_TITLE
    # ... also when markup leaves nothing visible
    assert rejection({"title": f"<b>{title}</b>"})[0]["field"] == "title"


@pytest.mark.parametrize("title", ["\u200b", "\ufeff"])
def test_a_stream_entry_with_an_invisible_title_is_rejected(title: str) -> None:
    text = orjson.dumps({"title": title}).decode()
    done = ingest_one(
        Entry(id="1-0", body={"item": text}, fields={"item": text}, correlation_id="1-0"), now=NOW
    )
    (event,) = done.outputs
    assert isinstance(event, ItemRejected)
    assert event.reason == "title: must not be empty"


async def test_post_items_refuses_an_invisible_title(start: Start) -> None:
    async with start() as gw:
        headers = {"Authorization": f"Bearer {await gw.key('publish')}"}
        response = await gw.client.post("/v1/items", json={"title": "\u200b"}, headers=headers)
        problem = assert_problem(response, 422)
        assert problem["errors"] == EMPTY_TITLE
        assert await gw.fakes.redis.xrange("news:ingest") == []


def test_format_characters_stay_in_a_visible_title() -> None:
    """ZWJ joins letters in some scripts: it is kept, only emptiness looks through it."""
    title = "\u0915\u094d\u200d\u0937 report"  # Devanagari with a zero-width joiner
    from newsflow.domain.text import is_blank

    assert normalise({"title": title}, now=NOW).title == title
    assert not is_blank(title)


def test_invisible_labels_are_empty_labels() -> None:
    for field in ("offices", "topics", "countries"):
        errors = rejection({"title": "T", field: ["\u200b"]})
        assert errors == [{"field": field, "message": "labels must not be empty"}]


def test_is_blank() -> None:
    from newsflow.domain.text import is_blank

    for blank in ("", " \t\n", "\u200b\ufeff\u00ad", " \u200e "):
        assert is_blank(blank)
    for visible in ("a", "\u200ba", "\u0915\u200d"):
        assert not is_blank(visible)


def test_the_newsroom_format_drops_a_leading_bom() -> None:
    text = "\ufeffOSCE opens office\nPublishing date: 7 January 2021\nSummary.\n"
    (parsed,) = parse_newsroom(text).items
    assert parsed.item["title"] == "OSCE opens office"
    result = parse_body(b"\xef\xbb\xbf" + text[1:].encode(), "newsroom")
    assert [p.item["title"] for p in result.items] == ["OSCE opens office"]
    auto = parse_body(b"\xef\xbb\xbf" + text[1:].encode(), name="newsroom.txt")
    assert [p.item["title"] for p in auto.items] == ["OSCE opens office"]


@pytest.mark.parametrize("field", ["countries", "topics", "offices"])
def test_repeats_count_once_in_plain_json(field: str) -> None:
    limit = LIMITS[field]
    item = normalise({"title": "T", field: ["Serbia"] * 10_000}, now=NOW)
    assert getattr(item, field) == ["Serbia"]
    variants = ["Serbia", "SERBIA", "serbia", "Sérbia", "Serbía", " serbia "] * 10
    assert len(variants) > limit
    item = normalise({"title": "T", field: variants}, now=NOW)
    assert getattr(item, field) == ["Serbia"]  # the first spelling
    # more than the limit of distinct entries is still refused
    distinct = [f"Place {i}" for i in range(limit + 1)]
    assert rejection({"title": "T", field: distinct + ["Place 0"] * 100}) == [
        {"field": field, "message": f"at most {limit} entries"}
    ]
    assert len(getattr(normalise({"title": "T", field: distinct[:limit]}, now=NOW), field)) == limit


def test_the_contract_itself_deduplicates() -> None:
    """One place for every door: the contract model, which every format goes through."""
    item = PublisherItem.model_validate({"title": "T", "countries": ["Serbia", "SERBIA, serbia"]})
    assert item.countries == ["Serbia"]


def test_newsml_and_plain_json_agree_on_case_variants() -> None:
    ns = "http://iptc.org/std/nar/2006-10-01/"
    names = ["Serbia", "SERBIA", "serbia", "Sérbia"] * 20
    doc = (
        f'<newsItem xmlns="{ns}" guid="urn:x:1"><contentMeta><headline>T</headline>'
        + "".join(f"<located><name>{n}</name></located>" for n in names)
        + "</contentMeta></newsItem>"
    ).encode()
    (parsed,) = parse_body(doc, "newsml").items
    assert normalise(parsed.item, now=NOW).countries == ["Serbia"]
    assert normalise({"title": "T", "countries": names}, now=NOW).countries == ["Serbia"]


def test_an_ingested_item_keeps_its_first_spelling() -> None:
    text = orjson.dumps({"title": "T", "offices": ["ODIHR", "odihr", "Odihr"]}).decode()
    done = ingest_one(
        Entry(id="1-0", body={"item": text}, fields={"item": text}, correlation_id="1-0"), now=NOW
    )
    (event,) = done.outputs
    assert isinstance(event, ItemIngested)
    assert event.item.offices == ["ODIHR"]
