"""The in-process index benchmark runs end to end on a small corpus."""

from __future__ import annotations

import pytest

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools.bench.index_bench import run

pytestmark = pytest.mark.tools


def test_bench_times_the_six_queries_on_a_small_corpus() -> None:
    result = run(300, 3, None)
    assert result["stories"] == 300
    assert result["index_stories_per_s"] > 0
    assert result["phrase_total"] > 0  # the phrases really are in the synthetic text
    assert set(result["queries"]) == {
        "newest page",
        "topic filter",
        "office + date range",
        "two-word relevance",
        "phrase",
        "facets for a text query",
    }
    for figures in result["queries"].values():
        assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]
