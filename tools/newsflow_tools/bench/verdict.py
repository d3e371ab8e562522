"""Each target of the bench, judged PASS or FAIL from the results; nothing is measured here.

The targets (issue 13, and the pipeline's own from earlier issues):

- throughput with the lean store documents at least 3x the 246 items/s of before,
  and at least 0.8 of the slowest raw ceiling;
- ingest and enrichment each sustain 5,000 items/s alone;
- p99 from XADD to the live feed under 500 ms at 50 % load;
- freshness: p99 from XADD to found by ``/v1/items`` at most 1 s at 50 % load;
- 2 replicas do not reduce throughput;
- at 100,000 stories: p99 at most 50 ms per query and 100 ms for facets (1 client,
  and 8 concurrent clients), and the gateway within 1.2x + 2 ms of the same query
  in-process (p50, 1 client);
- at 1,000,000 stories: p99 at most 200 ms (1 and 8 clients);
- at 100,000 stories: the search page (``/``, issue 14) p99 at most 100 ms with 1
  client, measured over HTTP (so an upper bound on the server's time);
- latency grows far slower than the corpus: fitted as ``latency ~ size**b``, each
  query's p50 over HTTP has ``b`` at most 0.5 (100x the stories, at most 10x the time).

A target whose part or corpus size was not run is reported as NOT RUN.
"""

from __future__ import annotations

from typing import Any, Final

from newsflow_tools.bench import stats

BEFORE_ITEMS_PER_SECOND: Final = 246.0
THROUGHPUT_FACTOR: Final = 3.0
CEILING_SHARE: Final = 0.8
FRESHNESS_P99_MS: Final = 1000.0
LIVE_P99_MS: Final = 500.0
AT_100K: Final = 100_000
AT_1M: Final = 1_000_000
QUERY_P99_MS_100K: Final = 50.0
FACETS_P99_MS_100K: Final = 100.0
QUERY_P99_MS_1M: Final = 200.0
MAX_GROWTH: Final = 0.5
FACETS: Final = "facets for a text query"
PAGE_P99_MS_100K: Final = 100.0


def target(name: str, met: bool | None, detail: str) -> dict[str, Any]:
    verdict = "NOT RUN" if met is None else ("PASS" if met else "FAIL")
    return {"target": name, "met": met, "verdict": verdict, "detail": detail}


def p99_limit(size: int, query: str) -> float | None:
    """The p99 target of ``query`` at ``size`` stories, if there is one."""
    if size == AT_100K:
        return FACETS_P99_MS_100K if query == FACETS else QUERY_P99_MS_100K
    if size == AT_1M:
        return QUERY_P99_MS_1M
    return None


def query_checks(size: int, name: str, q: dict[str, Any]) -> dict[str, bool | None]:
    """Per query at one size: p99 (1 and 8 clients) within its limit, overhead within
    1.2x + 2 ms, and every request answered 200. None where there is no target."""
    limit = p99_limit(size, name)
    one, many, inproc = q["http_1"], q["http_8"], q["in_process"]
    return {
        "p99_1": None if limit is None else one["p99_ms"]["median"] <= limit,
        "p99_8": None if limit is None else many["p99_ms"]["median"] <= limit,
        "overhead": stats.within_overhead(one["p50_ms"]["median"], inproc["p50_ms"]["median"]),
        "answered": one["errors"] == 0 and many["errors"] == 0,
    }


def _search_targets(search: dict[str, Any]) -> list[dict[str, Any]]:
    sizes: dict[str, Any] = search["sizes"]
    out: list[dict[str, Any]] = []
    for size, label in ((AT_100K, "100,000"), (AT_1M, "1,000,000")):
        run = sizes.get(str(size))
        for mode, clients in (("p99_1", "1 client"), ("p99_8", "8 concurrent clients")):
            key = "http_1" if mode == "p99_1" else "http_8"
            limits = (
                f"p99 <= {QUERY_P99_MS_100K:.0f} ms per query, <= {FACETS_P99_MS_100K:.0f} ms "
                "for facets"
                if size == AT_100K
                else f"p99 <= {QUERY_P99_MS_1M:.0f} ms"
            )
            name = f"at {label} stories, {clients}: {limits}"
            if run is None:
                out.append(target(name, None, f"{label} stories not run (--sizes)"))
                continue
            over = [
                f"{q} {qr[key]['p99_ms']['median']} ms"
                for q, qr in run["queries"].items()
                if query_checks(size, q, qr)[mode] is False
            ]
            worst = max(run["queries"].items(), key=lambda kv: kv[1][key]["p99_ms"]["median"])
            out.append(
                target(
                    name,
                    not over,
                    f"over: {', '.join(over)}"
                    if over
                    else f"slowest p99: {worst[0]} {worst[1][key]['p99_ms']['median']} ms "
                    "(median of runs)",
                )
            )
        if size == AT_100K:
            name = "at 100,000 stories: gateway p50 within 1.2x + 2 ms of in-process (1 client)"
            if run is None:
                out.append(target(name, None, "100,000 stories not run (--sizes)"))
            else:
                rows = []
                bad = []
                for q, qr in run["queries"].items():
                    h, i = qr["http_1"]["p50_ms"]["median"], qr["in_process"]["p50_ms"]["median"]
                    rows.append(f"{q} {h} vs {i} ms")
                    if not stats.within_overhead(h, i):
                        bad.append(q)
                detail = ("over on " + ", ".join(bad) + "; " if bad else "") + "; ".join(rows)
                out.append(target(name, not bad, detail))
    errors = [
        f"{size} {q}"
        for size, run in sizes.items()
        for q, qr in run["queries"].items()
        if not query_checks(int(size), q, qr)["answered"]
    ]
    out.append(
        target(
            "every search request answered 200",
            not errors,
            f"errors on {', '.join(errors)}" if errors else f"sizes {', '.join(sizes)}",
        )
    )
    out.append(page_target(sizes.get(str(AT_100K))))
    out.append(growth_target(sizes))
    return out


