"""Property tests for every format parser: no input crashes one, no output breaks the contract.

Whatever a publisher's file holds, a parser returns a :class:`ParseResult` whose
items are dicts and whose errors carry a line and a message; and every item it
produces either passes the normaliser or is rejected by it with field-level reasons.
The inputs are arbitrary text, text built from each format's own tokens, JSON
shaped like the format, and real samples cut or spliced at random points.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.domain.contract import PublisherItem
from newsflow.domain.formats.common import ParsedItem, ParseError, ParseResult
from newsflow.domain.formats.dispatch import parse_body
from newsflow.domain.formats.feeds import parse_feed
from newsflow.domain.formats.jsonl import parse_json, parse_jsonl
from newsflow.domain.formats.newsml import parse_newsml
from newsflow.domain.formats.newsroom import parse_newsroom
from newsflow.domain.formats.ninjs import parse_ninjs
from newsflow.domain.formats.nitf import parse_nitf
from newsflow.domain.normalise import Rejection, normalise
from tests.conftest import SAMPLE
from tests.unit.test_formats_feeds import ATOM, RSS
from tests.unit.test_formats_newsml import DATA_ITEM, NEWS_ITEM, XHTML_ITEM, message
from tests.unit.test_formats_ninjs import PRESS_RELEASE, STATEMENT
from tests.unit.test_formats_nitf import NITF

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
FUZZ = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
CONTRACT_FIELDS = frozenset(PublisherItem.model_fields)


def _feed(text: str) -> ParseResult:
    return parse_feed(text, topic_labels=lambda label: label.istitle())


def _bytes(text: str) -> bytes:
    """The text as UTF-8, lone surrogates included (so the XML parsers meet bad bytes)."""
    return text.encode("utf-8", "surrogatepass")


def _xml(text: str) -> ParseResult:
    return parse_body(_bytes(text), "xml", known_topic=lambda label: label.istitle())


#: name -> (parser, whether it builds items itself, so only contract fields may appear).
#: JSON and JSON Lines pass objects through as written; the normaliser judges those.
PARSERS: dict[str, tuple[Callable[[str], ParseResult], bool]] = {
    "newsroom": (parse_newsroom, True),
    "jsonl": (parse_jsonl, False),
    "json": (parse_json, False),
    "ninjs": (parse_ninjs, True),
    "feed": (_feed, True),
    "newsml": (lambda text: parse_newsml(_bytes(text)), True),
    "nitf": (lambda text: parse_nitf(_bytes(text)), True),
    "xml": (_xml, True),
}


def check(name: str, text: str) -> ParseResult:
    """Run a parser and assert everything the module docstring promises."""
    parser, builds_items = PARSERS[name]
    return verify(parser(text), builds_items=builds_items)


def verify(result: ParseResult, *, builds_items: bool) -> ParseResult:
    assert isinstance(result, ParseResult)
    for error in result.errors:
        assert isinstance(error, ParseError)
        assert isinstance(error.line, int)
        assert error.line >= 1
        assert isinstance(error.message, str)
        assert error.message
    for parsed in result.items:
        assert isinstance(parsed, ParsedItem)
        assert isinstance(parsed.line, int)
        assert parsed.line >= 1
        assert isinstance(parsed.item, dict)
        if builds_items:
            assert set(parsed.item) <= CONTRACT_FIELDS
        rejection = _rejection(parsed.item)
        if rejection is not None:
            assert rejection.reason
            assert all(e["field"] and e["message"] for e in rejection.errors)
    return result


def _rejection(item: dict[str, Any]) -> Rejection | None:
    """None when the normaliser accepts the item; any other exception fails the test."""
    try:
        normalise(item, now=NOW)
    except Rejection as rejection:
        return rejection
    return None


# Any text at all, including lone surrogates (which hypothesis leaves out unless asked),
# NULs and line separators.
_ANY_CHAR = st.characters(exclude_categories=["Cs"]) | st.characters(categories=["Cs"])
ANY_TEXT = st.text(_ANY_CHAR, max_size=400)
SHORT_TEXT = st.text(_ANY_CHAR, max_size=40)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(text=ANY_TEXT)
def test_arbitrary_text_never_crashes(name: str, text: str) -> None:
    check(name, text)


# --- Text built from each format's own pieces ---------------------------------------------

_WORDS = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)


def _tokens(*pieces: str) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(pieces) | _WORDS, max_size=40).map("".join)


NEWSROOM_TOKENS = _tokens(
    "\n",
    "\r\n",
    "Newsroom\n",
    "Publishing date: ",
    "Publishing date:",
    "7 January 2021",
    "31 Febtember 2021",
    "2021-01-07T10:00:00Z",
    "Content type: ",
    "Where we are: ",
    "What we do: ",
    "OSCE Mission to Serbia, OSCE Secretariat",
    ", ,",
    ":",
    "\x00",
    "\u202e",
)
XML_TOKENS = _tokens(
    '<?xml version="1.0" encoding="utf-8"?>',
    '<?xml version="1.0" encoding="koi8-r"?>',
    '<!DOCTYPE rss [<!ENTITY a "OSCE">]>',
    '<!DOCTYPE rss [\n<!ENTITY x SYSTEM "file:///etc/passwd">\n]>',
    '<rss version="2.0">',
    "</rss>",
    "<channel>",
    "</channel>",
    '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">',
    "</feed>",
    "<entry>",
    "</entry>",
    "<item>",
    "</item>",
    "<title>",
    "</title>",
    '<title type="html">',
    "<description>",
    "</description>",
    "<summary>",
    "</summary>",
    '<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">',
    "</div></content>",
    "<link>",
    "</link>",
    '<link href="',
    '"/>',
    "https://www.osce.org/",
    "javascript:alert(1)",
    "/relative/path",
    "<pubDate>",
    "</pubDate>",
    "Tue, 12 Jan 2021 16:45:00 +0100",
    "Mon, 99 Foo 0000 99:99:99 +9999",
    "<updated>",
    "</updated>",
    "2021-02-03T11:30:00+02:00",
    "<category>",
    "</category>",
    '<category term="',
    "Elections, Human rights",
    "<language>",
    "</language>",
    "en-US",
    "<![CDATA[",
    "]]>",
    "<p>",
    "</p>",
    "<script>",
    "</script>",
    "&amp;",
    "&lt;b&gt;",
    "&#8211;",
    "&#0;",
    "&#x110000;",
    "&a;",
    "&undefined;",
    "\ufeff",
    "\x00",
)
G2_TOKENS = _tokens(
    '<?xml version="1.0" encoding="utf-8"?>',
    '<?xml version="1.0" encoding="utf-16"?>',
    '<!DOCTYPE newsItem [<!ENTITY a "OSCE">]>',
    '<newsMessage xmlns="http://iptc.org/std/nar/2006-10-01/">',
    "</newsMessage>",
    "<itemSet>",
    "</itemSet>",
    '<newsItem guid="urn:newsml:osce.org:1" version="',
    '<newsItem xml:lang="',
    '">',
    "</newsItem>",
    "<packageItem>",
    "</packageItem>",
    "<conceptItem/>",
    "<planningItem>",
    "</planningItem>",
    "<itemMeta>",
    "</itemMeta>",
    '<pubStatus qcode="stat:canceled"/>',
    '<itemClass qcode="ninat:picture"/>',
    "<versionCreated>",
    "</versionCreated>",
    "<firstCreated>",
    "</firstCreated>",
    "2021-01-06T09:30:00+01:00",
    "20210106T093000+0100",
    '<link rel="irel:canonical" href="https://www.osce.org/x"/>',
    '<provider literal="',
    "<contentMeta>",
    "</contentMeta>",
    "<headline>",
    "</headline>",
    '<headline role="hdlrol:short">',
    "<slugline>",
    "</slugline>",
    '<description role="drol:summary">',
    "</description>",
    '<subject type="cpnat:abstract" qcode="medtop:11000000"><name>',
    "</name></subject>",
    '<subject qcode="medtop:20000574"/>',
    '<subject uri="http://cv.iptc.org/newscodes/subjectcode/',
    '<subject qcode="agency:1"><sameAs qcode="',
    "</sameAs></subject>",
    '<located qcode="geo:',
    "</located>",
    '<language tag="',
    '"/>',
    "<genre><name>",
    "</name></genre>",
    "<contentSet>",
    "</contentSet>",
    '<inlineXML contenttype="application/nitf+xml">',
    "</inlineXML>",
    '<inlineData contenttype="text/html">',
    "</inlineData>",
    '<html xmlns="http://www.w3.org/1999/xhtml"><body>',
    "</body></html>",
    "<nitf>",
    "</nitf>",
    "<head><docdata>",
    "</docdata></head>",
    '<doc-id id-string="',
    '<date.issue norm="',
    '<key-list><keyword key="',
    '"/></key-list>',
    '<tobject><tobject.subject tobject.subject.refnum="',
    '" tobject.subject.ipr="',
    '" tobject.subject.matter="',
    '"/></tobject>',
    "<body><body.head><hedline><hl1>",
    "</hl1></hedline></body.head>",
    "<body.content><p>",
    "</p></body.content></body>",
    "<abstract>",
    "</abstract>",
    "<![CDATA[",
    "]]>",
    "&amp;",
    "&lt;p&gt;",
    "&#0;",
    "&#x110000;",
    "&undefined;",
    "\ufeff",
    "\x00",
    "\u202e",
)
JSON_TOKENS = _tokens(
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\n",
    '"uri"',
    '"headlines"',
    '"value"',
    '"title"',
    '"headline_main"',
    '"body_richtext"',
    '"description_text"',
    '"standard"',
    '{"version": "3.0"}',
    '"type"',
    '"picture"',
    '"event"',
    '"bodies"',
    '"subjects"',
    '"subject"',
    '"name"',
    '"qcode"',
    '"scheme"',
    '"code"',
    '"medtop:20000574"',
    '"http://cv.iptc.org/newscodes/mediatopic/"',
    '"version"',
    '"url"',
    '"published_at"',
    "null",
    "true",
    "1e999",
    "-0",
    "18446744073709551616",
    '"\\ud800"',
    '"\\u0000"',
    '"https://www.osce.org/x"',
)


@pytest.mark.parametrize(
    ("name", "tokens"),
    [
        ("newsroom", NEWSROOM_TOKENS),
        ("feed", XML_TOKENS),
        ("newsml", G2_TOKENS),
        ("nitf", G2_TOKENS),
        ("xml", G2_TOKENS),
        ("xml", XML_TOKENS),
        ("ninjs", JSON_TOKENS),
        ("json", JSON_TOKENS),
        ("jsonl", JSON_TOKENS),
    ],
)
@FUZZ
@given(data=st.data())
def test_format_tokens_never_crash(name: str, tokens: st.SearchStrategy[str], data: Any) -> None:
    check(name, data.draw(tokens))


# --- Real samples, cut and spliced --------------------------------------------------------

SAMPLES: dict[str, list[str]] = {
    "newsroom": [SAMPLE.read_text(encoding="utf-8")],
    "feed": [RSS, ATOM],
    "ninjs": [
        orjson.dumps([PRESS_RELEASE, STATEMENT]).decode(),
        orjson.dumps(PRESS_RELEASE, option=orjson.OPT_INDENT_2).decode(),
        orjson.dumps(PRESS_RELEASE).decode() + "\n" + orjson.dumps(STATEMENT).decode(),
        orjson.dumps(
            [
                {"uri": "urn:a", "version": "2", "headline_main": "H", "body_richtext": "<p>B</p>"},
                {"uri": "urn:b", "standard": {"version": "3.1"}, "type": "event", "title": "T"},
            ]
        ).decode(),
    ],
    "newsml": [NEWS_ITEM, message(NEWS_ITEM, XHTML_ITEM, DATA_ITEM)],
    "nitf": [NITF],
    "xml": [NEWS_ITEM, NITF, RSS],
}


@st.composite
def mangled(draw: st.DrawFn, samples: list[str]) -> str:
    """A sample cut short, with a slice removed, or with junk spliced in."""
    text = draw(st.sampled_from(samples))
    start = draw(st.integers(0, len(text)))
    end = draw(st.integers(start, min(len(text), start + 200)))
    how = draw(st.sampled_from(["cut", "remove", "splice"]))
    if how == "cut":
        return text[:start]
    if how == "remove":
        return text[:start] + text[end:]
    return text[:start] + draw(SHORT_TEXT) + text[end:]


@pytest.mark.parametrize("name", sorted(SAMPLES))
@FUZZ
@given(data=st.data())
def test_mangled_samples_never_crash(name: str, data: Any) -> None:
    check(name, data.draw(mangled(SAMPLES[name])))


# --- JSON shaped like the format, with wrong types anywhere -------------------------------

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _WORDS
)
JSON_VALUES = st.recursive(
    _SCALARS,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(_WORDS, children, max_size=3),
    max_leaves=6,
)
_TEXT_VALUE = st.sampled_from(
    [
        "OSCE Mission to Serbia",
        "<p>Press <b>release</b></p><script>x()</script>",
        "&amp;&lt;&#8211;",
        "2021-01-06T09:30:00+01:00",
        "7 January 2021",
        "https://www.osce.org/mission-to-serbia/475538",
        "javascript:alert(1)",
        "urn:osce:1",
        "12",
        "en",
        "text/html",
        "main",
        "canceled",
        "",
        " ",
        "\x00",
        "\u202e",
    ]
)
#: A field value: usually a plausible string, sometimes any other JSON type (one level deep,
#: which is enough to hit every type check and keeps generation fast).
_LEAF = (
    _TEXT_VALUE
    | _SCALARS
    | st.lists(_SCALARS, max_size=2)
    | st.dictionaries(_WORDS, _SCALARS, max_size=2)
)


def _mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` nine times in ten: items must survive often enough to reach the mapping."""
    return st.integers(0, 9).flatmap(lambda n: bad if n == 0 else good)


