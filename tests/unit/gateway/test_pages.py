"""The reader's pages in-process: what they show, that publisher text stays text,
and that bad input is an error page with a 4xx, never a 5xx."""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import urlencode

import pytest

from newsflow.domain.taxonomy import load_taxonomy
from newsflow_gateway.schemas import HighlightOut
from newsflow_gateway.search.params import MAX_FILTER_VALUES, MAX_FILTER_VALUES_TOTAL
from newsflow_gateway.web.links import SearchLink
from newsflow_gateway.web.marks import Piece, TagNote, cut, highlighted
from tests.unit.gateway.conftest import Start

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
BODY = "Observers watched the elections in Albania closely."


def story(n: int = 1, **fields: Any) -> dict[str, Any]:
    when = datetime(2021, 1, n, tzinfo=UTC)
    return {
        "_id": f"{n:032x}",
        "title": f"Elections observed {n}",
        "summary": "A mission of observers reported.",
        "body": BODY,
        "published_at": when,
        "sort_at": when,
        "topics": [
            {
                "id": "elections",
                "name": "Elections",
                "source": "inferred",
                "confidence": 0.83,
                "evidence": [{"field": "body", "text": "elections", "start": 22, "end": 31}],
            }
        ],
        "topic_ids": ["elections"],
        "offices": [{"id": "odihr", "name": "ODIHR", "source": "declared", "confidence": 1.0}],
        "office_ids": ["odihr"],
        "taxonomy_version": "2024.01.01",
        "copies": {
            "c1": {
                "copy_key": "c1",
                "revision": 2,
                "received_at": when,
                "item": {"source": "Test Wire", "offices": ["OSCE/ODIHR"], "topics": []},
            }
        },
        "_v": 1,
        **fields,
    }


# --- pure helpers ---------------------------------------------------------------


def test_cut_marks_spans_and_keeps_the_whole_text() -> None:
    note = (TagNote("Topic", "Elections", 0.5, "inferred"),)
    pieces = cut("abcdef", [(4, 6, note), (1, 3, ()), (2, 5, ()), (5, 9, ()), (3, 3, ())])
    assert "".join(p.text for p in pieces) == "abcdef"
    assert [(p.text, p.marked) for p in pieces] == [
        ("a", False),
        ("bc", True),
        ("d", False),
        ("ef", True),
    ]
    assert pieces[3].notes == note


def test_cut_of_empty_text_is_one_empty_piece() -> None:
    assert cut("", [(0, 1, ())]) == [Piece("")]


def test_highlights_mark_the_matches() -> None:
    pieces = highlighted(HighlightOut(text="rule of law", start=0, matches=[(0, 4), (8, 11)]))
    assert [p.text for p in pieces if p.marked] == ["rule", "law"]


def test_links_keep_the_search_and_change_one_thing() -> None:
    link = SearchLink((("q", "a b"), ("topic", "x"), ("topic", "y"), ("cursor", "c")))
    assert link.without("topic", "x") == "/?q=a+b&topic=y"
    assert link.page("next") == "/?q=a+b&topic=x&topic=y&cursor=next"
    assert link.api("/v1/stream") == "/v1/stream?q=a+b&topic=x&topic=y"
    assert link.month("2024-02") == (
        "/?q=a+b&topic=x&topic=y&from=2024-02-01T00%3A00%3A00Z&to=2024-02-29T23%3A59%3A59.999Z"
    )


# --- pages ----------------------------------------------------------------------


async def test_search_page_lists_marks_and_escapes(start: Start) -> None:
    async with start() as gw:
        await gw.store(story(1))
        await gw.store(story(2, title=HOSTILE + " elections", body=HOSTILE))
        page = await gw.client.get("/", params={"q": "elections"})
        everything = await gw.client.get("/")
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<mark>Elections</mark>" in html or "<mark>elections</mark>" in html
    assert 'href="/stories/' + f"{1:032x}" + '"' in html
    assert "2 stories" in html
    # the facet sidebar counts, and the feeds and API carry the same search
    assert 'value="elections"' in everything.text
    assert "/v1/feeds/atom?q=elections" in html
    assert "/v1/items?q=elections&amp;format=ninjs" in html


async def test_checked_filter_is_a_removable_chip(start: Start) -> None:
    async with start() as gw:
        await gw.store(story(1))
        page = await gw.client.get("/?topic=elections&q=")
    assert page.status_code == 200
    assert "checked" in page.text
    assert 'aria-label="Remove Topic: Elections"' in page.text
    assert 'class="chip" href="/"' in page.text


async def test_paging_walks_the_cursor(start: Start) -> None:
    async with start() as gw:
        for n in range(1, 4):
            await gw.store(story(n))
        first = await gw.client.get("/?limit=2")
        assert 'rel="next"' in first.text
        older = first.text.split('class="older" href="')[1].split('"')[0].replace("&amp;", "&")
        second = await gw.client.get(older)
    assert second.status_code == 200
    assert "Elections observed 1" in second.text
    assert "Elections observed 3" not in second.text
    assert 'rel="next"' not in second.text


@pytest.mark.parametrize(
    "query",
    [
        "topic=nope",
        "q=elections%20OR",
        "q=%22open",
        "cursor=zzzz",
        "cursor=%00%ff",
        "q=a&q=b",
        "limit=0",
        "limit=abc",
        "sort=sideways",
        "from=yesterday",
        "from=2021-02-01T00:00:00Z&to=2021-01-01T00:00:00Z",
        "x" * 300 + "=1",
        "q=" + "a" * 501,
    ],
)
async def test_bad_parameters_are_a_4xx_page(start: Start, query: str) -> None:
    async with start() as gw:
        response = await gw.client.get(f"/?{query}")
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in response.text
    assert "x" * 101 not in response.text


