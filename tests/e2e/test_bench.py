"""``newsflow bench`` end to end, at a small size: it runs the real stack on its own
embedded servers, a gateway on each search corpus and a rebuilding gateway, and
writes the figures, the verdicts and the charts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

QUERIES = {
    "newest page",
    "topic filter",
    "office + date range",
    "two-word relevance",
    "phrase",
    "facets for a text query",
}


@pytest.mark.timeout(240)
def test_bench_writes_figures_verdicts_and_charts(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MONGODB_URL")}
    args = ["--items", "300", "--stage-items", "100", "--latency-seconds", "1", "--runs", "2"]
    args += ["--sizes", "500,5000", "--requests", "8", "--rebuild-items", "300"]
    args += ["--corpus-cache", str(tmp_path / "cache"), "--out", str(tmp_path / "out")]
    done = subprocess.run(
        [sys.executable, "-m", "newsflow_tools.cli", "bench", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=220,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: a target missed at this size
    results = json.loads((tmp_path / "out" / "latest.json").read_text())
    assert results["machine"]["cores"] == os.cpu_count()
    assert set(results["pipeline"]) == {"1 replica each", "2 enrichment + 2 storage"}
    for run in results["pipeline"].values():
        assert len(run["runs"]) == 2
        for each in run["runs"]:
            assert each["stored"] == 300  # every item made it, none rejected or dead
            assert each["rejected"] == each["dead_lettered"] == 0
            assert len(each["load_average"]) == 3
        assert run["spread"]["min"] <= run["items_per_second"] <= run["spread"]["max"]
        assert {"ingest-1", "enrichment-1", "storage-1", "gateway"} <= set(run["cpu_share"])
    assert [r["load"] for r in results["latency"]] == [0.25, 0.5, 0.8]
    assert all(r["received"] == r["sent"] > 0 for r in results["latency"])
    fresh = results["freshness"]["runs"]
    assert len(fresh) == 2
    assert all(r["received"] == r["sent"] > 0 for r in fresh)  # found by /v1/items?q=
    sizes = results["search"]["sizes"]
    assert set(sizes) == {"500", "5000"}
    for size, run in sizes.items():
        assert run["corpus"]["written_straight_into_the_index"] is True
        assert run["corpus"]["stories"] == int(size)
        assert len(run["runs"]) == 2
        assert set(run["queries"]) == QUERIES
        for figures in run["queries"].values():
            assert set(figures) == {"in_process", "http_1", "http_8"}
            assert figures["http_1"]["errors"] == figures["http_8"]["errors"] == 0
            assert figures["http_8"]["p99_ms"]["median"] > 0
    rebuild = results["rebuild"]
    if "summary" in rebuild:  # a gateway that keeps an index rebuilds it from MongoDB
        assert all(r["stories"] == 300 for r in rebuild["runs"])
        assert rebuild["summary"]["items_per_second"]["median"] > 0
    else:
        assert rebuild["not_measured"]
    assert {t["verdict"] for t in results["targets"]} <= {"PASS", "FAIL", "NOT RUN"}
    assert any(t["target"].startswith("freshness") for t in results["targets"])
    for chart in ("latest.png", "latest-search.png"):
        assert (tmp_path / "out" / chart).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "written straight into the index folder" in done.stdout
    assert "| target | verdict | measured |" in done.stdout
    assert "Bottleneck:" in done.stdout
