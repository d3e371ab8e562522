"""The RSS 2.0 / Atom 1.0 parser, on real-looking OSCE feeds and on broken ones."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsflow.domain.contract import LIMITS, PublisherItem
from newsflow.domain.formats.common import ParseError
from newsflow.domain.formats.feeds import looks_like_feed, parse_feed
from newsflow.domain.formats.xmlguard import REFUSED, refuse_reason
from newsflow.domain.normalise import normalise

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
KNOWN_TOPICS = frozenset(
    {
        "Conflict prevention and resolution",
        "Human rights",
        "Media freedom and development",
        "Elections",
    }
)

RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
  <channel>
    <title>OSCE Newsroom</title>
    <link>https://www.osce.org/newsroom</link>
    <description>News and press releases from the OSCE</description>
    <language>en-GB</language>
    <atom:link href="https://www.osce.org/rss/newsroom.xml" rel="self" type="application/rss+xml"/>
    <item>
      <title>OSCE Chairperson-in-Office welcomes release of detainees</title>
      <link>https://www.osce.org/chairmanship/480412</link>
      <description><![CDATA[<p>VIENNA, 12 January 2021 &#8211; The OSCE
        Chairperson-in-Office, Ann Linde, <strong>welcomed</strong> today&#8217;s
        release.</p><script>track("rss")</script>]]></description>
      <content:encoded><![CDATA[<p>VIENNA, 12 January 2021 &#8211; The OSCE Chairperson-in-Office
        welcomed today&#8217;s release.</p>
        <p>&#8220;This is an important step,&#8221; Linde said.</p>]]></content:encoded>
      <category>Conflict prevention and resolution</category>
      <category>Vienna</category>
      <dc:creator>OSCE Chairmanship</dc:creator>
      <pubDate>Tue, 12 Jan 2021 16:45:00 +0100</pubDate>
      <guid isPermaLink="true">https://www.osce.org/chairmanship/480412</guid>
    </item>
    <item>
      <title>Media freedom &amp; safety of journalists: RFoM concerned about attack in Kyiv</title>
      <link>/representative-on-freedom-of-media/480398</link>
      <description>Teresa Ribeiro expressed concern &lt;b&gt;today&lt;/b&gt;
        about the attack.</description>
      <category>Media freedom and development, Human rights</category>
      <pubDate>Mon, 11 Jan 2021 10:00:00 GMT</pubDate>
      <guid isPermaLink="false">osce-480398</guid>
    </item>
    <item>
      <title></title>
      <description>An item the CMS published without a title.</description>
    </item>
    <item>
      <title>Win a prize</title>
      <link>javascript:alert(document.cookie)</link>
      <description>Click the link.</description>
    </item>
  </channel>
</rss>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title type="html">OSCE &lt;em&gt;Mission to Moldova&lt;/em&gt;</title>
  <link rel="alternate" href="https://www.osce.org/mission-to-moldova"/>
  <link rel="self" href="https://www.osce.org/mission-to-moldova/atom.xml"/>
  <id>tag:osce.org,2021:mission-to-moldova</id>
  <updated>2021-02-03T12:00:00Z</updated>
  <entry>
    <title type="html">Chisinau &amp;amp; Tiraspol: 5+2 talks &lt;i&gt;resume&lt;/i&gt;</title>
    <link rel="alternate" type="text/html" href="https://www.osce.org/mission-to-moldova/480900"/>
    <link rel="enclosure" type="image/jpeg" href="https://www.osce.org/files/480900.jpg"/>
    <id>tag:osce.org,2021:480900</id>
    <published>2021-02-02T09:00:00+02:00</published>
    <updated>2021-02-03T11:30:00+02:00</updated>
    <summary type="html">&lt;p&gt;CHISINAU, 2 February 2021 &amp;ndash;
      The sides met.&lt;/p&gt;</summary>
    <content type="xhtml">
      <div xmlns="http://www.w3.org/1999/xhtml"><p>The sides met in Chisinau.</p>
        <p>Talks continue in March.</p></div>
    </content>
    <category term="conflict-prevention" label="Conflict prevention and resolution"/>
    <category term="Chisinau"/>
    <author><name>OSCE Mission to Moldova</name></author>
  </entry>
  <entry xml:lang="ru">
    <title>Миссия ОБСЕ в Молдове провела семинар для журналистов</title>
    <link href="https://www.osce.org/ru/mission-to-moldova/480901"/>
    <id>tag:osce.org,2021:480901</id>
    <updated>2021-02-01T08:00:00Z</updated>
    <summary>Семинар о безопасности журналистов прошёл в Кишинёве.</summary>
    <category term="Media freedom and development"/>
  </entry>
</feed>
"""


