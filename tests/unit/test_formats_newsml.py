"""The NewsML-G2 parser, on items and messages written for these tests (never IPTC's)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsflow.domain.contract import MAX_REVISION, PublisherItem
from newsflow.domain.formats.common import ParseResult
from newsflow.domain.formats.newsml import parse_newsml
from newsflow.domain.formats.xmlguard import REFUSED
from newsflow.domain.normalise import Rejection, normalise

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
NS = "http://iptc.org/std/nar/2006-10-01/"

#: A text item carrying NITF, as an agency's wire would send it.
NEWS_ITEM = f"""<?xml version="1.0" encoding="UTF-8"?>
<newsItem xmlns="{NS}" guid="urn:newsml:osce.org:20210106:475538" version="3"
          standard="NewsML-G2" standardversion="2.29" conformance="power" xml:lang="en">
  <catalogRef href="http://www.iptc.org/std/catalog/catalog.IPTC-G2-Standards_38.xml"/>
  <itemMeta>
    <itemClass qcode="ninat:text"/>
    <provider literal="OSCE"><name>OSCE Newsroom</name></provider>
    <versionCreated>2021-01-06T14:05:00+01:00</versionCreated>
    <firstCreated>2021-01-06T09:30:00+01:00</firstCreated>
    <pubStatus qcode="stat:usable"/>
    <link rel="irel:canonical" href="https://www.osce.org/mission-to-serbia/475538"/>
  </itemMeta>
  <contentMeta>
    <located qcode="geo:belgrade" type="loctype:City"><name>Belgrade</name>
      <broader qcode="iso3166-1a2:RS" type="loctype:Country"><name>Serbia</name></broader>
    </located>
    <subject type="cpnat:abstract" qcode="medtop:11000000"><name>politics</name></subject>
    <subject qcode="medtop:01000000"><name>arts, culture and media</name></subject>
    <subject type="cpnat:person" qcode="p:braathu"><name>Jan Braathu</name></subject>
    <subject type="cpnat:abstract" qcode="subj:11006000"/>
    <genre qcode="genre:PressRelease"><name>Press release</name></genre>
    <slugline>SERBIA-OSCE/HOM</slugline>
    <headline role="hdlrol:short">New Head of Mission in Serbia</headline>
    <headline>Jan Braathu takes up duties as Head of OSCE Mission to Serbia</headline>
    <description role="drol:caption">Not a summary</description>
    <description role="drol:summary">BELGRADE, 5 January 2021 – Jan Braathu
      assumed his duties today.</description>
    <language tag="en"/>
  </contentMeta>
  <contentSet>
    <remoteContent href="https://www.osce.org/files/475538.pdf"/>
    <inlineXML contenttype="application/nitf+xml">
      <nitf xmlns="http://iptc.org/std/NITF/2006-10-18/">
        <body><body.content>
          <p>BELGRADE, 5 January 2021 – Ambassador Jan Braathu assumed his duties.</p>
          <p>He previously served as Norway's Ambassador to Serbia.</p>
        </body.content></body>
      </nitf>
    </inlineXML>
  </contentSet>
</newsItem>
"""

XHTML_ITEM = """<newsItem guid="tag:osce.org,2021:480412" version="1">
  <itemMeta><versionCreated>2021-01-12T16:45:00Z</versionCreated></itemMeta>
  <contentMeta><headline>Chairperson welcomes release of detainees</headline></contentMeta>
  <contentSet><inlineXML contenttype="application/xhtml+xml">
    <html xmlns="http://www.w3.org/1999/xhtml"><head><title>ignored</title></head>
      <body><h1>Vienna</h1><p>The Chairperson <b>welcomed</b> it.</p>
      <script>track()</script></body></html>
  </inlineXML></contentSet>
</newsItem>"""

DATA_ITEM = """<newsItem guid="urn:x:2" version="12">
  <contentMeta><headline>Plain wire copy</headline><language tag="ru"/></contentMeta>
  <contentSet><inlineData contenttype="text/plain">First paragraph
  continues here.

  Second   paragraph.</inlineData></contentSet>
