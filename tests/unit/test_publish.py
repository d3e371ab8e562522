"""`newsflow push` picks the right parser and checks items before sending."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools.push import detect_format, parse_file
from tests.conftest import SAMPLE

pytestmark = pytest.mark.tools

RSS = (
    '<?xml version="1.0"?><rss version="2.0"><channel><title>OSCE</title>'
    "<item><title>ODIHR statement</title><category>Elections</category>"
    "<category>Cats</category></item></channel></rss>"
)
NINJS = '{"uri": "urn:x:1", "headlines": [{"value": "HCNM visits Kyrgyzstan"}]}'


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("sample.txt", SAMPLE.read_text(encoding="utf-8"), "newsroom"),
        ("items.jsonl", '{"title": "a"}\n{"title": "b"}\n', "jsonl"),
        ("items.json", '[{"title": "a"}]', "json"),
        ("items.data", '{"title": "a"}', "jsonl"),
        ("feed.xml", RSS, "feed"),
        ("feed.data", RSS, "feed"),
        ("story.json", NINJS, "ninjs"),
    ],
)
def test_detect_format(name: str, text: str, expected: str) -> None:
    assert detect_format(Path(name), text) == expected


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
