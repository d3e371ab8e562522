"""The story id from a publisher's guid (ADR 0002): url first, then guid, then headline and day."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from newsflow.domain.contract import LIMITS
from newsflow.domain.formats.feeds import parse_feed
from newsflow.domain.formats.newsml import parse_newsml
from newsflow.domain.formats.nitf import parse_nitf
from newsflow.domain.normalise import Rejection, guid_identity, normalise

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
GUID = "urn:newsml:example.com:20261129:abc123"


def item(**fields: Any) -> dict[str, Any]:
    return {"title": "Observers publish their statement", "published_at": "2026-11-29", **fields}


def story(**fields: Any) -> str:
    return normalise(item(**fields), now=NOW).id


def reject(**fields: Any) -> Rejection:
    with pytest.raises(Rejection) as caught:
        normalise(item(**fields), now=NOW)
    return caught.value


class TestIdentity:
    def test_the_same_guid_with_a_changed_headline_is_the_same_story(self) -> None:
        assert story(guid=GUID) == story(
            guid=GUID, title="Observers publish their statement (corrected)", revision=2
        )

    def test_the_same_guid_on_another_day_is_the_same_story(self) -> None:
        assert story(guid=GUID) == story(guid=GUID, published_at="2026-11-30")

    def test_different_guids_are_different_stories(self) -> None:
        assert story(guid=GUID) != story(guid=GUID + "4")

    def test_without_a_guid_the_headline_still_decides(self) -> None:
        assert story() != story(title="Observers publish their statement (corrected)")
        assert story(guid=GUID) != story()

    def test_the_url_wins_over_the_guid(self) -> None:
        url = "https://www.osce.org/odihr/elections/1"
        assert story(url=url, guid=GUID) == story(url=url) == story(url=url, guid="urn:x:other")

    def test_a_guid_is_case_sensitive(self) -> None:
        assert story(guid="urn:x:ABC") != story(guid="urn:x:abc")
        assert story(guid="tag:example.com,2026:A") != story(guid="tag:example.com,2026:a")

    @pytest.mark.parametrize(
        "spelling",
        [
            "URN:newsml:example.com:20261129:abc123",
            "Urn:NewsML:example.com:20261129:abc123",
            f"  {GUID}  ",
        ],
    )
    def test_the_urn_scheme_and_namespace_are_not(self, spelling: str) -> None:
        """RFC 8141, 3.1: ``urn:`` and the NID compare without case; the NSS with it."""
        assert story(guid=spelling) == story(guid=GUID)
        assert guid_identity(spelling) == GUID
        assert guid_identity("URN:NewsML:example.com:ABC") == "urn:newsml:example.com:ABC"

    def test_the_item_carries_the_guid_as_sent_trimmed(self) -> None:
        assert normalise(item(guid=f" {GUID.upper()} "), now=NOW).guid == GUID.upper()
        assert normalise(item(), now=NOW).guid is None


class TestHostileGuids:
    @pytest.mark.parametrize("blank", ["", "   ", "\t"])
    def test_a_blank_guid_is_refused(self, blank: str) -> None:
        assert reject(guid=blank).errors == [{"field": "guid", "message": "must not be empty"}]

    def test_the_limit_holds_and_one_more_is_refused(self) -> None:
        at_limit = "urn:x:" + "g" * (LIMITS["guid"] - len("urn:x:"))
        assert len(story(guid=at_limit)) == 32
        assert reject(guid=at_limit + "g").reason == "guid: at most 1,000 characters"
        assert reject(guid="u" * 10_000).reason == "guid: at most 1,000 characters"

    @pytest.mark.parametrize(
        ("guid", "message"),
        [
            ("urn:x:a\x00b", "control character U+0000 is not allowed"),
            ("urn:x:a\x1bb", "control character U+001B is not allowed"),
            ("urn:x:\u202eb", "bidirectional control character U+202E is not allowed"),
            ("urn:x:a b", "must not contain whitespace"),
            ("urn:x:a\nb", "must not contain whitespace"),
            ("urn:x:a\u00a0b", "must not contain whitespace"),
        ],
    )
    def test_control_characters_and_whitespace_are_refused(self, guid: str, message: str) -> None:
        assert reject(guid=guid).errors == [{"field": "guid", "message": message}]

    @pytest.mark.parametrize("value", [42, True, ["urn:x:1"], {"id": "urn:x:1"}])
    def test_a_guid_must_be_a_string(self, value: object) -> None:
        assert reject(guid=value).errors == [{"field": "guid", "message": "must be a string"}]


NITF = """<nitf><head><docdata><doc-id id-string="{doc_id}" regsrc="EX"/>
<date.issue norm="20261129T090000Z"/></docdata></head>
<body><body.head><hedline><hl1>{title}</hl1></hedline></body.head>
<body.content><p>Text.</p></body.content></body></nitf>"""


def nitf_item(doc_id: str, title: str) -> dict[str, Any]:
    result = parse_nitf(NITF.format(doc_id=doc_id, title=title).encode())
    assert result.errors == []
    (parsed,) = result.items
    return parsed.item


def test_an_nitf_doc_id_is_the_guid_and_keeps_a_corrected_headline_one_story() -> None:
    first = nitf_item("ex-2026-1129-0001", "Statement")
    corrected = nitf_item("ex-2026-1129-0001", "Statement (corrected)")
    assert first["guid"] == "ex-2026-1129-0001"
    assert normalise(first, now=NOW).id == normalise(corrected, now=NOW).id
    assert normalise(nitf_item("ex-2026-1129-0002", "Statement"), now=NOW).id != (
        normalise(first, now=NOW).id
    )


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Example</title>
<item><title>A</title>
  <guid isPermaLink="false">urn:uuid:6f1c1f7e-4d5b-4a3e-9d7c-1b2a3c4d5e6f</guid></item>
<item><title>B</title><guid isPermaLink="false">480398</guid></item>
<item><title>C</title><guid>https://example.com/c</guid></item>
<item><title>D</title><link>https://example.com/d</link>
  <guid isPermaLink="false">tag:example.com,2026:d</guid></item>
<item><title>E</title><guid isPermaLink="false">HTTPS:no-host</guid></item>
</channel></rss>"""