_STRING = _mostly(_TEXT_VALUE | _WORDS, _LEAF)
_GOOD_BLOCK = st.fixed_dictionaries(
    {"value": _TEXT_VALUE | _WORDS},
    optional={"role": _TEXT_VALUE, "contenttype": _TEXT_VALUE, "name": _STRING, "href": _STRING},
)
_BLOCK = st.fixed_dictionaries(
    {},
    optional={
        "value": _LEAF,
        "role": _LEAF,
        "contenttype": _LEAF,
        "name": _LEAF,
        "href": _LEAF,
        "uri": _LEAF,
        "qcode": _LEAF,
        "code": _LEAF,
        "scheme": _LEAF,
    },
)
_BLOCKS = _mostly(
    st.lists(_GOOD_BLOCK, max_size=3), st.lists(_BLOCK | _SCALARS, max_size=3) | _LEAF
)
_NINJS_ARRAYS = (
    "descriptions",
    "bodies",
    "subjects",
    "subject",
    "organisations",
    "genres",
    "links",
)
_NINJS_STRINGS = (
    "headline",
    "description_text",
    "description_html",
    "body_text",
    "body_html",
    "version",
    "firstcreated",
    "contentcreated",
    "versioncreated",
    "language",
    "pubstatus",
    "title",
)
NINJS_OBJECTS = st.fixed_dictionaries(
    {"uri": _STRING, "headlines": _BLOCKS},
    optional=dict.fromkeys(_NINJS_ARRAYS, _BLOCKS) | dict.fromkeys(_NINJS_STRINGS, _STRING),
)
CONTRACT_OBJECTS = st.fixed_dictionaries(
    {"title": _STRING},
    optional=dict.fromkeys(CONTRACT_FIELDS - {"title"}, _STRING)
    | {"offices": st.lists(_STRING, max_size=3), "topics": st.lists(_STRING, max_size=3)},
)


