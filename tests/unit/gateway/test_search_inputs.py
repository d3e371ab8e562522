"""Hostile search input over HTTP, in-process: every answer is a 200 or a 422 problem,
never a 5xx, on every search route."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from newsflow.domain.taxonomy import load_taxonomy
from newsflow_gateway.search.params import MAX_FILTER_VALUES, MAX_FILTER_VALUES_TOTAL, ItemQuery
from tests.unit.gateway.conftest import Start, assert_problem

ROUTES = ["/v1/items", "/v1/facets", "/v1/feeds/atom", "/v1/feeds/rss"]

Q_OK = [
    "\x00",
    "\u202e\u200b",
    "a" * 500,
    "é" * 200,
    "*",
    "-*",
    "-(-(-(-a)))",
    "((((a))))",
    '"" OR ""',
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ℌ𝔢𝔩𝔩𝔬",
    "ab* cd* ef* gh*",
    '{"$where": 1}',
    "a\tb\nc",
    "\ufffd",
    "NOT a",
]
Q_422 = [
    "a" * 501,
    "((((((a))))))",
    '"unclosed',
    "a*b",
    "a* b* c* d* e*",
    " ".join(["w"] * 33),
    "title:",
    ")",
    "title:title:x",
    "OR OR",
    "AND",
]


def cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


async def test_hostile_q_is_200_or_422_on_every_route(start: Start) -> None:
    async with start() as gw:
        await gw.store(
            {
                "_id": "a" * 32,
                "_v": 1,
                "title": "Elections observed in the region",
                "sort_at": datetime(2021, 1, 7, tzinfo=UTC),
            }
        )
        for route in ROUTES:
            for q in Q_OK:
                response = await gw.client.get(route, params={"q": q})
                assert response.status_code == 200, (route, q, response.text)
            for q in Q_422:
                problem = assert_problem(await gw.client.get(route, params={"q": q}), 422)
                assert problem["errors"][0]["field"] == "q", (route, q)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "W",
        "!!",
        "x" * 500,
        cursor({"s": "newest", "k": 2**64, "i": "a"}),
        cursor({"s": "oldest", "k": 1, "i": "a"}),
        cursor({"s": "relevance", "o": 10**12}),
        cursor({"s": "newest", "k": 1, "i": None}),
        cursor([1, 2, 3]),
        cursor("newest"),
    ],
)
async def test_forged_cursors_are_422(start: Start, value: str) -> None:
    async with start() as gw:
        response = await gw.client.get("/v1/items", params={"cursor": value, "sort": "newest"})
        if value == "":
            assert response.status_code == 200  # an empty cursor is the first page
            return
        problem = assert_problem(response, 422)
        assert problem["errors"][0]["field"] == "cursor"


async def test_extreme_dates_and_limits(start: Start) -> None:
    async with start() as gw:
        for params in (
            {"from": "0001-01-01T00:00:00Z", "to": "9999-12-31T23:59:59Z"},
            {"from": "9999-12-31T23:59:59-05:00"},
            {"limit": 100, "sort": "relevance"},
            {"limit": 1, "sort": "oldest", "q": "-nothing"},
        ):
            response = await gw.client.get("/v1/items", params=params)
            assert response.status_code == 200, (params, response.text)
        for params in ({"limit": 101}, {"limit": 0}, {"sort": "best"}, {"from": "yesterday"}):
            assert_problem(await gw.client.get("/v1/items", params=params), 422)


async def test_live_clients_beyond_the_limit_get_503(start: Start) -> None:
    async with start(max_live_clients=2) as gw:
        hub = gw.app.state.gateway.live
        slots = [hub.reserve(2), hub.reserve(2)]
        assert None not in slots
        problem = assert_problem(await gw.client.get("/v1/stream"), 503)
        assert "2 live clients" in problem["detail"]


async def test_a_prefix_that_grew_too_wide_is_a_422_everywhere(start: Start) -> None:
    """Expanding ``zq*`` against the index finds more than 200 words: a 422 naming q,
    on searches and on the live feed alike, never a 500 or a silent stream."""
    async with start() as gw:
        words = " ".join(f"zq{n:04d}" for n in range(210))
        await gw.store(
            {"_id": "b" * 32, "_v": 1, "title": words, "sort_at": datetime(2021, 1, 7, tzinfo=UTC)}
        )
        for route in [*ROUTES, "/v1/stream"]:
            problem = assert_problem(await gw.client.get(route, params={"q": "zq*"}), 422)
            assert problem["errors"][0]["field"] == "q", route
            assert "too many words" in problem["detail"]
        assert (await gw.client.get("/v1/items", params={"q": "zq00*"})).status_code == 200


async def test_accept_quality_values_choose_the_format_and_caches_are_told(start: Start) -> None:
    async with start() as gw:
        for accept, ninjs in (
            ("application/ninjs+json", True),
            ("application/ninjs+json;q=0.1, application/json", False),
            ("application/json;q=0.5, application/ninjs+json", True),
            ("application/ninjs+json;q=0", False),
            ("*/*", False),
        ):
            response = await gw.client.get("/v1/items", headers={"Accept": accept})
            assert response.status_code == 200
            assert (response.headers["content-type"] == "application/ninjs+json") is ninjs, accept
            assert response.headers["vary"] == "Accept"


async def test_a_flood_of_unknown_parameters_gets_a_short_problem(start: Start) -> None:
    async with start() as gw:
        params = {f"p{n}": "x" for n in range(3000)} | {"y" * 10_000: "1"}
        problem = assert_problem(await gw.client.get("/v1/items", params=params), 422)
        assert len(problem["errors"]) == 20
        assert "more" in problem["detail"]
        assert max(len(e["field"]) for e in problem["errors"]) <= 103


async def test_a_single_valued_parameter_given_twice_is_a_422(start: Start) -> None:
    async with start() as gw:
        for route in [*ROUTES, "/v1/stream"]:
            for repeated in ("q=serbia&q=albania", "sort=oldest&sort=newest", "limit=5&limit=2"):
                if route != "/v1/items" and not repeated.startswith("q="):
                    continue
                problem = assert_problem(await gw.client.get(f"{route}?{repeated}"), 422)
                assert "given more than once" in problem["detail"], (route, repeated)
        ok = await gw.client.get("/v1/items?topic=elections&topic=media-freedom")
        assert ok.status_code == 200  # list filters repeat by design


def tags(n: int) -> list[str]:
    """``n`` distinct well-formed language tags (aa, ab, ...)."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    return [a + b for a in letters for b in letters][:n]


