"""One dispatcher picks the parser for every door; checking items before sending."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow.domain.formats import NotText, ParseResult, media_format, parse_body, sniff
from newsflow.domain.formats.common import ParsedItem, ParseError
from newsflow.runtime.enqueue import Checked, check, conflicts
from newsflow.runtime.idempotency import Remembered, claim_value, item_key
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.routes.publish import media_type_format
from newsflow_tools.push import parse_file
from tests.conftest import SAMPLE
from tests.unit.gateway.conftest import Start, assert_problem
from tests.unit.gateway.conftest import start as start  # the in-process gateway fixture

pytestmark = pytest.mark.tools

NOW = datetime(2026, 11, 26, tzinfo=UTC)
RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>OSCE</title>'
    "<item><title>ODIHR statement</title><category>Elections</category>"
    "<category>Cats</category></item></channel></rss>"
)
NINJS = '{"uri": "urn:x:1", "headlines": [{"value": "HCNM visits Kyrgyzstan"}]}'
NEWS_ITEM = (
    '<?xml version="1.0"?>\n<!-- exported -->\n<g2:newsItem guid="urn:x:1" version="2" '
    'xmlns:g2="http://iptc.org/std/nar/2006-10-01/"><g2:contentMeta>'
    "<g2:headline>HCNM visits Kyrgyzstan</g2:headline></g2:contentMeta></g2:newsItem>"
)
NEWS_MESSAGE = (
    "<newsMessage><itemSet><newsItem guid='a'><contentMeta><headline>One</headline>"
    "</contentMeta></newsItem><newsItem guid='b'><contentMeta><headline>Two</headline>"
    "</contentMeta></newsItem></itemSet></newsMessage>"
)
NITF = (
    "<?xml-stylesheet href='x.xsl'?><nitf><body><body.head><hedline><hl1>ODIHR opens a mission"
    "</hl1></hedline></body.head></body></nitf>"
)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("sample.txt", SAMPLE.read_text(encoding="utf-8"), "newsroom"),
        ("items.jsonl", '{"title": "a"}\n{"title": "b"}\n', "jsonl"),
        ("items.json", '[{"title": "a"}]', "json"),
        ("items.data", '{"title": "a"}', "jsonl"),
        ("items.data", '[{"title": "a"}]', "json"),
        ("feed.xml", RSS, "feed"),
        ("feed.data", RSS, "feed"),
        ("story.json", NINJS, "ninjs"),
        (None, RSS, "feed"),
        (None, NINJS, "ninjs"),
        ("item.xml", NEWS_ITEM, "newsml"),
        ("message.json", NEWS_MESSAGE, "newsml"),
        (None, NITF, "nitf"),
        ("story.xml", NITF, "nitf"),
        ("story.nitf", "<broken", "nitf"),
        ("other.xml", "<html/>", "feed"),
        (None, "<!-- unterminated", "newsroom"),
    ],
)
def test_sniff(name: str | None, text: str, expected: str) -> None:
    assert sniff(text.encode(), name) == expected


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("application/json; charset=utf-8", "json"),
        ("Application/RSS+XML", "feed"),
        ("text/plain", "newsroom"),
        ("application/x-ndjson", "jsonl"),
        ("application/vnd.iptc.g2.newsitem+xml", "newsml"),
        ("application/vnd.iptc.g2.newsmessage+xml; charset=utf-8", "newsml"),
        ("application/nitf+xml", "nitf"),
        ("application/xml", "xml"),
        ("text/xml", "xml"),
        ("image/png", None),
        ("", None),
    ],
)
def test_media_format(content_type: str, expected: str | None) -> None:
    assert media_format(content_type) == expected


@pytest.mark.parametrize(
    ("text", "titles"),
    [
        (RSS, ["ODIHR statement"]),
        (NEWS_ITEM, ["HCNM visits Kyrgyzstan"]),
        (NEWS_MESSAGE, ["One", "Two"]),
        (NITF, ["ODIHR opens a mission"]),
    ],
)
def test_plain_xml_is_told_apart_by_its_document_element(text: str, titles: list[str]) -> None:
    fmt = media_format("application/xml")
    assert fmt == "xml"
    result = parse_body(text.encode(), fmt)
    assert result.errors == []
    assert [p.item["title"] for p in result.items] == titles


def test_utf16_xml_is_recognised_by_its_document_element() -> None:
    data = NEWS_ITEM.replace('"1.0"?>', '"1.0" encoding="UTF-16"?>').encode("utf-16")
    assert sniff(data) == "newsml"
    assert parse_body(data, "xml").items[0].item["title"] == "HCNM visits Kyrgyzstan"


def test_xml_in_another_encoding_is_read_by_its_declaration() -> None:
    text = NEWS_ITEM.replace('version="1.0"?>', 'version="1.0" encoding="ISO-8859-2"?>')
    data = text.replace("Kyrgyzstan", "Priština").encode("iso-8859-2")
    assert parse_body(data, "xml").items[0].item["title"] == "HCNM visits Priština"


def test_feed_categories_become_topics_only_when_known(tmp_path: Path) -> None:
    path = tmp_path / "feed.rss"
    path.write_text(RSS)
    (parsed,) = parse_file(path).items
    assert parsed.item["topics"] == ["Elections"]


def test_jsonl_bad_lines_are_errors_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "items.jsonl"
    path.write_bytes(b"\n".join([orjson.dumps({"title": "ok"}), b"{broken", b"[1]"]))
    result = parse_file(path)
    assert [p.line for p in result.items] == [1]
    assert [e.line for e in result.errors] == [2, 3]


def test_text_formats_must_be_utf8_but_feeds_follow_their_declaration() -> None:
    with pytest.raises(NotText):
        parse_body(b'{"title": "Bad \xc3\x28"}', "json")
    latin = RSS.replace('<?xml version="1.0"?>', '<?xml version="1.0" encoding="ISO-8859-2"?>')
    data = latin.replace("ODIHR statement", "Priština").encode("iso-8859-2")
    assert parse_body(data, "auto").items[0].item["title"] == "Priština"


def test_newsroom_source_is_the_callers_choice() -> None:
    data = SAMPLE.read_bytes()
    assert parse_body(data, "newsroom").items[0].item["source"] == "osce.org"
    assert "source" not in parse_body(data, "newsroom", newsroom_source=None).items[0].item


def test_check_keeps_valid_items_and_names_every_rejection() -> None:
    result = ParseResult(
        items=[
            ParsedItem(1, {"title": "Good", "source": "theirs"}),
            ParsedItem(3, {"title": "Bad", "author": "me"}),
        ],
        errors=[ParseError(2, "not valid JSON")],
    )
    checked = check(result, now=NOW, source="Example Wire")
    (valid,) = checked.valid
    assert valid.item.source == "Example Wire"
    assert orjson.loads(valid.payload)["source"] == "Example Wire"
    assert [(r.line, r.index, r.reason) for r in checked.rejected] == [
        (2, None, "not valid JSON"),
        (3, 1, "author: unknown field"),
    ]
    assert orjson.loads(orjson.loads(checked.rejected[1].payload)["item"])["author"] == "me"


def keyed(title: str, line: int) -> ParsedItem:
    return ParsedItem(line, {"title": title, "idempotency_key": "k1"})


def test_conflicts_against_redis_and_within_the_body() -> None:
    checked = check(
        ParseResult(items=[keyed("A", 1), keyed("A", 2), keyed("B", 3)]), now=NOW, source="w"
    )
    (clash,) = conflicts(checked, {})
    assert (clash.line, clash.index, clash.conflict) == (3, 2, True)
    assert clash.errors[0].field == "idempotency_key"
    # Redis holds story A under the key: a repeat of A passes, B is a conflict
    first = checked.valid[0].item
    key = item_key(first)
    assert key
    held = {key: Remembered.parse(claim_value(first, "1-0"))}
    only_b = Checked(valid=[checked.valid[2]])
    assert [c.line for c in conflicts(only_b, held)] == [3]
    assert conflicts(Checked(valid=[checked.valid[1]]), held) == []
    assert f"(story {first.id})" in conflicts(only_b, held)[0].reason


@pytest.mark.parametrize(
    ("media_type", "body", "titles"),
    [
        ("application/vnd.iptc.g2.newsmessage+xml", NEWS_MESSAGE, ["One", "Two"]),
        ("application/vnd.iptc.g2.newsitem+xml", NEWS_ITEM, ["HCNM visits Kyrgyzstan"]),
        ("application/nitf+xml", NITF, ["ODIHR opens a mission"]),
        ("application/xml", NEWS_MESSAGE, ["One", "Two"]),
        ("text/xml; charset=utf-8", NITF, ["ODIHR opens a mission"]),
    ],
)
async def test_post_items_accepts_the_iptc_media_types(
    start: Start, media_type: str, body: str, titles: list[str]
) -> None:
    """Parsed in the gateway's spawned parse process, then put on news:ingest."""
    async with start() as gw:
        headers = {
            "Authorization": f"Bearer {await gw.key('publish')}",
            "Content-Type": media_type,
        }
        response = await gw.client.post("/v1/items", content=body.encode(), headers=headers)
        assert response.status_code == 202, response.text
        assert len(response.json()["items"]) == len(titles)
        entries = await gw.fakes.redis.xrange("news:ingest")
        items = [orjson.loads(fields[b"item"]) for _id, fields in entries]
        assert [i["title"] for i in items] == titles
        assert {i["source"] for i in items} == {"Test Wire"}


async def test_post_items_names_an_iptc_rejection(start: Start) -> None:
    async with start() as gw:
        headers = {
            "Authorization": f"Bearer {await gw.key('publish')}",
            "Content-Type": "application/vnd.iptc.g2.newsmessage+xml",
        }
        body = NEWS_MESSAGE.replace("</itemSet>", "<packageItem guid='p'/></itemSet>")
        problem = assert_problem(
            await gw.client.post("/v1/items", content=body.encode(), headers=headers), 422
        )
        assert problem["errors"] == [
            {
                "field": "items[2]",
                "message": "a packageItem (a package of other items) p has no text: "
                "no headline and nothing to publish",
            }
        ]


def test_unknown_media_type_lists_the_iptc_ones() -> None:
    with pytest.raises(ProblemError) as refused:
        media_type_format("application/msword")
    assert refused.value.status == 415
    assert "application/vnd.iptc.g2.newsmessage+xml" in (refused.value.detail or "")