def known(label: str) -> bool:
    return label in KNOWN_TOPICS


def rss(items: str, *, channel: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>OSCE</title><link>https://www.osce.org/newsroom</link>{channel}"
        f"{items}</channel></rss>"
    )


def item_xml(title: str = "OSCE observes elections", **tags: str) -> str:
    inner = "".join(f"<{name}>{value}</{name}>" for name, value in tags.items())
    return f"<item><title>{title}</title>{inner}</item>"


class TestRss:
    def test_entries_map_to_contract_items(self) -> None:
        result = parse_feed(RSS, topic_labels=known)
        items = {p.line: p.item for p in result.items}
        assert items[1] == {
            "title": "OSCE Chairperson-in-Office welcomes release of detainees",
            "summary": "VIENNA, 12 January 2021 – The OSCE Chairperson-in-Office, Ann Linde, "
            "welcomed today’s release.",
            "body": "VIENNA, 12 January 2021 – The OSCE Chairperson-in-Office welcomed "
            "today’s release.\n\n“This is an important step,” Linde said.",
            "url": "https://www.osce.org/chairmanship/480412",
            "published_at": "2021-01-12T15:45:00Z",
            "language": "en",
            "source": "OSCE Newsroom",
            "topics": ["Conflict prevention and resolution"],
        }

    def test_escaped_markup_and_entities_become_text(self) -> None:
        second = parse_feed(RSS).items[1].item
        assert second["title"] == (
            "Media freedom & safety of journalists: RFoM concerned about attack in Kyiv"
        )
        assert second["summary"] == "Teresa Ribeiro expressed concern today about the attack."

    def test_script_content_never_reaches_the_text(self) -> None:
        assert all("track" not in p.item.get("summary", "") for p in parse_feed(RSS).items)

    def test_relative_link_is_resolved_against_the_channel_link(self) -> None:
        assert parse_feed(RSS).items[1].item["url"] == (
            "https://www.osce.org/representative-on-freedom-of-media/480398"
        )

    def test_javascript_link_is_dropped_and_the_story_kept(self) -> None:
        last = parse_feed(RSS).items[-1]
        assert last.line == 4
        assert last.item["title"] == "Win a prize"
        assert "url" not in last.item

    def test_entry_without_title_is_an_error_at_its_index(self) -> None:
        result = parse_feed(RSS)
        assert [(e.line, e.message) for e in result.errors] == [(3, "entry has no title")]
        assert [p.line for p in result.items] == [1, 2, 4]

    def test_comma_separated_category_is_split_and_checked(self) -> None:
        topics = parse_feed(RSS, topic_labels=known).items[1].item["topics"]
        assert topics == ["Media freedom and development", "Human rights"]

    def test_no_topics_without_a_taxonomy_lookup(self) -> None:
        assert all("topics" not in p.item for p in parse_feed(RSS).items)

    def test_unknown_categories_are_not_topics(self) -> None:
        text = rss(item_xml(category="Vienna") + item_xml(category="elections"))
        assert [p.item.get("topics") for p in parse_feed(text, topic_labels=known).items] == [
            None,
            None,
        ]

    def test_repeated_category_is_kept_once(self) -> None:
        text = rss(
            "<item><title>T</title><category>Elections</category>"
            "<category>Elections, Human rights</category></item>"
        )
        topics = parse_feed(text, topic_labels=known).items[0].item["topics"]
        assert topics == ["Elections", "Human rights"]

    @pytest.mark.parametrize(
        ("pub_date", "expected"),
        [
            ("Tue, 12 Jan 2021 16:45:00 +0100", "2021-01-12T15:45:00Z"),
            ("Tue, 12 Jan 2021 16:45:00 EST", "2021-01-12T21:45:00Z"),
            ("2021-01-12T16:45:00+01:00", "2021-01-12T15:45:00Z"),
            ("12 January 2021", "2021-01-12T00:00:00Z"),
        ],
    )
    def test_dates_become_iso_utc(self, pub_date: str, expected: str) -> None:
        item = parse_feed(rss(item_xml(pubDate=pub_date))).items[0].item
        assert item["published_at"] == expected

    def test_unreadable_date_is_left_out(self) -> None:
        item = parse_feed(rss(item_xml(pubDate="sometime last week"))).items[0].item
        assert "published_at" not in item

    def test_cdata_title_and_numeric_entities(self) -> None:
        text = rss(item_xml("<![CDATA[OSCE &amp; UNDP <b>launch</b> project]]>"))
        assert parse_feed(text).items[0].item["title"] == "OSCE & UNDP launch project"

    def test_plain_title_with_angle_brackets_stays(self) -> None:
        text = rss(item_xml("Turnout &lt; 50 % in second round"))
        assert parse_feed(text).items[0].item["title"] == "Turnout < 50 % in second round"

    @pytest.mark.parametrize(
        ("language", "expected"), [("en-US", "en"), ("RU", "ru"), ("sr_Latn_RS", "sr"), ("?", None)]
    )
    def test_language_is_the_primary_subtag(self, language: str, expected: str | None) -> None:
        text = rss(item_xml(), channel=f"<language>{language}</language>")
        assert parse_feed(text).items[0].item.get("language") == expected

    def test_overlong_description_is_cut_and_kept_whole_as_body(self) -> None:
        words = " ".join(["observers"] * 1200)
        item = parse_feed(rss(item_xml(description=f"<p>{words}</p>"))).items[0].item
        assert len(item["summary"]) <= LIMITS["summary"]
        assert item["summary"].endswith("observers…")
        assert item["body"] == words
        normalise(item, now=NOW)


