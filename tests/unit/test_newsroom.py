"""The newsroom listing parser, on the real sample and on broken input."""

from __future__ import annotations

from newsflow.domain.formats.newsroom import parse_newsroom
from tests.conftest import SAMPLE


def test_sample_has_seven_entries_with_their_metadata() -> None:
    result = parse_newsroom(SAMPLE.read_text(encoding="utf-8"))
    assert result.errors == []
    assert len(result.items) == 7
    first, second = result.items[0].item, result.items[1].item
    assert first["title"] == second["title"]
    assert first["offices"] == [
        "Office of the Co-ordinator of OSCE Economic and Environmental Activities",
        "OSCE Secretariat",
    ]
    assert first["topics"] == ["Economic activities", "Policing"]
    assert second["offices"] == ["Transnational Threats Department", "OSCE Secretariat"]
    assert "topics" not in second
    assert first["published_at"] == "7 January 2021"
    assert first["content_type"] == "News"
    assert second["summary"].endswith("Transnational Threats Department")


def test_statement_with_two_offices_on_one_line() -> None:
    result = parse_newsroom(SAMPLE.read_text(encoding="utf-8"))
    last = result.items[-1].item
    assert last["offices"] == ["OSCE Chairmanship", "OSCE Secretary General"]
    assert last["content_type"] == "Press statement"


def test_entry_without_optional_lines() -> None:
    text = "Title only story\nPublishing date: 2 March 2020\n"
    result = parse_newsroom(text)
    assert [p.item for p in result.items] == [
        {"title": "Title only story", "source": "osce.org", "published_at": "2 March 2020"}
    ]


def test_text_without_stories_is_an_error_not_a_crash() -> None:
    result = parse_newsroom("just some words\nand more")
    assert result.items == []
    assert result.errors[0].line == 1


def test_empty_text() -> None:
    result = parse_newsroom("")
    assert result.items == []
    assert result.errors == []
