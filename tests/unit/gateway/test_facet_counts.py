"""Disjunctive facet counts: each kind counted as if its own filter were off, the
same on ``/v1/facets`` and on the search page."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from newsflow_gateway.search.backend import FacetBucket, Facets, SearchFilters, StoryQuery
from newsflow_gateway.search.facets import facet_counts
from tests.unit.gateway.conftest import Start
from tests.unit.gateway.test_pages import story


def tagged(n: int, topic: str, office: str, country: str, month: int = 1) -> dict[str, Any]:
    when = datetime(2021, month, n, tzinfo=UTC)
    return story(
        n,
        topic_ids=[topic],
        office_ids=[office],
        country_ids=[country],
        published_at=when,
        sort_at=when,
    )


# Two on elections (ODIHR in Albania in January, RFoM in Serbia in February), one on
# policing (ODIHR in Serbia in January).
STORIES = [
    tagged(1, "elections", "odihr", "al", month=1),
    tagged(2, "elections", "rfom", "rs", month=2),
    tagged(3, "policing", "odihr", "rs", month=1),
]


def counts(facets: dict[str, Any], kind: str) -> dict[str, int]:
    if kind == "months":
        return {m["month"]: m["count"] for m in facets[kind]}
    return {e["id"]: e["count"] for e in facets[kind]}


async def test_a_filtered_kind_counts_as_if_its_filter_were_off(start: Start) -> None:
    async with start() as gw:
        for doc in STORIES:
            await gw.store(doc)
        answer = await gw.client.get("/v1/facets", params={"topic": "elections"})
    assert answer.status_code == 200, answer.text
    facets = answer.json()
    assert facets["total"] == 2
    # the topic facet still shows what another topic would add...
    assert counts(facets, "topics") == {"elections": 2, "policing": 1}
    # ...while every other kind counts within elections only
    assert counts(facets, "offices") == {"odihr": 1, "rfom": 1}
    assert counts(facets, "countries") == {"al": 1, "rs": 1}
    assert counts(facets, "months") == {"2021-01": 1, "2021-02": 1}


async def test_two_filtered_kinds_each_ignore_only_their_own(start: Start) -> None:
    async with start() as gw:
        for doc in STORIES:
            await gw.store(doc)
        answer = await gw.client.get("/v1/facets", params={"topic": "elections", "office": "odihr"})
        unfiltered = (await gw.client.get("/v1/facets")).json()
    facets = answer.json()
    assert facets["total"] == 1  # story 1
    # topics: the matches of office=odihr (stories 1 and 3)
    assert counts(facets, "topics") == {"elections": 1, "policing": 1}
    # offices: the matches of topic=elections (stories 1 and 2)
    assert counts(facets, "offices") == {"odihr": 1, "rfom": 1}
    # countries and months: both filters on (story 1)
    assert counts(facets, "countries") == {"al": 1}
    assert counts(facets, "months") == {"2021-01": 1}
    assert counts(unfiltered, "topics") == {"elections": 2, "policing": 1}


async def test_values_of_one_kind_are_ored_and_the_counts_do_not_move(start: Start) -> None:
    async with start() as gw:
        for doc in STORIES:
            await gw.store(doc)
        both = await gw.client.get(
            "/v1/facets", params={"topic": ["elections", "policing"], "country": "rs"}
        )
        items = await gw.client.get(
            "/v1/items", params={"topic": ["elections", "policing"], "country": "rs"}
        )
    facets = both.json()
    assert facets["total"] == items.json()["total"] == 2  # stories 2 and 3
    assert counts(facets, "topics") == {"elections": 1, "policing": 1}
    assert counts(facets, "countries") == {"al": 1, "rs": 2}
    assert counts(facets, "offices") == {"odihr": 1, "rfom": 1}


async def test_months_count_as_if_from_and_to_were_off(start: Start) -> None:
    async with start() as gw:
        for doc in STORIES:
            await gw.store(doc)
        answer = await gw.client.get(
            "/v1/facets",
            params={"from": "2021-02-01T00:00:00Z", "to": "2021-02-28T23:59:59.999Z"},
        )
    facets = answer.json()
    assert facets["total"] == 1  # story 2
    assert counts(facets, "months") == {"2021-01": 2, "2021-02": 1}
    assert counts(facets, "topics") == {"elections": 1}


async def test_q_narrows_every_kind(start: Start) -> None:
    async with start() as gw:
        for doc in STORIES:
            await gw.store(doc)
        await gw.store(tagged(4, "policing", "rfom", "al") | {"title": "Police reform noted"})
        answer = await gw.client.get("/v1/facets", params={"q": "elections", "topic": "policing"})
    facets = answer.json()
    # stories 1-3 have "elections" in their title and body; story 4 in its body only
    assert facets["total"] == 2  # stories 3 and 4 (policing, with the word)
    assert counts(facets, "topics") == {"elections": 2, "policing": 2}
    assert counts(facets, "offices") == {"odihr": 1, "rfom": 1}


def sidebar_count(html: str, param: str, value: str) -> int:
    found = re.search(
        rf'<label for="f-{param}-{value}">[^<]*<span class="n">\(([\d,]+)\)</span>', html
    )
    assert found, f"no {param}={value} in the sidebar"
    return int(found.group(1).replace(",", ""))


async def test_the_search_page_shows_the_same_counts(start: Start) -> None:
    async with start() as gw:
        for doc in STORIES:
            await gw.store(doc)
        page = await gw.client.get("/", params={"topic": "elections"})
    html = page.text
    assert page.status_code == 200
    assert "2 stories" in html
    assert sidebar_count(html, "topic", "elections") == 2
    assert sidebar_count(html, "topic", "policing") == 1
    assert sidebar_count(html, "office", "odihr") == 1
    assert sidebar_count(html, "office", "rfom") == 1
    assert 'id="f-topic-elections" checked' in html


class Recording:
    """A StorySearch.facets that records the queries it was asked."""

    def __init__(self) -> None:
        self.asked: list[StoryQuery] = []

    async def facets(self, query: StoryQuery) -> Facets:
        self.asked.append(query)
        return Facets(len(self.asked), {"topics": [FacetBucket(str(query.filters.topic), 1)]})


async def test_only_filtered_kinds_cost_an_extra_count() -> None:
    search = Recording()
    await facet_counts(search, StoryQuery(filters=SearchFilters(language=("en",))))  # type: ignore[arg-type]
    assert len(search.asked) == 1  # language has no facet: nothing to widen
    search = Recording()
    query = StoryQuery(
        filters=SearchFilters(topic=("elections",), date_to=datetime(2021, 2, 1, tzinfo=UTC))
    )
    counted = await facet_counts(search, query)  # type: ignore[arg-type]
    assert [q.filters for q in search.asked] == [
        query.filters,
        SearchFilters(date_to=datetime(2021, 2, 1, tzinfo=UTC)),  # for the topics
        SearchFilters(topic=("elections",)),  # for the months
    ]
    assert counted.total == 1  # the total of the whole query
    assert counted.buckets["topics"] == [FacetBucket("()", 1)]
