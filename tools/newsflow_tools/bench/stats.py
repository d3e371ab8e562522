"""Pure arithmetic of the bench: percentiles, spread over runs, targets, growth."""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from typing import Any


def percentile(samples: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), linear between the closest ranks."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = q / 100 * (len(ordered) - 1)
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def latency_summary(samples_ms: Sequence[float]) -> dict[str, float]:
    """p50, p99 and max of one run, in ms, and how many requests it timed."""
    return {
        "n": len(samples_ms),
        "p50_ms": round(percentile(samples_ms, 50), 3),
        "p99_ms": round(percentile(samples_ms, 99), 3),
        "max_ms": round(max(samples_ms), 3),
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    """The median of several runs' figures, and their lowest and highest."""
    if not values:
        raise ValueError("no values")
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }


def over_runs(runs: Sequence[Mapping[str, float]], keys: Sequence[str]) -> dict[str, Any]:
    """Per key, the spread of that figure over ``runs``."""
    return {key: spread([r[key] for r in runs]) for key in keys}


def within_overhead(
    http_ms: float, in_process_ms: float, factor: float = 1.2, plus_ms: float = 2.0
) -> bool:
    """The gateway's target: at most ``factor`` times the in-process time plus ``plus_ms``."""
    return http_ms <= in_process_ms * factor + plus_ms


def growth_exponent(sizes: Sequence[int], latencies: Sequence[float]) -> float | None:
    """How latency grows with corpus size, as ``b`` in ``latency ~ size**b``.

    A least-squares fit on log-log; 1.0 is linear growth (a scan), 0 is none. None
    with fewer than two sizes or a non-positive latency.
    """
    points = [(math.log(s), math.log(v)) for s, v in zip(sizes, latencies, strict=True) if v > 0]
    if len(points) < 2 or len(points) != len(sizes):
        return None
    mx = statistics.fmean(x for x, _ in points)
    my = statistics.fmean(y for _, y in points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return round(sum((x - mx) * (y - my) for x, y in points) / sxx, 3)


def per_100k(value: float, stories: int) -> float:
    """``value`` measured at ``stories`` stories, scaled to 100,000 stories."""
    return value / stories * 100_000 if stories else float("nan")
