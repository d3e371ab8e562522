"""The bench's own logic: its items and stories, its arithmetic, how it judges the
targets and how it prints them."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from newsflow.domain.contract import PublisherItem
from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools.bench import stats
from newsflow_tools.bench.corpus import encode, generate_items
from newsflow_tools.bench.report import ascii_chart, table
from newsflow_tools.bench.stories import QUERY_NAMES, Query, StoryMaker, query_plan, to_call
from newsflow_tools.bench.verdict import judge, passed, query_checks

pytestmark = pytest.mark.tools

TAXONOMY = load_taxonomy()


def test_items_are_realistic_valid_and_reproducible() -> None:
    items = generate_items(TAXONOMY, 300, seed=3)
    sizes = [len(p) for p in encode(items)]
    assert 1300 <= sum(sizes) / len(sizes) <= 1700  # about 1.5 KB of JSON each
    assert items == generate_items(TAXONOMY, 300, seed=3)
    assert items != generate_items(TAXONOMY, 300, seed=4)
    now = datetime(2026, 11, 27, tzinfo=UTC)
    ids = {normalise(PublisherItem.model_validate(i).model_dump(), now=now).id for i in items}
    assert len(ids) == 300  # every item is its own story
    assert any("offices" not in i for i in items)  # some carry no metadata, as on osce.org


def test_items_name_offices_topics_and_countries_in_their_text() -> None:
    tagger = Tagger(TAXONOMY)
    now = datetime(2026, 11, 27, tzinfo=UTC)
    for raw in generate_items(TAXONOMY, 50, seed=5):
        bare = {k: v for k, v in raw.items() if k not in ("offices", "topics")}
        tags = tagger.tag(normalise(bare, now=now))
        assert tags.offices, raw["title"]
        assert tags.countries, raw["title"]
        assert tags.topics, raw["title"]


def fresh_run(p50: float, p99: float) -> dict[str, Any]:
    return {
        "offered_items_per_second": 150.0,
        "sent_items_per_second": 149.9,
        "poll_interval_ms": 50.0,
        "p50_ms": p50,
        "p99_ms": p99,
        "max_ms": p99 + 10,
        "received": 10,
        "sent": 10,
    }


def results(
    *,
    ratio: float,
    p99: float,
    second: float,
    validation: float,
    first: float = 800.0,
    fresh: float = 600.0,
) -> dict[str, Any]:
    run = {
        "items_per_second": first,
        "ratio_to_ceiling": ratio,
        "cpu_seconds_per_1000": {"secantusd": 3.1, "storage-1": 0.4, "enrichment-1": 0.12},
        "cpu_share": {"secantusd": 0.93, "storage-1": 0.12, "enrichment-1": 0.04},
    }
    return {
        "generated_at": "2026-11-27T00:00:00+00:00",
        "machine": {"cores": 2, "cpu": "test", "python": "3.11"},
        "servers": {"redis": "6.2", "mongodb_wire_server": "8.2"},
        "settings": {"items": 100, "item_bytes": 1500, "batch_size": 100},
        "ceilings": {
            "items_per_second": {
                "redis ingest stage": 50_000.0,
                "redis enrichment stage": 50_000.0,
                "redis storage stage": 50_000.0,
                "mongodb inserts": 900.0,
            },
            "slowest": "mongodb inserts",
        },
        "stages": {
            "validation": {"items_per_second": validation, "cpu_seconds_per_1000_items": 0.1},
            "tagging": {"items_per_second": 8000.0, "cpu_seconds_per_1000_items": 0.1},
            "storage": {"items_per_second": 280.0, "cpu_seconds_per_1000_items": 0.4},
        },
        "pipeline": {
            "one": run,
            "two": {**run, "items_per_second": second},
        },
        "latency": [
            {
                "load": 0.5,
                "offered_items_per_second": 150.0,
                "sent": 10,
                "received": 10,
                "p50_ms": 30.0,
                "p95_ms": 80.0,
                "p99_ms": p99,
            }
        ],
        "freshness": {
            "offered_items_per_second": 150.0,
            "runs": [
                fresh_run(200.0, fresh),
                fresh_run(210.0, fresh + 50),
                fresh_run(190.0, fresh - 50),
            ],
        },
    }


def test_verdict_meets_targets_and_names_the_bottleneck() -> None:
    r = results(ratio=0.9, p99=120.0, second=820.0, validation=9000.0)
    judge(r)
    assert [t["verdict"] for t in r["targets"]] == ["PASS"] * 6
    assert passed(r)
    assert "enrichment-1 8,333/s" in r["targets"][2]["detail"]  # 1000 / 0.12 s
    assert "p99 600.0 ms (runs 550.0-650.0)" in r["targets"][4]["detail"]
    assert "mongodb inserts" in r["bottleneck"]
    assert "secantusd used 93% of one core" in r["bottleneck"]
    # 1000/3.1 = 323/s for secantusd, 1000/0.4 = 2,500/s for storage: about 8x
    assert (
        "The limit is secantusd; the next bottleneck would be storage-1, at about 8x"
        in (r["bottleneck"])
    )
    out = io.StringIO()
    table(r, out)
    assert "| one | 800 | 0.90 |" in out.getvalue()
    assert "**FAIL**" not in out.getvalue()
    orjson.dumps(r)  # everything in the results is JSON


def test_verdict_reports_each_missed_target() -> None:
    r = results(ratio=0.7, p99=650.0, second=250.0, validation=4000.0, first=700.0, fresh=1100.0)
    judge(r)
    assert [t["verdict"] for t in r["targets"]] == ["FAIL"] * 6
    assert not passed(r)
    assert r["targets"][0]["target"] == "throughput at least 3x 246 = 738 items/s"
    out = io.StringIO()
    table(r, out)
    assert out.getvalue().count("| **FAIL** |") == 6


def test_an_item_never_found_fails_freshness_whatever_the_p99() -> None:
    r = results(ratio=0.9, p99=120.0, second=820.0, validation=9000.0)
    r["freshness"]["runs"][1]["received"] = 9
    judge(r)
    assert r["targets"][4]["verdict"] == "FAIL"
    assert "not found: 9/10" in r["targets"][4]["detail"]


def test_a_slow_service_process_misses_the_5000_target() -> None:
    r = results(ratio=0.9, p99=120.0, second=820.0, validation=9000.0)
    r["pipeline"]["one"]["cpu_seconds_per_1000"]["enrichment-1"] = 0.25  # 4,000/s
    judge(r)
    assert not r["targets"][2]["met"]


def test_render_judges_a_saved_run_again_and_redraws_its_charts(tmp_path: Any) -> None:
    from newsflow_tools.bench.run import render

    saved = results(ratio=0.85, p99=100.0, second=810.0, validation=9000.0)
    saved["search"] = search_results({10_000: 1.0, 100_000: 2.0, 1_000_000: 5.0})
    path = tmp_path / "latest.json"
    path.write_bytes(orjson.dumps(saved))
    out = io.StringIO()
    again = render(path, out)
    assert passed(again)
    assert orjson.loads(path.read_bytes())["targets"] == again["targets"]
    assert (tmp_path / "latest.png").read_bytes()[:4] == b"\x89PNG"
    assert (tmp_path / "latest-search.png").read_bytes()[:4] == b"\x89PNG"
    assert "Bottleneck:" in out.getvalue()


# --- arithmetic -----------------------------------------------------------------


def test_percentiles_interpolate_between_ranks() -> None:
    samples = [float(x) for x in range(1, 101)]  # 1..100
    assert stats.percentile(samples, 50) == pytest.approx(50.5)
    assert stats.percentile(samples, 99) == pytest.approx(99.01)
    assert stats.percentile(samples, 100) == 100.0
    assert stats.percentile([7.0], 99) == 7.0
    assert stats.percentile([3.0, 1.0, 2.0], 0) == 1.0  # order does not matter
    with pytest.raises(ValueError, match="no samples"):
        stats.percentile([], 50)
    assert stats.latency_summary([1.0, 2.0, 3.0, 4.0]) == {
        "n": 4,
        "p50_ms": 2.5,
        "p99_ms": 3.97,
        "max_ms": 4.0,
    }


def test_spread_is_the_median_run_and_the_range() -> None:
    assert stats.spread([3.0, 1.0, 2.0]) == {"median": 2.0, "min": 1.0, "max": 3.0}
    runs = [{"p99_ms": 5.0, "p50_ms": 1.0}, {"p99_ms": 9.0, "p50_ms": 2.0}]
    assert stats.over_runs(runs, ["p99_ms"]) == {"p99_ms": {"median": 7.0, "min": 5.0, "max": 9.0}}


def test_gateway_overhead_allows_twenty_percent_and_two_ms() -> None:
    assert stats.within_overhead(14.0, 10.0)  # 10 * 1.2 + 2 = 14
    assert not stats.within_overhead(14.01, 10.0)
    assert stats.within_overhead(2.45, 0.4)  # small queries: the 2 ms dominate
    assert not stats.within_overhead(3.0, 0.4)


def test_growth_exponent_tells_a_scan_from_an_index() -> None:
    sizes = [10_000, 100_000, 1_000_000]
    assert stats.growth_exponent(sizes, [1.0, 10.0, 100.0]) == pytest.approx(1.0)  # linear
    assert stats.growth_exponent(sizes, [2.0, 2.0, 2.0]) == pytest.approx(0.0)
    assert stats.growth_exponent(sizes, [1.0, 10**0.5, 10.0]) == pytest.approx(0.5)
    assert stats.growth_exponent([10_000], [1.0]) is None
    assert stats.growth_exponent(sizes, [1.0, 0.0, 2.0]) is None
    assert stats.per_100k(250.0, 1_000_000) == 25.0


# --- stories and queries -----------------------------------------------------------


def test_stories_are_reproducible_one_by_one_and_shaped_as_stored() -> None:
    maker = StoryMaker(TAXONOMY, seed=5)
    again = StoryMaker(TAXONOMY, seed=5)
    first = list(maker.stories(0, 50))
    assert first == list(again.stories(0, 50))
    assert maker.story(40) == first[40]  # any story alone, without the ones before it
    assert first != list(StoryMaker(TAXONOMY, seed=6).stories(0, 50))
    assert len({s["_id"] for s in first}) == 50
    story = first[0]
    assert story["sort_at"].tzinfo is not None
    assert set(story["office_ids"]) <= set(TAXONOMY.offices)
    assert set(story["topic_ids"]) <= set(TAXONOMY.topics)
    assert set(story["country_ids"]) <= set(TAXONOMY.countries)
    assert story["content_type"]["id"] == story["content_type_id"]
    assert TAXONOMY.offices[story["office_ids"][0]].name in story["title"]
    years = {s["sort_at"].year for s in maker.stories(0, 500)}
    assert len(years) >= 6  # spread over years


def test_the_plan_has_the_six_queries_and_in_process_calls_match_them() -> None:
    plan = query_plan(StoryMaker(TAXONOMY), variants=4)
    assert tuple(plan) == QUERY_NAMES
    assert all(len(v) == 4 for v in plan.values())
    office = to_call(plan["office + date range"][1])
    assert office.filters.office
    assert office.filters.office[0] in TAXONOMY.offices
    assert office.filters.date_from is not None
    assert office.filters.date_to is not None
    assert (office.filters.date_to - office.filters.date_from).days == 365
    assert office.filters.date_from.tzinfo is not None
    relevance = to_call(plan["two-word relevance"][0])
    assert relevance.sort == "relevance"
    assert relevance.q
    assert len(relevance.q.split()) == 2
    phrase = to_call(plan["phrase"][0])
    assert phrase.q
    assert phrase.q.startswith('"')
    assert phrase.sort == "newest"
    facets = to_call(plan["facets for a text query"][0])
    assert facets.facets
    assert facets.q
    assert plan["facets for a text query"][0].path == "/v1/facets"
    topic = to_call(plan["topic filter"][2])
    assert topic.filters.topic[0] in TAXONOMY.topics
    assert topic.limit == 20
    with pytest.raises(ValueError, match="unknown sort"):
        to_call(Query("/v1/items", {"sort": "random"}))


# --- search targets and tables ------------------------------------------------------


def _figure(value: float) -> dict[str, float]:
    return {"median": value, "min": value * 0.9, "max": value * 1.1}


def search_results(
    p50: dict[int, float], *, p99_factor: float = 3.0, http_extra: float = 1.0, errors: int = 0
) -> dict[str, Any]:
    """Every query at each size with in-process p50 ``p50[size]`` and HTTP that much
    plus ``http_extra`` ms; p99 is ``p99_factor`` times p50."""

    def query(v: float) -> dict[str, Any]:
        http = v + http_extra
        return {
            "in_process": {"p50_ms": _figure(v), "p99_ms": _figure(v * p99_factor), "errors": 0},
            "http_1": {
                "p50_ms": _figure(http),
                "p99_ms": _figure(http * p99_factor),
                "requests_per_second": _figure(100.0),
                "errors": errors,
            },
            "http_8": {
                "p50_ms": _figure(http * 4),
                "p99_ms": _figure(http * 4 * p99_factor),
                "requests_per_second": _figure(300.0),
                "errors": 0,
            },
        }

    return {
        "settings": {
            "runs": 3,
            "requests_per_query_one_client": 100,
            "concurrent_clients": 8,
            "requests_per_client": 25,
        },
        "sizes": {
            str(size): {
                "stories": size,
                "corpus": {
                    "stories": size,
                    "build_seconds": size / 5000,
                    "stories_per_second": 5000,
                    "bytes": size * 2500,
                    "cached": True,
                },
                "gateway_rss_mb": {"idle": 90.0, "after": 100.0 + size / 10_000},
                "runs": [{"load_average": [0.5, 0.4, 0.3]}] * 3,
                "queries": {name: query(v) for name in QUERY_NAMES},
                # the search page: a search and facets, about twice one query
                "search_page": {k: f for k, f in query(2 * v).items() if k != "in_process"},
            }
            for size, v in p50.items()
        },
    }


def search_only(search: dict[str, Any]) -> dict[str, Any]:
    return {
        "generated_at": "2026-11-29T00:00:00+00:00",
        "machine": {
            "cores": 2,
            "cpu": "test",
            "python": "3.11",
            "load_average_at_start": [1, 1, 1],
        },
        "servers": {"redis": "6.2", "mongodb_wire_server": "8.2"},
        "settings": {"runs": 3},
        "search": search,
    }


def verdicts(r: dict[str, Any]) -> dict[str, str]:
    return {t["target"]: t["verdict"] for t in r["targets"]}


def test_search_targets_pass_when_fast_and_flat() -> None:
    r = search_only(search_results({10_000: 1.0, 100_000: 2.0, 1_000_000: 5.0}))
    judge(r)
    assert set(verdicts(r).values()) == {"PASS"}
    assert len(r["targets"]) == 8
    # HTTP p50 2, 3 and 6 ms: 3x the time for 100x the stories
    assert r["search"]["growth_exponents"]["phrase"] == pytest.approx(0.24, abs=0.01)
    out = io.StringIO()
    table(r, out)
    text = out.getvalue()
    assert "written straight into the index folder" in text
    assert "| 1,000,000 | 2,500 | 250 | 200 |" in text  # index MB, per 100k, RSS
    assert "1: PASS, 8: PASS" in text
    assert "| newest page | 2 / 6 | 3 / 9 | 6 / 18 | 0.239 |" in text
    assert "**FAIL**" not in text
    assert "| search page `/` (search + facets + HTML) | | 5 (4.5-5.5) / 15 (13.5-16.5) |" in text


def test_search_targets_fail_on_slow_queries_overhead_and_growth() -> None:
    # Linear growth: 100x the stories, 100x the time; 30 ms p50 at 100k, p99 90 ms.
    r = search_only(search_results({10_000: 3.0, 100_000: 30.0, 1_000_000: 300.0}, http_extra=10.0))
    judge(r)
    v = verdicts(r)
    assert v["at 100,000 stories, 1 client: p99 <= 50 ms per query, <= 100 ms for facets"] == (
        "FAIL"
    )
    assert v["at 1,000,000 stories, 8 concurrent clients: p99 <= 200 ms"] == "FAIL"
    assert v["at 100,000 stories: gateway p50 within 1.2x + 2 ms of in-process (1 client)"] == (
        "FAIL"
    )
    assert v["at 100,000 stories: search page p99 <= 100 ms (1 client)"] == "FAIL"
    grows = next(t for t in r["targets"] if t["target"].startswith("latency grows"))
    assert grows["verdict"] == "FAIL"
    assert "100x the stories" in grows["detail"]
    # facets have their own, looser limit at 100k: 40 ms * 3 = 120 ms > 100 ms
    checks = query_checks(
        100_000,
        "facets for a text query",
        r["search"]["sizes"]["100000"]["queries"]["facets for a text query"],
    )
    assert checks["p99_1"] is False


def test_facets_get_100_ms_at_100k_and_other_sizes_have_no_p99_target() -> None:
    r = search_results({100_000: 20.0}, http_extra=0.0)  # p99 60 ms
    queries = r["sizes"]["100000"]["queries"]
    assert query_checks(100_000, "facets for a text query", queries["phrase"])["p99_1"] is True
    assert query_checks(100_000, "phrase", queries["phrase"])["p99_1"] is False
    assert query_checks(10_000, "phrase", queries["phrase"])["p99_1"] is None


def test_sizes_not_run_are_not_failures_and_errors_are() -> None:
    r = search_only(search_results({1_000: 1.0, 5_000: 1.0}, errors=2))
    judge(r)
    v = verdicts(r)
    # 100k x3 and its search page, 1M x2, growth (5x apart only)
    assert list(v.values()).count("NOT RUN") == 7
    assert v["every search request answered 200"] == "FAIL"
    assert not passed(r)
    out = io.StringIO()
    table(r, out)
    assert "(2 errors)" in out.getvalue()
    assert "| NOT RUN |" in out.getvalue()


def test_ascii_chart_draws_longer_bars_for_slower_queries() -> None:
    chart = ascii_chart(search_results({10_000: 1.0, 1_000_000: 99.0})["sizes"])
    lines = [line for line in chart.splitlines() if line.startswith("phrase")]
    assert len(lines) == 2
    assert lines[0].count("#") == 1
    assert lines[1].count("#") == 40
    assert lines[1].endswith("100 ms")


def test_a_corpus_is_written_once_reused_and_replaces_stale_ones(tmp_path: Any) -> None:
    from newsflow_gateway.index.index import SearchIndex
    from newsflow_tools.bench.search import corpus

    stale = tmp_path / "corpus-30-seed13-gen0-schemaold"
    (stale / "index").mkdir(parents=True)
    other = tmp_path / "corpus-300-seed13-gen0-schemaold"
    other.mkdir()
    maker = StoryMaker(TAXONOMY)
    built = corpus(tmp_path, 30, maker, batch=7)
    assert not built["cached"]
    assert built["written_straight_into_the_index"] is True
    assert not stale.exists()  # another schema's corpus of the same size: gone
    assert other.exists()  # another size: kept
    index = SearchIndex.open(built["path"])
    assert index.num_docs() == 30
    assert index.position() is None  # served as-is by a gateway on an empty stream
    index.close()
    again = corpus(tmp_path, 30, maker)
    assert again["cached"]
    assert again["build_seconds"] == built["build_seconds"]