def _documents(objects: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """One object, an array of them, or JSON Lines of them."""
    return st.one_of(
        objects.map(lambda o: orjson.dumps(o).decode()),
        st.lists(objects, max_size=2).map(lambda os: orjson.dumps(os).decode()),
        st.lists(objects, max_size=2).map(
            lambda os: "\n".join(orjson.dumps(o).decode() for o in os)
        ),
    )


@FUZZ
@given(text=_documents(NINJS_OBJECTS))
def test_ninjs_shaped_json_never_crashes(text: str) -> None:
    check("ninjs", text)


@pytest.mark.parametrize("name", ["json", "jsonl"])
@FUZZ
@given(data=st.data())
def test_contract_shaped_json_never_crashes(name: str, data: Any) -> None:
    check(name, data.draw(_documents(CONTRACT_OBJECTS | JSON_VALUES)))


# --- Feeds assembled from random entries -------------------------------------------------

_XML_TEXT = st.one_of(
    _TEXT_VALUE.map(html.escape),
    _WORDS.map(html.escape),
    _TEXT_VALUE.map(lambda v: f"<![CDATA[{v}]]>"),
    XML_TOKENS,
)
_RSS_FIELDS = ("title", "link", "description", "pubDate", "category", "content:encoded", "guid")
_ATOM_FIELDS = ("title", "summary", "content", "published", "updated", "category", "link")


@st.composite
def feeds(draw: st.DrawFn) -> str:
    """An RSS or Atom document with random entries, sometimes cut short."""
    atom = draw(st.booleans())
    fields = _ATOM_FIELDS if atom else _RSS_FIELDS
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        parts = []
        for name in draw(st.lists(st.sampled_from(fields), max_size=6)):
            value = draw(_XML_TEXT)
            if atom and name == "link":
                parts.append(f'<link href="{html.escape(value)}"/>')
            elif atom and name == "category":
                parts.append(
                    f'<category term="{html.escape(value)}" label="{html.escape(value)}"/>'
                )
            elif atom and name in ("title", "summary", "content"):
                kind = draw(st.sampled_from(["text", "html"]))
                parts.append(f'<{name} type="{kind}">{value}</{name}>')
            else:
                parts.append(f"<{name}>{value}</{name}>")
        tag = "entry" if atom else "item"
        entries.append(f"<{tag}>{''.join(parts)}</{tag}>")
    head = draw(_XML_TEXT)
    if atom:
        text = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{draw(_WORDS)}">'
            f"<title>{head}</title>{''.join(entries)}</feed>"
        )
    else:
        text = (
            '<?xml version="1.0"?>\n<rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>{head}</title><language>{draw(_WORDS)}</language>"
            f"{''.join(entries)}</channel></rss>"
        )
    if draw(st.booleans()):
        return text
    return text[: draw(st.integers(0, len(text)))]


