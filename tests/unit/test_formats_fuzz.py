"""Property tests for every format parser: no input crashes one, no output breaks the contract.

Whatever a publisher's file holds, a parser returns a :class:`ParseResult` whose
items are dicts and whose errors carry a line and a message; and every item it
produces either passes the normaliser or is rejected by it with field-level reasons.
The inputs are arbitrary text, text built from each format's own tokens, JSON
shaped like the format, and real samples cut or spliced at random points.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsflow.contract import PublisherItem
from newsflow.formats.common import ParsedItem, ParseError, ParseResult
from newsflow.formats.feeds import parse_feed
from newsflow.formats.jsonl import parse_json, parse_jsonl
from newsflow.formats.newsroom import parse_newsroom
from newsflow.formats.ninjs import parse_ninjs
from newsflow.normalise import Rejection, normalise
from tests.conftest import SAMPLE
from tests.unit.test_formats_feeds import ATOM, RSS
from tests.unit.test_formats_ninjs import PRESS_RELEASE, STATEMENT

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


#: name -> (parser, whether it builds items itself, so only contract fields may appear).
#: JSON and JSON Lines pass objects through as written; the normaliser judges those.
PARSERS: dict[str, tuple[Callable[[str], ParseResult], bool]] = {
    "newsroom": (parse_newsroom, True),
    "jsonl": (parse_jsonl, False),
    "json": (parse_json, False),
    "ninjs": (parse_ninjs, True),
    "feed": (_feed, True),
}


def check(name: str, text: str) -> ParseResult:
    """Run a parser and assert everything the module docstring promises."""
    parser, builds_items = PARSERS[name]
    result = parser(text)
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
        try:
            normalise(parsed.item, now=NOW)
        except Rejection as rejection:
            assert rejection.reason
            assert all(e["field"] and e["message"] for e in rejection.errors)
    return result


# Any text at all, including lone surrogates, NULs and line separators.
ANY_TEXT = st.text(st.characters(exclude_categories=()), max_size=400)


@pytest.mark.parametrize("name", sorted(PARSERS))
@FUZZ
@given(text=ANY_TEXT)
def test_arbitrary_text_never_crashes(name: str, text: str) -> None:
    check(name, text)


# --- Text built from each format's own pieces ---------------------------------------------

_WORDS = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)


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
    '"bodies"',
    '"subjects"',
    '"name"',
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
    ],
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
    return text[:start] + draw(ANY_TEXT) + text[end:]


@pytest.mark.parametrize("name", sorted(SAMPLES))
@FUZZ
@given(data=st.data())
def test_mangled_samples_never_crash(name: str, data: Any) -> None:
    check(name, data.draw(mangled(SAMPLES[name])))


# --- JSON shaped like the format, with wrong types anywhere -------------------------------

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _WORDS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_WORDS, children, max_size=4),
    max_leaves=12,
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
_LEAF = _TEXT_VALUE | _WORDS | JSON_VALUES
_BLOCK = st.fixed_dictionaries(
    {}, optional={"value": _LEAF, "role": _LEAF, "contenttype": _LEAF, "name": _LEAF, "href": _LEAF}
)
_BLOCKS = st.lists(_BLOCK | JSON_VALUES, max_size=3) | JSON_VALUES
NINJS_OBJECTS = st.fixed_dictionaries(
    {"uri": _LEAF},
    optional={
        key: _BLOCKS
        for key in (
            "headlines",
            "descriptions",
            "bodies",
            "subjects",
            "organisations",
            "genres",
            "links",
        )
    }
    | {
        key: _LEAF
        for key in (
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
    },
)
CONTRACT_OBJECTS = st.fixed_dictionaries(
    {},
    optional={key: _LEAF for key in CONTRACT_FIELDS}
    | {"offices": st.lists(_LEAF, max_size=3), "topics": st.lists(_LEAF, max_size=3)},
)


def _documents(objects: st.SearchStrategy[Any]) -> st.SearchStrategy[str]:
    """One object, an array of them, or JSON Lines of them."""
    return st.one_of(
        objects.map(lambda o: orjson.dumps(o).decode()),
        st.lists(objects, max_size=3).map(lambda os: orjson.dumps(os).decode()),
        st.lists(objects, max_size=3).map(
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
