"""One leading UTF-8 byte-order mark is read through on JSON, as it already is on XML.

Editors on Windows write ``EF BB BF`` at the start of a file; an XML body with it
was always read, a JSON one was refused as "not valid JSON". Every door reads it
the same way now: ``POST /v1/items``, the ``item`` field of a ``news:ingest``
entry, and ``newsflow push FILE``. Only one mark, and only at the start: anything
else that is not JSON is still refused with a reason.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow.domain.formats import NotText, parse_body, sniff
from newsflow.domain.normalise import Rejection, decode_entry, normalise
from newsflow.events import ItemIngested, ItemRejected
from newsflow.runtime.worker import Entry
from newsflow_ingest.handlers import ingest_one
from newsflow_tools.push import parse_file
from tests.unit.gateway.conftest import Start, assert_problem
from tests.unit.gateway.conftest import start as start  # the in-process gateway fixture

pytestmark = pytest.mark.tools

NOW = datetime(2026, 11, 26, tzinfo=UTC)
BOM = b"\xef\xbb\xbf"
ITEM: dict[str, Any] = {"title": "ODIHR opens an observation mission", "offices": ["ODIHR"]}
OTHER: dict[str, Any] = {"title": "HCNM visits Kyrgyzstan", "offices": ["HCNM"]}
NINJS = {"uri": "urn:x:1", "headlines": [{"value": "HCNM visits Kyrgyzstan"}]}
NEWS_ITEM = (
    b"<newsItem guid='urn:x:1'><contentMeta><headline>HCNM visits Kyrgyzstan</headline>"
    b"</contentMeta></newsItem>"
)


def titles(data: bytes, fmt: Any = "auto", name: str | None = None) -> list[str]:
    result = parse_body(data, fmt, name=name)
    assert result.errors == []
    return [parsed.item["title"] for parsed in result.items]


def test_xml_with_a_bom_was_always_read() -> None:
    """The behaviour JSON now matches."""
    assert titles(BOM + NEWS_ITEM) == ["HCNM visits Kyrgyzstan"]


@pytest.mark.parametrize(
    ("body", "fmt", "expected"),
    [
        (orjson.dumps(ITEM), "json", [ITEM["title"]]),
        (orjson.dumps([ITEM, OTHER]), "json", [ITEM["title"], OTHER["title"]]),
        (
            orjson.dumps(ITEM) + b"\n" + orjson.dumps(OTHER),
            "jsonl",
            [ITEM["title"], OTHER["title"]],
        ),
        (orjson.dumps(NINJS), "ninjs", ["HCNM visits Kyrgyzstan"]),
        (orjson.dumps([NINJS]), "ninjs", ["HCNM visits Kyrgyzstan"]),
    ],
)
def test_json_formats_read_through_one_leading_bom(
    body: bytes, fmt: str, expected: list[str]
) -> None:
    assert titles(BOM + body, fmt) == expected
    # ... and sniffing sees the same format as without the mark
    assert titles(BOM + body) == titles(body)
    assert sniff(BOM + body) == sniff(body)


@pytest.mark.parametrize("name", ["items.json", "items.jsonl", "story.json", None])
def test_sniffing_sees_through_the_bom(name: str | None) -> None:
    for body in (orjson.dumps(ITEM), orjson.dumps([ITEM]), orjson.dumps(NINJS)):
        assert sniff(BOM + body, name) == sniff(body, name)


def test_only_one_leading_bom_and_other_bad_bytes_are_still_refused() -> None:
    two = parse_body(BOM + BOM + orjson.dumps(ITEM), "json")
    assert two.items == []
    assert two.errors[0].message.startswith("not valid JSON")
    inside = parse_body(b"[" + BOM + orjson.dumps(ITEM) + b"]", "json")
    assert inside.items == []
    assert inside.errors[0].message.startswith("not valid JSON")
    # a UTF-16 mark is not UTF-8 text at all
    with pytest.raises(NotText):
        parse_body(b"\xff\xfe" + orjson.dumps(ITEM).decode().encode("utf-16-le"), "json")
    # JSON Lines: the mark counts only at the start of the body, not of each line
    lines = parse_body(orjson.dumps(ITEM) + b"\n" + BOM + orjson.dumps(OTHER), "jsonl")
    assert [p.item["title"] for p in lines.items] == [ITEM["title"]]
    assert lines.errors[0].line == 2
    assert lines.errors[0].message.startswith("not valid JSON")


def test_a_stream_entry_item_field_with_a_bom_is_ingested() -> None:
    text = "\ufeff" + orjson.dumps(ITEM).decode()
    assert decode_entry({"item": text}) == ITEM
    assert decode_entry(BOM + orjson.dumps(ITEM)) == ITEM
    done = ingest_one(
        Entry(id="1-0", body={"item": text}, fields={"item": text}, correlation_id="1-0"), now=NOW
    )
    event = done.outputs[0]
    assert isinstance(event, ItemIngested)
    assert event.item == normalise(ITEM, now=NOW, received_at=NOW)


def test_a_stream_entry_with_two_boms_is_rejected_with_a_reason() -> None:
    text = "\ufeff\ufeff" + orjson.dumps(ITEM).decode()
    with pytest.raises(Rejection) as refused:
        decode_entry({"item": text})
    assert refused.value.errors[0]["field"] == "item"
    assert refused.value.errors[0]["message"].startswith("not valid JSON")
    done = ingest_one(
        Entry(id="1-0", body={"item": text}, fields={"item": text}, correlation_id="1-0"), now=NOW
    )
    assert isinstance(done.outputs[0], ItemRejected)
    assert done.outputs[0].reason.startswith("item: not valid JSON")


LINES = orjson.dumps(ITEM) + b"\n" + orjson.dumps(OTHER) + b"\n"


@pytest.mark.parametrize(
    ("name", "body"),
    [
        ("items.json", orjson.dumps([ITEM, OTHER])),
        ("items.jsonl", LINES),
        ("export.txt", LINES),
        ("export.txt", orjson.dumps([ITEM, OTHER])),
    ],
)
def test_push_reads_a_file_saved_with_a_bom(tmp_path: Path, name: str, body: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(BOM + body)
    result = parse_file(path)
    assert result.errors == []
    assert [p.item["title"] for p in result.items] == [ITEM["title"], OTHER["title"]]


def test_push_reads_a_ninjs_file_saved_with_a_bom(tmp_path: Path) -> None:
    path = tmp_path / "story.json"
    path.write_bytes(BOM + orjson.dumps(NINJS))
    result = parse_file(path)
    assert result.errors == []
    assert [p.item["title"] for p in result.items] == ["HCNM visits Kyrgyzstan"]


@pytest.mark.parametrize(
    ("media_type", "body", "expected"),
    [
        ("application/json", orjson.dumps(ITEM), [ITEM["title"]]),
        ("application/json", orjson.dumps([ITEM, OTHER]), [ITEM["title"], OTHER["title"]]),
        (
            "application/x-ndjson",
            orjson.dumps(ITEM) + b"\n" + orjson.dumps(OTHER),
            [ITEM["title"], OTHER["title"]],
        ),
        ("application/ninjs+json", orjson.dumps(NINJS), ["HCNM visits Kyrgyzstan"]),
    ],
)
async def test_post_items_reads_a_json_body_with_a_bom(
    start: Start, media_type: str, body: bytes, expected: list[str]
) -> None:
    async with start() as gw:
        headers = {
            "Authorization": f"Bearer {await gw.key('publish')}",
            "Content-Type": media_type,
        }
        response = await gw.client.post("/v1/items", content=BOM + body, headers=headers)
        assert response.status_code == 202, response.text
        entries = await gw.fakes.redis.xrange("news:ingest")
        assert [orjson.loads(fields[b"item"])["title"] for _id, fields in entries] == expected


async def test_post_items_still_refuses_other_bad_bytes(start: Start) -> None:
    async with start() as gw:
        headers = {
            "Authorization": f"Bearer {await gw.key('publish')}",
            "Content-Type": "application/json",
        }
        two = BOM + BOM + orjson.dumps(ITEM)
        problem = assert_problem(
            await gw.client.post("/v1/items", content=two, headers=headers), 422
        )
        assert problem["errors"][0]["message"].startswith("not valid JSON")
        latin = b"\xff" + orjson.dumps(ITEM)
        problem = assert_problem(
            await gw.client.post("/v1/items", content=latin, headers=headers), 400
        )
        assert "not UTF-8" in problem["detail"]
        assert await gw.fakes.redis.xrange("news:ingest") == []
