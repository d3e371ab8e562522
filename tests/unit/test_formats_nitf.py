"""The NITF 3.x parser, on documents written for these tests (never IPTC's examples)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from newsflow.domain.contract import PublisherItem
from newsflow.domain.formats.nitf import parse_nitf
from newsflow.domain.formats.xmlguard import REFUSED
from newsflow.domain.normalise import normalise

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

#: A press release as a newsroom system exporting NITF 3.6 would write it.
NITF = """<?xml version="1.0" encoding="UTF-8"?>
<nitf xmlns="http://iptc.org/std/NITF/2006-10-18/" version="-//IPTC//DTD NITF 3.6//EN"
      xml:lang="en-GB">
  <head>
    <title>osce-serbia-hom</title>
    <docdata>
      <doc-id id-string="osce-2021-0106-0001" regsrc="OSCE"/>
      <date.issue norm="20210106T093000+0100"/>
      <key-list>
        <keyword key="Democratization"/>
        <keyword key="Good governance"/>
        <keyword key="Democratization"/>
      </key-list>
    </docdata>
  </head>
  <body>
    <body.head>
      <hedline>
        <hl1>Jan Braathu takes up duties as
          Head of OSCE Mission to Serbia</hl1>
        <hl2>New Head of Mission</hl2>
      </hedline>
      <abstract><p>BELGRADE, 5 January 2021 – Jan Braathu assumed his duties today.</p></abstract>
    </body.head>
    <body.content>
      <p>BELGRADE, 5 January 2021 – Ambassador Jan Braathu assumed his duties as
         <em>Head of the OSCE Mission to Serbia</em>.</p>
      <block><p>Braathu previously served as Norway's Ambassador to Serbia.</p></block>
    </body.content>
  </body>
</nitf>
"""


def only_item(text: str) -> dict[str, object]:
    result = parse_nitf(text.encode())
    assert result.errors == []
    assert len(result.items) == 1
    return result.items[0].item


def only_error(data: bytes) -> str:
    result = parse_nitf(data)
    assert result.items == []
    assert len(result.errors) == 1
    return result.errors[0].message


def test_every_field() -> None:
    assert only_item(NITF) == {
        "title": "Jan Braathu takes up duties as Head of OSCE Mission to Serbia",
        "summary": "BELGRADE, 5 January 2021 – Jan Braathu assumed his duties today.",
        "body": "BELGRADE, 5 January 2021 – Ambassador Jan Braathu assumed his duties as "
        "Head of the OSCE Mission to Serbia.\n\n"
        "Braathu previously served as Norway's Ambassador to Serbia.",
        "published_at": "2021-01-06T09:30:00+01:00",
        "idempotency_key": "osce-2021-0106-0001@2021-01-06T09:30:00+01:00",
        "guid": "osce-2021-0106-0001",
        "topics": ["Democratization", "Good governance"],
        "language": "en-GB",
    }


def test_item_passes_the_normaliser() -> None:
    item = only_item(NITF)
    assert set(item) <= set(PublisherItem.model_fields)
    stored = normalise(item, now=NOW)
    assert stored.published_at == datetime(2021, 1, 6, 8, 30, tzinfo=UTC)
    assert stored.language == "en-gb"


def test_without_namespace_and_with_head_title_only() -> None:
    item = only_item(
        '<nitf><head><title>OSCE Chair visits Kyiv</title><docdata><date.issue norm="20210203"/>'
        '</docdata></head><body xml:lang="uk"><body.content><p>Text.</p></body.content>'
        "</body></nitf>"
    )
    assert item == {
        "title": "OSCE Chair visits Kyiv",
        "body": "Text.",
        "published_at": "2021-02-03",
        "language": "uk",
    }


@pytest.mark.parametrize(
    ("norm", "expected"),
    [
        ("20210106T093000Z", "2021-01-06T09:30:00Z"),
        ("20210106T0930-0500", "2021-01-06T09:30:00-05:00"),
        ("2021-01-06T09:30:00+01:00", "2021-01-06T09:30:00+01:00"),
    ],
)
def test_date_issue_forms(norm: str, expected: str) -> None:
    text = NITF.replace("20210106T093000+0100", norm)
    assert only_item(text)["published_at"] == expected


class TestRejections:
    def test_no_headline(self) -> None:
        data = b"<nitf><body><body.content><p>Only text.</p></body.content></body></nitf>"
        assert only_error(data) == "the NITF document has no headline (body.head/hedline/hl1)"

    def test_other_root(self) -> None:
        assert (
            only_error(b"<html><body/></html>") == "the root element is <html>, not an NITF <nitf>"
        )

    def test_malformed(self) -> None:
        message = only_error(b"<nitf>\n<head>\n</nitf>")
        assert message.startswith("the NITF document is not well-formed XML")
        assert parse_nitf(b"<nitf>\n<head>\n</nitf>").errors[0].line == 3

    def test_doctype_is_refused(self) -> None:
        data = (
            b'<?xml version="1.0"?>\n<!DOCTYPE nitf SYSTEM "nitf-3-6.dtd">\n'
            b"<nitf><body><body.head><hedline><hl1>H</hl1></hedline></body.head></body></nitf>"
        )
        assert only_error(data) == REFUSED

    def test_entity_bomb_is_refused(self) -> None:
        data = (
            b'<?xml version="1.0"?><!DOCTYPE nitf [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><nitf>&b;</nitf>'
        )
        assert only_error(data) == REFUSED

    def test_blank_input_gives_nothing(self) -> None:
        result = parse_nitf(b"  \n")
        assert result.items == []
        assert result.errors == []

    def test_deep_nesting_does_not_exhaust_the_stack(self) -> None:
        depth = 50_000
        data = (
            b"<nitf><body><body.head><hedline><hl1>Deep</hl1></hedline></body.head><body.content>"
            + b"<p>" * depth
            + b"x"
            + b"</p>" * depth
            + b"</body.content></body></nitf>"
        )
        assert only_item(data.decode())["body"] == "x"