class TestAtom:
    def test_entries_map_to_contract_items(self) -> None:
        result = parse_feed(ATOM, topic_labels=known)
        assert result.errors == []
        assert result.items[0].item == {
            "title": "Chisinau & Tiraspol: 5+2 talks resume",
            "summary": "CHISINAU, 2 February 2021 – The sides met.",
            "body": "The sides met in Chisinau.\n\nTalks continue in March.",
            "url": "https://www.osce.org/mission-to-moldova/480900",
            "guid": "tag:osce.org,2021:480900",
            "published_at": "2021-02-02T07:00:00Z",
            "updated_at": "2021-02-03T09:30:00Z",
            "language": "en",
            "source": "OSCE Mission to Moldova",
            "topics": ["Conflict prevention and resolution"],
        }

    def test_entry_language_and_updated_only(self) -> None:
        second = parse_feed(ATOM, topic_labels=known).items[1].item
        assert second["language"] == "ru"
        assert second["published_at"] == second["updated_at"] == "2021-02-01T08:00:00Z"
        assert second["topics"] == ["Media freedom and development"]

    def test_items_pass_the_normaliser(self) -> None:
        for parsed in parse_feed(ATOM, topic_labels=known).items + parse_feed(RSS).items:
            assert set(parsed.item) <= set(PublisherItem.model_fields)
            normalise(parsed.item, now=NOW)


