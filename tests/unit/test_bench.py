"""The bench's own logic: its items, and how it judges the targets."""

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

from newsflow_tools.bench.corpus import encode, generate_items
from newsflow_tools.bench.report import table
from newsflow_tools.bench.run import _verdict

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


def results(
    *, ratio: float, p99: float, second: float, validation: float, gateway_ok: bool = True
) -> dict[str, Any]:
    run = {
        "items_per_second": 300.0,
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
                "mongodb inserts": 320.0,
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
        "gateway": {
            "1000": {
                "requests_per_query": 10,
                "queries": {
                    "newest page": {
                        "gateway_p50_ms": 12.0 if gateway_ok else 30.0,
                        "gateway_p99_ms": 15.0,
                        "gateway_requests_per_second": 80.0,
                        "direct_p50_ms": 10.0,
                        "direct_p99_ms": 12.0,
                        "direct_queries_per_second": 95.0,
                        "ratio": 1.2 if gateway_ok else 3.0,
                        "overhead_ms": 2.0 if gateway_ok else 20.0,
                        "within_target": gateway_ok,
                    }
                },
            }
        },
    }


def test_verdict_meets_targets_and_names_the_bottleneck() -> None:
    r = results(ratio=0.9, p99=120.0, second=300.0, validation=9000.0)
    _verdict(r)
    assert [t["met"] for t in r["targets"]] == [True, True, True, True, True]
    assert "enrichment-1 8,333/s" in r["targets"][1]["detail"]  # 1000 / 0.12 s
    assert "mongodb inserts" in r["bottleneck"]
    assert "secantusd used 93% of one core" in r["bottleneck"]
    # 1000/3.1 = 323/s for secantusd, 1000/0.4 = 2,500/s for storage: about 8x
    assert (
        "The limit is secantusd; the next bottleneck would be storage-1, at about 8x"
        in (r["bottleneck"])
    )
    out = io.StringIO()
    table(r, out)
    assert "| one | 300 | 0.90 |" in out.getvalue()
    assert "**no**" not in out.getvalue()
    orjson.dumps(r)  # everything in the results is JSON


def test_verdict_reports_each_missed_target() -> None:
    r = results(ratio=0.7, p99=650.0, second=250.0, validation=4000.0, gateway_ok=False)
    _verdict(r)
    assert [t["met"] for t in r["targets"]] == [False, False, False, False, False]
    assert r["targets"][4]["detail"] == "over on 1000 stories, newest page"
    out = io.StringIO()
    table(r, out)
    assert out.getvalue().count("**no**") == 5
    assert "| 3.0 | no |" in out.getvalue()  # the query's own row


def test_a_slow_service_process_misses_the_5000_target() -> None:
    r = results(ratio=0.9, p99=120.0, second=300.0, validation=9000.0)
    r["pipeline"]["one"]["cpu_seconds_per_1000"]["enrichment-1"] = 0.25  # 4,000/s
    _verdict(r)
    assert not r["targets"][1]["met"]


def test_render_judges_a_saved_run_again_and_redraws_its_chart(tmp_path: Any) -> None:
    from newsflow_tools.bench.run import render

    saved = results(ratio=0.85, p99=100.0, second=310.0, validation=9000.0)
    path = tmp_path / "latest.json"
    path.write_bytes(orjson.dumps(saved))
    out = io.StringIO()
    again = render(path, out)
    assert all(t["met"] for t in again["targets"])
    assert orjson.loads(path.read_bytes())["targets"] == again["targets"]
    assert (tmp_path / "latest.png").read_bytes()[:4] == b"\x89PNG"
    assert "Bottleneck:" in out.getvalue()