def page_target(run: dict[str, Any] | None) -> dict[str, Any]:
    """The search page at 100,000 stories, 1 client: p99 within its limit, all 200."""
    name = f"at 100,000 stories: search page p99 <= {PAGE_P99_MS_100K:.0f} ms (1 client)"
    page = (run or {}).get("search_page")
    if page is None:
        return target(name, None, "100,000 stories not run (--sizes)")
    p99 = page["http_1"]["p99_ms"]["median"]
    errors = page["http_1"]["errors"] + page["http_8"]["errors"]
    met = p99 <= PAGE_P99_MS_100K and errors == 0
    return target(name, met, f"p99 {p99} ms (median of runs); {errors} non-200 answers")


def growth(sizes: dict[str, Any]) -> dict[str, float | None]:
    """Per query, ``b`` in ``p50 ~ size**b`` over HTTP with one client."""
    ordered = sorted(sizes.items(), key=lambda kv: int(kv[0]))
    names = list(ordered[0][1]["queries"]) if ordered else []
    return {
        name: stats.growth_exponent(
            [int(s) for s, _ in ordered],
            [run["queries"][name]["http_1"]["p50_ms"]["median"] for _, run in ordered],
        )
        for name in names
    }


def growth_target(sizes: dict[str, Any]) -> dict[str, Any]:
    name = f"latency grows far slower than the corpus (p50 ~ size^b, b <= {MAX_GROWTH})"
    numbers = sorted(int(s) for s in sizes)
    if len(numbers) < 2 or numbers[-1] < 10 * numbers[0]:
        return target(name, None, "needs two sizes at least 10x apart")
    exponents = growth(sizes)
    low, high = sizes[str(numbers[0])], sizes[str(numbers[-1])]
    parts = []
    for q, b in exponents.items():
        a = low["queries"][q]["http_1"]["p50_ms"]["median"]
        z = high["queries"][q]["http_1"]["p50_ms"]["median"]
        parts.append(f"{q} b={b} ({a} -> {z} ms)")
    met = all(b is not None and b <= MAX_GROWTH for b in exponents.values())
    return target(name, met, f"{numbers[-1] // numbers[0]}x the stories; " + "; ".join(parts))