class TestBrokenFeeds:
    def test_truncated_feed_keeps_the_entries_before_the_cut(self) -> None:
        cut = RSS.index("<title>Media freedom")
        result = parse_feed(RSS[:cut])
        assert [p.item["title"] for p in result.items] == [
            "OSCE Chairperson-in-Office welcomes release of detainees"
        ]

    def test_mismatched_tags_still_give_entries(self) -> None:
        text = rss("<item><title>OSCE <b>bold</title><description>x</item>")
        assert parse_feed(text).items[0].item["title"].startswith("OSCE")

    @pytest.mark.parametrize(
        ("text", "line", "message"),
        [
            ("just some words", 1, "not a readable RSS or Atom feed: syntax error"),
            (
                '<rss version="2.0">\n<channel>\n<title>x</title>\n<oops</channel></rss>',
                4,
                "not a readable RSS or Atom feed: not well-formed (invalid token)",
            ),
            (
                '{"title": "JSON, not XML"}',
                1,
                "not a readable RSS or Atom feed: not well-formed (invalid token)",
            ),
            (
                "<html><body><p>Page not found</p></body></html>",
                1,
                "not an RSS or Atom feed: no <rss>, <feed> or <rdf:RDF> element",
            ),
            (rss(""), 1, "the feed has no entries"),
        ],
    )
    def test_nothing_readable_is_one_error(self, text: str, line: int, message: str) -> None:
        result = parse_feed(text)
        assert result.items == []
        assert [(e.line, e.message) for e in result.errors] == [(line, message)]

    @pytest.mark.parametrize("text", ["", "  \n\t"])
    def test_blank_input_gives_nothing(self, text: str) -> None:
        result = parse_feed(text)
        assert result.items == []
        assert result.errors == []

    def test_a_file_path_is_data_not_a_file_to_open(self, tmp_path: Path) -> None:
        secret = tmp_path / "feed.xml"
        secret.write_text(rss(item_xml("Read from disk")), encoding="utf-8")
        result = parse_feed(str(secret))
        assert result.items == []
        assert len(result.errors) == 1

    def test_a_url_is_data_not_something_to_fetch(self) -> None:
        result = parse_feed("http://127.0.0.1:9/feed.xml")
        assert result.items == []
        assert result.errors[0].message.startswith("not a readable RSS or Atom feed")

    def test_external_entities_are_refused_unread(self, tmp_path: Path) -> None:
        secret = tmp_path / "secret.txt"
        secret.write_text("TOP-SECRET", encoding="utf-8")
        text = (
            '<?xml version="1.0"?>\n<!DOCTYPE rss [\n'
            f'<!ENTITY xxe SYSTEM "{secret.as_uri()}">\n<!ENTITY org "OSCE">\n]>\n'
            '<rss version="2.0"><channel><title>&org;</title>'
            "<item><title>Leak &xxe;</title><description>&xxe;</description></item>"
            "</channel></rss>"
        )
        result = parse_feed(text)
        assert "TOP-SECRET" not in repr(result)
        assert result.items == []
        assert result.errors == [ParseError(1, REFUSED)]

    def test_entity_expansion_bomb_is_refused_before_parsing(self) -> None:
        entities = '<!ENTITY lol "lol">\n' + "".join(
            f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10}">\n' for n in range(1, 10)
        )
        text = (
            f'<?xml version="1.0"?>\n<!DOCTYPE rss [\n{entities}]>\n'
            '<rss version="2.0"><channel><item><title>A &lol9; B</title></item></channel></rss>'
        )
        result = parse_feed(text)
        assert result.errors == [ParseError(1, REFUSED)]
        assert len(repr(result)) < 1_000

    @pytest.mark.parametrize(
        "prolog",
        [
            '<?xml version="1.0"?>\n<!DOCTYPE rss>\n',  # a DTD without entities
            "<!doctype rss [<!entity a 'b'>]>",  # lower case, no declaration
            '<?xml version="1.0"?><!-- -- broken comment --><!DOCTYPE rss>',  # expat gives up
        ],
    )
    def test_any_dtd_is_refused(self, prolog: str) -> None:
        assert parse_feed(prolog + rss(item_xml("x")).split("?>", 1)[1]).errors == [
            ParseError(1, REFUSED)
        ]

    @pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "cp037"])
    def test_a_dtd_is_refused_in_any_encoding(self, encoding: str) -> None:
        text = '<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "b">]><rss version="2.0"/>'
        assert refuse_reason(text.encode(encoding)) == REFUSED

    def test_doctype_text_inside_the_document_is_content(self) -> None:
        body = "<![CDATA[<!DOCTYPE html><p>An embedded page</p>]]>"
        result = parse_feed(rss(item_xml("Embedded", description=body)))
        assert result.errors == []
        assert result.items[0].item["title"] == "Embedded"

    def test_bytes_are_decoded_by_their_declared_encoding(self) -> None:
        text = rss(item_xml("Priština: OSCE Mission in Kosovo"))
        data = text.replace("UTF-8", "ISO-8859-2").encode("iso-8859-2")
        assert parse_feed(data).items[0].item["title"] == "Priština: OSCE Mission in Kosovo"

    def test_undecodable_bytes_are_an_error_or_replaced_text(self) -> None:
        result = parse_feed(b"\xff\xfe\x00<rss" + bytes(range(256)))
        assert result.items == []
        assert len(result.errors) == 1

    def test_declared_encoding_does_not_garble_already_decoded_text(self) -> None:
        text = RSS.replace('encoding="UTF-8"', 'encoding="ISO-8859-1"')
        assert parse_feed(text).items[0].item["summary"].startswith("VIENNA, 12 January 2021 –")


class TestDetection:
    @pytest.mark.parametrize(
        "text",
        [
            RSS,
            ATOM,
            '\ufeff<?xml version="1.0"?>\n<!-- generated -->\n<rss version="2.0"/>',
            '<!DOCTYPE rss [<!ENTITY a "b">]>\n<rss version="0.91">',
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
        ],
    )
    def test_feeds_are_recognised(self, text: str) -> None:
        assert looks_like_feed(text)

    @pytest.mark.parametrize(
        "text", ["<html><body/></html>", '{"title": "x"}', "Newsroom\n<rss> in prose", ""]
    )
    def test_other_input_is_not(self, text: str) -> None:
        assert not looks_like_feed(text)