def test_a_feed_entry_id_is_the_guid_only_when_it_is_a_non_http_uri() -> None:
    result = parse_feed(RSS)
    assert result.errors == []
    by_title = {parsed.item["title"]: parsed.item for parsed in result.items}
    assert by_title["A"]["guid"] == "urn:uuid:6f1c1f7e-4d5b-4a3e-9d7c-1b2a3c4d5e6f"
    assert "guid" not in by_title["B"]  # unique only within its own feed
    assert "guid" not in by_title["C"]  # a permalink is the url
    assert by_title["C"]["url"] == "https://example.com/c"
    assert by_title["D"]["guid"] == "tag:example.com,2026:d"
    assert "guid" not in by_title["E"]
    url_story = normalise(by_title["D"], now=NOW).id
    assert url_story == normalise({"title": "D", "url": "https://example.com/d"}, now=NOW).id


@pytest.mark.parametrize(
    ("guid", "reason"),
    [
        ("urn:x:" + "g" * 10_000, "guid: at most 1,000 characters"),
        ("urn:x:a b", "guid: must not contain whitespace"),
    ],
)
def test_a_hostile_newsml_guid_is_a_clear_rejection(guid: str, reason: str) -> None:
    """The reader passes the guid on as written; the contract names what is wrong with it."""
    text = (
        f'<newsItem guid="{guid}" version="1"><contentMeta><headline>H</headline></contentMeta>'
        "<contentSet><inlineData>Text.</inlineData></contentSet></newsItem>"
    )
    result = parse_newsml(text.encode())
    assert result.errors == []
    (parsed,) = result.items
    with pytest.raises(Rejection) as caught:
        normalise(parsed.item, now=NOW)
    assert caught.value.reason == reason