</newsItem>"""


def message(*items: str) -> str:
    """A newsMessage carrying ``items`` (their XML declarations removed)."""
    body = "".join(i.split("?>", 1)[-1] if i.startswith("<?xml") else i for i in items)
    return (
        f'<newsMessage xmlns="{NS}"><header><sent>2021-01-12T17:00:00Z</sent></header>'
        f"<itemSet>{body}</itemSet></newsMessage>"
    )


def parse(text: str) -> ParseResult:
    return parse_newsml(text.encode())


def only_item(text: str) -> dict[str, object]:
    result = parse(text)
    assert result.errors == []
    assert len(result.items) == 1
    return result.items[0].item


def only_error(text: str | bytes) -> str:
    result = parse_newsml(text.encode() if isinstance(text, str) else text)
    assert result.items == []
    assert len(result.errors) == 1
    return result.errors[0].message


def test_news_item_maps_every_field() -> None:
    assert only_item(NEWS_ITEM) == {
        "title": "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
        "summary": "BELGRADE, 5 January 2021 – Jan Braathu assumed his duties today.",
        "body": "BELGRADE, 5 January 2021 – Ambassador Jan Braathu assumed his duties.\n\n"
        "He previously served as Norway's Ambassador to Serbia.",
        "url": "https://www.osce.org/mission-to-serbia/475538",
        "published_at": "2021-01-06T09:30:00+01:00",
        "updated_at": "2021-01-06T14:05:00+01:00",
        "revision": 3,
        "idempotency_key": "urn:newsml:osce.org:20210106:475538@3",
        "guid": "urn:newsml:osce.org:20210106:475538",
        "content_type": "Press release",
        "language": "en",
        "source": "OSCE Newsroom",
        "topics": [
            "politics (medtop:11000000)",
            "arts; culture and media (medtop:01000000)",
            "subj:11006000",
        ],
        # the city by name (an agency's place qcode means nothing here), the
        # country it is in with its ISO 3166 code
        "countries": ["Belgrade", "Serbia (iso3166-1a2:RS)"],
    }


@pytest.mark.parametrize("bad", ["Bel\u202egrade", "Bel\x9fgrade", "B" * 300])
def test_a_place_the_contract_refuses_is_skipped_not_the_item(bad: str) -> None:
    # one bidi control in one place name rejected the whole story ("countries.0: ...")
    text = NEWS_ITEM.replace("<name>Belgrade</name>", f"<name>{bad}</name>")
    item = only_item(text)
    assert item["countries"] == ["Serbia (iso3166-1a2:RS)"]
    assert normalise(item, now=NOW).title.startswith("Jan Braathu")


def test_a_refused_place_name_keeps_its_iso_code() -> None:
    text = NEWS_ITEM.replace("<name>Serbia</name>", "<name>Ser\u202ebia</name>")
    assert only_item(text)["countries"] == ["Belgrade", "iso3166-1a2:RS"]


@pytest.mark.parametrize("guid", ["http://example.com/a b", "https://example.com/a\tb"])
def test_a_url_guid_with_whitespace_is_no_url_and_the_contract_refuses_it(guid: str) -> None:
    # it became the url, which the normaliser percent-encoded into another address
    item = only_item(DATA_ITEM.replace('guid="urn:x:2"', f'guid="{guid}"'))
    assert "url" not in item
    with pytest.raises(Rejection, match="guid: must not contain whitespace"):
        normalise(item, now=NOW)


@pytest.mark.parametrize(("guid", "version"), [("", "12"), ("  ", "12"), ("urn:x:2", " ")])
def test_a_blank_guid_or_version_counts_as_none(guid: str, version: str) -> None:
    text = DATA_ITEM.replace('guid="urn:x:2" version="12"', f'guid="{guid}" version="{version}"')
    item = only_item(text)
    assert "idempotency_key" not in item
    assert ("guid" in item) == bool(guid.strip())


def test_a_url_guid_is_the_url() -> None:
    item = only_item(DATA_ITEM.replace('guid="urn:x:2"', 'guid=" https://example.com/a "'))
    assert item["url"] == "https://example.com/a"
    assert "guid" not in item


def test_item_passes_the_normaliser() -> None:
    item = only_item(NEWS_ITEM)
    assert set(item) <= set(PublisherItem.model_fields)
    stored = normalise(item, now=NOW)
    assert stored.revision == 3
    assert stored.published_at == datetime(2021, 1, 6, 8, 30, tzinfo=UTC)
    assert "politics (medtop:11000000)" in stored.topics


def test_xhtml_body_and_version_created_as_published() -> None:
    item = only_item(XHTML_ITEM)
    assert item["body"] == "Vienna\n\nThe Chairperson welcomed it."
    assert item["published_at"] == item["updated_at"] == "2021-01-12T16:45:00Z"
    assert "url" not in item


def test_inline_data_text_keeps_paragraphs() -> None:
    item = only_item(DATA_ITEM)
    assert item["body"] == "First paragraph continues here.\n\nSecond paragraph."
    assert item["language"] == "ru"
    assert item["revision"] == 12


def test_inline_data_html_is_stripped() -> None:
    text = DATA_ITEM.replace('contenttype="text/plain">', 'contenttype="text/html">&lt;p&gt;A')
    assert only_item(text)["body"].startswith("A")


def test_headline_from_nitf_when_content_meta_has_none() -> None:
    text = (
        '<newsItem guid="g"><contentSet><inlineXML><nitf><body><body.head><hedline>'
        "<hl1>From the NITF</hl1></hedline><abstract><p>Abstract.</p></abstract></body.head>"
        "<body.content><p>Body.</p></body.content></body></nitf></inlineXML></contentSet>"
        "</newsItem>"
    )
    assert only_item(text) == {
        "title": "From the NITF",
        "summary": "Abstract.",
        "body": "Body.",
        "guid": "g",
    }


def test_http_guid_is_the_url() -> None:
    text = DATA_ITEM.replace('guid="urn:x:2"', 'guid="https://www.osce.org/x/2"')
    assert only_item(text)["url"] == "https://www.osce.org/x/2"


def test_language_falls_back_to_xml_lang() -> None:
    assert only_item(XHTML_ITEM.replace('version="1">', 'version="1" xml:lang="de">'))[
        "language"
    ] == ("de")


def test_news_message_carries_several_items_numbered_in_order() -> None:
    result = parse(message(NEWS_ITEM, XHTML_ITEM, "<packageItem guid='p'/>", DATA_ITEM))
    assert [p.line for p in result.items] == [1, 2, 4]
    assert [p.item["title"] for p in result.items] == [
        "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
        "Chairperson welcomes release of detainees",
        "Plain wire copy",
    ]
    assert [(e.line, e.message) for e in result.errors] == [
        (
            3,
            "a packageItem (a package of other items) p has no text: no headline and nothing to "
            "publish",
        )
    ]


def test_planning_item_with_a_headline_is_read() -> None:
    text = (
        "<planningItem guid='pl'><contentMeta><headline>Coverage</headline></contentMeta>"
        "</planningItem>"
    )
    assert only_item(text)["title"] == "Coverage"


class TestRejections:
    @pytest.mark.parametrize(
        ("element", "named"),
        [
            ("packageItem", "a packageItem (a package of other items)"),
            ("conceptItem", "a conceptItem (a concept of a controlled vocabulary)"),
            ("knowledgeItem", "a knowledgeItem (a set of concepts)"),
            ("planningItem", "a planningItem (news coverage planning)"),
        ],
    )
    def test_items_without_text_name_what_they_were(self, element: str, named: str) -> None:
        text = f'<{element} xmlns="{NS}" guid="urn:g:1" version="1"><itemMeta/></{element}>'
        assert (
            only_error(text) == f"{named} urn:g:1 has no text: no headline and nothing to publish"
        )

    def test_news_item_without_headline_names_its_class_and_slugline(self) -> None:
        text = (
            '<newsItem guid="urn:pic:9"><itemMeta><itemClass qcode="ninat:picture"/></itemMeta>'
            "<contentMeta><slugline>VIENNA-PHOTO</slugline></contentMeta></newsItem>"
        )
        assert only_error(text) == (
            "a newsItem urn:pic:9 (slugline 'VIENNA-PHOTO') (ninat:picture) has no headline "
            "(contentMeta/headline, or a NITF hedline in inlineXML)"
        )

    @pytest.mark.parametrize("status", ["stat:canceled", "stat:withheld"])
    def test_items_not_for_publication(self, status: str) -> None:
        text = NEWS_ITEM.replace("stat:usable", status)
        assert only_error(text) == (
            "a newsItem urn:newsml:osce.org:20210106:475538 (slugline 'SERBIA-OSCE/HOM'): "
            f"pubStatus is {status!r}: the item is not for publication"
        )

    def test_other_root(self) -> None:
        assert (
            only_error("<rss/>") == "the root element is <rss>, not a NewsML-G2 item or newsMessage"
        )

    def test_empty_message(self) -> None:
        assert only_error(message()) == "the newsMessage carries no items (itemSet)"

    def test_unknown_element_in_item_set(self) -> None:
        assert only_error(message("<note>hi</note>")) == "<note> is not a NewsML-G2 item"

    def test_malformed(self) -> None:
        assert only_error("<newsItem>").startswith("the NewsML-G2 document is not well-formed XML")

    def test_doctype_is_refused(self) -> None:
        text = '<?xml version="1.0"?><!DOCTYPE newsItem [<!ENTITY e "x">]><newsItem>&e;</newsItem>'
        assert only_error(text) == REFUSED

    def test_external_entity_is_refused(self) -> None:
        text = '<!DOCTYPE n [<!ENTITY e SYSTEM "file:///etc/passwd">]><newsItem>&e;</newsItem>'
        assert only_error(text) == REFUSED

    def test_too_large(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from newsflow.domain.formats import xmldoc

        monkeypatch.setattr(xmldoc, "MAX_XML_BYTES", 100)
        assert only_error(NEWS_ITEM) == "the NewsML-G2 document is larger than 100 bytes"

    @pytest.mark.parametrize("version", ["1.2", "abc", "-1", "+3", "99999999999999999999"])
    def test_bad_version_refuses_the_item(self, version: str) -> None:
        # Dropped, it left an item with no revision that storage ordered by
        # updated_at, so a stale copy with a nonsense version beat a real one.
        assert only_error(DATA_ITEM.replace('version="12"', f'version="{version}"')) == (
            f"a newsItem urn:x:2: version: must be a whole number from 0 to {MAX_REVISION}"
        )

    def test_version_up_to_the_contract_limit_is_the_revision(self) -> None:
        top = DATA_ITEM.replace('version="12"', f'version="{MAX_REVISION}"')
        assert only_item(top)["revision"] == MAX_REVISION
        over = DATA_ITEM.replace('version="12"', f'version="{MAX_REVISION + 1}"')
        assert "version: must be a whole number" in only_error(over)

    def test_bad_version_refuses_only_its_item_in_a_message(self) -> None:
        bad = DATA_ITEM.replace('version="12"', 'version="abc"')
        result = parse(message(bad, XHTML_ITEM))
        assert [p.line for p in result.items] == [2]
        assert [e.line for e in result.errors] == [1]
