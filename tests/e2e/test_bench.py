"""``newsflow bench`` end to end, at a small size: it runs the real stack on its own
embedded servers and writes the figures, the ratios and the chart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e


@pytest.mark.timeout(300)
def test_bench_writes_figures_ratios_and_chart(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "MONGODB_URL")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "newsflow_tools.cli",
            "bench",
            "--items",
            "400",
            "--stage-items",
            "200",
            "--latency-seconds",
            "2",
            "--gateway-sizes",
            "100",
            "--out",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=280,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr[-3000:]  # 1: a target missed at this size
    results = json.loads((tmp_path / "latest.json").read_text())
    for run in results["pipeline"].values():
        assert run["stored"] == 400  # every item made it, none rejected or dead
        assert run["rejected"] == run["dead_lettered"] == 0
        assert run["items_per_second"] > 0
        assert run["ratio_to_ceiling"] == pytest.approx(
            run["items_per_second"]
            / results["ceilings"]["items_per_second"][results["ceilings"]["slowest"]],
            rel=0.01,
        )
        assert {"ingest-1", "enrichment-1", "storage-1", "gateway"} <= set(run["cpu_share"])
    assert set(results["pipeline"]) == {"1 replica each", "2 enrichment + 2 storage"}
    assert [r["load"] for r in results["latency"]] == [0.25, 0.5, 0.8]
    assert all(r["received"] == r["sent"] > 0 for r in results["latency"])
    assert set(results["gateway"]["100"]["queries"]) == {
        "newest page",
        "topic filter",
        "office + date",
        "text query",
    }
    assert results["machine"]["cores"] == os.cpu_count()
    assert (tmp_path / "latest.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "ratio_to_ceiling" in done.stdout
    assert "Bottleneck:" in done.stdout