def _pipeline_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    ceilings = results["ceilings"]["items_per_second"]
    slowest = results["ceilings"]["slowest"]
    runs = list(results["pipeline"].values())
    first, second = runs[0], runs[-1]
    stages_ = results["stages"]
    half = next((r for r in results["latency"] if r["load"] == 0.5), None)
    # Items/s the ingest and enrichment processes could take at one full core,
    # from the CPU they spent per item in the one-replica run.
    process_rates = {
        proc: 1000 / cost
        for proc, cost in first["cpu_seconds_per_1000"].items()
        if proc.startswith(("ingest-", "enrichment-")) and cost > 0
    }
    slowest_run = min(r["items_per_second"] for r in runs)
    floor = THROUGHPUT_FACTOR * BEFORE_ITEMS_PER_SECOND
    spreads = ", ".join(
        f"{name}: {r['items_per_second']:,.0f}/s"
        + (f" (runs {r['spread']['min']:,.0f}-{r['spread']['max']:,.0f})" if "spread" in r else "")
        for name, r in results["pipeline"].items()
    )
    out = [
        target(
            f"throughput at least {THROUGHPUT_FACTOR:.0f}x {BEFORE_ITEMS_PER_SECOND:.0f} "
            f"= {floor:.0f} items/s",
            slowest_run >= floor,
            spreads,
        ),
        target(
            "throughput at least 80 % of the slowest raw ceiling",
            min(r["ratio_to_ceiling"] for r in runs) >= CEILING_SHARE,
            ", ".join(
                f"{name}: {r['items_per_second']:,.0f}/s = {r['ratio_to_ceiling']:.2f} of "
                f"{ceilings[slowest]:,.0f}/s ({slowest})"
                for name, r in results["pipeline"].items()
            ),
        ),
        target(
            "ingest and enrichment each sustain 5,000 items/s alone",
            min(
                stages_["validation"]["items_per_second"],
                stages_["tagging"]["items_per_second"],
                ceilings["redis ingest stage"],
                ceilings["redis enrichment stage"],
                *process_rates.values(),
            )
            >= 5000,
            f"validation {stages_['validation']['items_per_second']:,.0f}/s, tagging "
            f"{stages_['tagging']['items_per_second']:,.0f}/s; their Redis work raw: "
            f"{ceilings['redis ingest stage']:,.0f}/s and "
            f"{ceilings['redis enrichment stage']:,.0f}/s; the service processes, "
            "from their CPU time in the pipeline, at one full core: "
            + ", ".join(f"{p} {r:,.0f}/s" for p, r in process_rates.items()),
        ),
        target(
            f"live feed: p99 at 50 % load under {LIVE_P99_MS:.0f} ms",
            bool(half and half["p99_ms"] < LIVE_P99_MS and half["received"] == half["sent"]),
            f"p99 {half['p99_ms']} ms at {half['offered_items_per_second']} items/s, "
            f"{half['received']}/{half['sent']} arrived"
            if half
            else "not measured",
        ),
    ]
    model_stage = stages_.get("tagging, topic model on")
    if model_stage is not None:
        out.append(
            target(
                "enrichment with the topic model on sustains 5,000 items/s alone",
                model_stage["items_per_second"] >= 5000,
                f"tagging with the model {model_stage['items_per_second']:,.0f}/s "
                f"(off: {stages_['tagging']['items_per_second']:,.0f}/s)",
            )
        )
    fresh = results.get("freshness") or {}
    fruns = fresh.get("runs") or []
    if fruns:
        p99 = stats.spread([r["p99_ms"] for r in fruns])
        lost = [f"{r['received']}/{r['sent']}" for r in fruns if r["received"] != r["sent"]]
        out.append(
            target(
                f"freshness (XADD to found by /v1/items): p99 at 50 % load <= "
                f"{FRESHNESS_P99_MS:.0f} ms",
                p99["median"] <= FRESHNESS_P99_MS and not lost,
                f"p99 {p99['median']} ms (runs {p99['min']}-{p99['max']}) at "
                f"{fresh.get('offered_items_per_second')} items/s"
                + (f"; not found: {', '.join(lost)}" if lost else "; every item found"),
            )
        )
    else:
        out.append(target("freshness (XADD to found by /v1/items)", None, "not measured"))
    out.append(
        target(
            "2 replicas do not reduce throughput",
            second["items_per_second"] >= 0.95 * first["items_per_second"],
            f"{first['items_per_second']:,.0f}/s with 1 replica each, "
            f"{second['items_per_second']:,.0f}/s with 2 enrichment + 2 storage "
            f"({second['items_per_second'] / first['items_per_second']:.2f}x; "
            "5 % allowed for run-to-run noise)",
        )
    )
    return out


def judge(results: dict[str, Any]) -> None:
    """Set ``results["targets"]`` (and the bottleneck, when the pipeline ran)."""
    targets: list[dict[str, Any]] = []
    if results.get("pipeline"):
        targets += _pipeline_targets(results)
        results["bottleneck"] = bottleneck(results)
    if results.get("search"):
        targets += _search_targets(results["search"])
        results["search"]["growth_exponents"] = growth(results["search"]["sizes"])
    results["targets"] = targets


def passed(results: dict[str, Any]) -> bool:
    """No target failed (NOT RUN is not a failure)."""
    return all(t["met"] is not False for t in results["targets"])


def bottleneck(results: dict[str, Any]) -> str:
    """Which process limits the pipeline, and which would limit it next.

    A process's CPU seconds per 1,000 items say how many items per second it could
    handle at one full core; the lowest such figure is the limit, the next lowest
    is where the bottleneck moves once the first is lifted.
    """
    slowest = results["ceilings"]["slowest"]
    rate = results["ceilings"]["items_per_second"][slowest]
    parts = [f"the slowest raw ceiling is {slowest} at {rate:,.0f} items/s"]
    for name, run in results["pipeline"].items():
        share = run["cpu_share"]
        busiest = max(share, key=lambda p: share[p])
        parts.append(f"with {name}, {busiest} used {share[busiest]:.0%} of one core")
    first = next(iter(results["pipeline"].values()))
    at_full_core = sorted(
        (1000 / cost, proc) for proc, cost in first["cpu_seconds_per_1000"].items() if cost > 0
    )
    ranking = ", ".join(f"{proc} {items:,.0f}/s" for items, proc in at_full_core[:4])
    return (
        "; ".join(parts)
        + ". Items/s each process could handle at one full core (one replica each): "
        + ranking
        + f". The limit is {at_full_core[0][1]}; the next bottleneck would be "
        f"{at_full_core[1][1]}, at about {at_full_core[1][0] / at_full_core[0][0]:.0f}x "
        "the present throughput."
    )
