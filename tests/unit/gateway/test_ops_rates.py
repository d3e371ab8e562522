"""The console's figures: rates from entry ids, oldest-entry ages, the sparkline."""

from __future__ import annotations

import fakeredis

from newsflow import streams
from newsflow.runtime import streamstatus
from newsflow.runtime.streamstatus import bucket_rates, collect, throughput
from newsflow_gateway.web.ops_view import age, sparkline

NOW = 1_700_000_000_000


def test_rates_count_each_stamp_in_its_bucket() -> None:
    # Buckets of 10 s ending at NOW: [NOW-30 s, NOW-20 s), [NOW-20 s, NOW-10 s), [NOW-10 s, NOW).
    stamps = [NOW + 5, NOW - 1, NOW - 9_000, NOW - 15_000, NOW - 29_999, NOW - 30_001]
    rates = bucket_rates(stamps, now_ms=NOW, bucket_s=10, buckets=3, complete=True)
    # NOW+5 (a clock a little ahead) counts as now; NOW-30 001 is before the window.
    assert rates == (0.1, 0.1, 0.3)


def test_a_cut_scan_rates_only_what_it_covered() -> None:
    # 20 stamps over the last 5 s, then the scan stopped: the newest bucket is rated
    # over the 5 s it covered, and the older ones are unknown.
    stamps = [NOW - 250 * i for i in range(1, 21)]
    rates = bucket_rates(stamps, now_ms=NOW, bucket_s=10, buckets=3, complete=False)
    assert rates[:2] == (None, None)
    assert rates[2] == 20 * 1000 / (NOW - stamps[-1])
    assert bucket_rates([], now_ms=NOW, bucket_s=10, buckets=2, complete=False) == (0.0, 0.0)


async def test_throughput_and_status_read_entry_ids() -> None:
    redis = fakeredis.FakeAsyncRedis()
    for offset in (200_000, 20_000, 10_000, 5_000):
        await redis.xadd(streams.INGESTED, {"event": b"{}"}, id=f"{NOW - offset}-0")
    rates = {r.stage: r for r in await throughput(redis, now_ms=NOW, bucket_s=30, buckets=2)}
    assert rates["ingest"].per_second == (0.0, 3 / 30)
    assert rates["publishers"].per_second == (0.0, 0.0)
    assert [r.stream for r in rates.values()] == [s for _, s in streamstatus.STAGES]
    report = {s.stream: s for s in await collect(redis)}
    assert report[streams.INGESTED].length == 4
    assert report[streams.INGESTED].oldest_ms == NOW - 200_000
    assert report[streams.INGEST].oldest_ms is None


def test_ages_and_sparkline_points() -> None:
    assert age(NOW, None) == "-"
    assert [age(NOW, NOW - s * 1000) for s in (5, 600, 3 * 3600, 5 * 86_400)] == [
        "5 s",
        "10 min",
        "3 h",
        "5 d",
    ]
    assert sparkline((0.0, None, 2.0), width=100, height=12) == "0.0,11.0 50.0,11.0 100.0,1.0"
    assert sparkline(()) == ""