@FUZZ
@given(text=feeds())
def test_assembled_feeds_never_crash(text: str) -> None:
    check("feed", text)


_ENCODINGS = st.sampled_from(["utf-8", "utf-16", "iso-8859-2", "koi8-r", "cp1252"])


@FUZZ
@given(
    data=st.binary(max_size=400)
    | st.tuples(feeds(), _ENCODINGS).map(lambda pair: pair[0].encode(pair[1], "replace"))
)
def test_feed_bytes_in_any_encoding_never_crash(data: bytes) -> None:
    verify(parse_feed(data, topic_labels=str.istitle), builds_items=True)


_IPTC_SAMPLES = st.sampled_from([NEWS_ITEM, message(NEWS_ITEM, XHTML_ITEM, DATA_ITEM), NITF])


@FUZZ
@given(
    data=st.binary(max_size=400)
    | st.tuples(_IPTC_SAMPLES, _ENCODINGS).map(lambda pair: pair[0].encode(pair[1], "replace"))
)
def test_iptc_bytes_in_any_encoding_never_crash(data: bytes) -> None:
    for parser in (parse_newsml, parse_nitf):
        verify(parser(data), builds_items=True)
    verify(parse_body(data, "xml"), builds_items=True)


@st.composite
def mutated_g2(draw: st.DrawFn) -> str:
    """A NewsML-G2 sample with elements dropped, duplicated, emptied or given junk text."""
    text = draw(_IPTC_SAMPLES)
    for _ in range(draw(st.integers(1, 6))):
        tag = draw(
            st.sampled_from(
                [
                    "headline",
                    "description",
                    "subject",
                    "versionCreated",
                    "firstCreated",
                    "language",
                    "inlineXML",
                    "inlineData",
                    "contentMeta",
                    "itemMeta",
                    "hl1",
                    "body.content",
                    "date.issue",
                    "newsItem",
                ]
            )
        )
        start = text.find(f"<{tag}")
        end = text.find(f"</{tag}>", start)
        if start < 0:
            continue
        stop = end + len(tag) + 3 if end >= 0 else text.find(">", start) + 1
        how = draw(st.sampled_from(["drop", "twice", "junk", "attr"]))
        if how == "drop":
            text = text[:start] + text[stop:]
        elif how == "twice":
            text = text[:stop] + text[start:stop] + text[stop:]
        elif how == "junk":
            junk = html.escape(draw(_XML_TEXT))
            text = text[:start] + f"<{tag}>{junk}</{tag}>" + text[stop:]
        else:
            value = html.escape(draw(_WORDS), quote=True)
            name = draw(st.sampled_from(["version", "guid", "qcode", "tag", "norm", "role"]))
            text = (
                text[: start + len(tag) + 1] + f' {name}="{value}"' + text[start + len(tag) + 1 :]
            )
    return text


@FUZZ
@given(text=mutated_g2())
def test_mutated_iptc_documents_give_items_or_clear_rejections(text: str) -> None:
    result = check("xml", text)
    assert result.items or result.errors


# --- The contract, on everything the real samples give ------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [(name, text) for name, texts in SAMPLES.items() for text in texts],
)
def test_sample_items_are_accepted_by_the_normaliser(name: str, text: str) -> None:
    result = PARSERS[name][0](text)
    assert result.items
    for parsed in result.items:
        assert set(parsed.item) <= CONTRACT_FIELDS
        normalise(parsed.item, now=NOW)