async def test_story_page_marks_evidence_and_lists_copies(start: Start) -> None:
    async with start() as gw:
        await gw.store(story(1))
        page = await gw.client.get(f"/stories/{1:032x}")
    assert page.status_code == 200, page.text
    html = page.text
    assert '<mark class="evidence" tabindex="0" aria-describedby="b-2">elections' in html
    assert "Topic: Elections · inferred · confidence 0.83" in html
    assert "2024.01.01" in html
    assert "OSCE/ODIHR" in html
    assert "Test Wire" in html


async def test_only_web_addresses_become_links(start: Start) -> None:
    async with start() as gw:
        await gw.store(story(1, url="javascript:alert(1)"))
        await gw.store(story(2, url="https://www.osce.org/odihr/1"))
        bad = await gw.client.get(f"/stories/{1:032x}")
        good = await gw.client.get(f"/stories/{2:032x}")
    assert "javascript:" not in bad.text
    assert '<a href="https://www.osce.org/odihr/1"' in good.text


@pytest.mark.parametrize("item_id", ["f" * 32, "not-an-id", "A" * 32, "%3Cscript%3E"])
async def test_unknown_story_is_a_404_page(start: Start, item_id: str) -> None:
    async with start() as gw:
        response = await gw.client.get(f"/stories/{item_id}")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "No such story" in response.text


async def test_office_page_shows_the_entry_and_its_stories(start: Start) -> None:
    async with start() as gw:
        await gw.store(story(1))
        page = await gw.client.get("/offices/odihr")
        listing = await gw.client.get("/offices")
        missing = await gw.client.get("/offices/nope")
        topic = await gw.client.get("/topics/elections")
        country = await gw.client.get("/countries/al")
    assert page.status_code == 200, page.text
    assert "Office for Free Elections" in page.text  # a former name, with its dates
    assert "1990-11-21" in page.text
    assert "Elections observed 1" in page.text
    assert 'data-stream="/v1/stream?office=odihr"' in page.text
    assert listing.status_code == 200
    assert 'href="/offices/odihr"' in listing.text
    assert missing.status_code == 404
    assert topic.status_code == 200
    assert "Elections observed 1" in topic.text
    assert country.status_code == 200
    assert "Albania" in country.text


async def test_pages_refuse_when_reading_needs_a_key(start: Start) -> None:
    async with start(read_requires_key=True) as gw:
        pages = [await gw.client.get(p) for p in ("/", f"/stories/{1:032x}", "/offices")]
    for page in pages:
        assert page.status_code == 401
        assert page.headers["content-type"].startswith("text/html")
        assert "Reading needs an API key" in page.text


@pytest.mark.parametrize(
    "path",
    [
        "/?foo=1",
        "/offices/odihr?limit=100000&foo=1",
        "/offices/odihr?q=elections",
        "/topics?foo=1",
        "/countries?limit=5",
        f"/stories/{1:032x}?foo=1",
        "/offices/odihr?" + "x" * 300 + "=1",
    ],
)
async def test_every_page_refuses_a_parameter_it_does_not_read(start: Start, path: str) -> None:
    async with start() as gw:
        await gw.store(story(1))
        response = await gw.client.get(path)
    assert response.status_code == 422, path
    assert response.headers["content-type"].startswith("text/html")
    assert "Extra inputs are not permitted" in response.text
    assert "x" * 101 not in response.text


async def test_entity_pages_still_take_their_cursor(start: Start) -> None:
    async with start() as gw:
        await gw.store(story(1))
        first = await gw.client.get("/offices/odihr")
        empty = await gw.client.get("/offices/odihr?cursor=")
        bad = await gw.client.get("/offices/odihr?cursor=zzzz")
    assert first.status_code == empty.status_code == 200
    assert bad.status_code == 422


async def test_repeated_filter_values_are_kept_once_and_the_page_stays_small(
    start: Start,
) -> None:
    """A hostile URL, every topic id forty times: each link carried all 1,080 values
    and a chip was drawn per value (a 29 MB page). Now each value counts once."""
    topics = sorted(load_taxonomy().topics)
    query = urlencode([("topic", t) for _ in range(40) for t in topics])
    async with start() as gw:
        await gw.store(story(1))
        page = await gw.client.get(f"/?{query}")
        once = await gw.client.get("/?" + urlencode([("topic", t) for t in topics]))
    assert page.status_code == 200, page.text[:500]
    assert len(page.content) < 200_000
    assert page.text == once.text  # the same search, the same page
    for topic in topics:
        name = load_taxonomy().topics[topic].name
        assert page.text.count(f'aria-label="Remove Topic: {escape(name)}"') == 1, topic


async def test_too_many_distinct_filter_values_are_a_4xx_page(start: Start) -> None:
    many = urlencode([("language", tag) for tag in languages(MAX_FILTER_VALUES + 1)])
    each = [
        urlencode([(name, tag) for tag in languages(MAX_FILTER_VALUES)])
        for name in ("language", "topic", "office")
    ]
    async with start() as gw:
        page = await gw.client.get(f"/?{many}")
        total = await gw.client.get("/?" + "&".join(each))
    for response in (page, total):
        assert 400 <= response.status_code < 500, response.text[:500]
        assert response.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in response.text
    assert f"at most {MAX_FILTER_VALUES} distinct values" in page.text
    assert f"at most {MAX_FILTER_VALUES_TOTAL} distinct" in total.text


def languages(n: int) -> list[str]:
    """``n`` distinct well-formed language tags (aa, ab, ...)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [a + b for a in letters for b in letters][:n]