async def test_a_filter_value_given_twice_counts_once(start: Start) -> None:
    topics = sorted(load_taxonomy().topics)
    async with start() as gw:
        for route in ROUTES:  # the live stream stays open; its 422s are checked below
            many = [("topic", t) for _ in range(40) for t in topics]
            response = await gw.client.get(route + "?" + urlencode(many))
            assert response.status_code == 200, (route, response.text[:300])
        repeated = ItemQuery.model_validate(
            {"topic": ["b", "a", "b", "a", "c"], "language": ["en"] * 3}
        )
        assert repeated.topic == ["b", "a", "c"]
        assert repeated.filters().language == ["en"]


async def test_too_many_distinct_filter_values_are_a_422(start: Start) -> None:
    over = [("language", t) for t in tags(MAX_FILTER_VALUES + 1)]
    at = [("language", t) for t in tags(MAX_FILTER_VALUES)]
    over_total = [
        (name, t) for name in ("language", "topic", "office") for t in tags(MAX_FILTER_VALUES)
    ]
    async with start() as gw:
        for route in [*ROUTES, "/v1/stream"]:
            problem = assert_problem(await gw.client.get(route + "?" + urlencode(over)), 422)
            assert problem["errors"][0]["field"] == "language", route
            assert f"at most {MAX_FILTER_VALUES} distinct values" in problem["detail"], route
            problem = assert_problem(await gw.client.get(route + "?" + urlencode(over_total)), 422)
            assert f"at most {MAX_FILTER_VALUES_TOTAL} distinct" in problem["detail"], route
        ok = await gw.client.get("/v1/items?" + urlencode(at + at))  # a repeat is not counted
        assert ok.status_code == 200, ok.text[:300]
