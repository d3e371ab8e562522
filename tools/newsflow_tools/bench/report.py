"""The bench's outputs: a table on stdout, ``latest.json`` and a PNG chart.

Everything here reads the results dictionary that :mod:`newsflow_tools.bench.run`
builds; nothing is measured here.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TextIO

PACKAGES = (
    "faststream",
    "redis",
    "hiredis",
    "pymongo",
    "pydantic",
    "fastapi",
    "uvicorn",
    "tantivy",
)


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                "",
            )
    except OSError:
        model = platform.processor()
    versions: dict[str, str] = {}
    for name in PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def _n(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def _verdict(met: bool | None) -> str:
    return "NOT RUN" if met is None else ("PASS" if met else "**FAIL**")


def _mark(met: bool | None) -> str:
    return "" if met is None else ("PASS" if met else "**FAIL**")


def _load(load: list[float] | None) -> str:
    return " / ".join(f"{x:.2f}" for x in load) if load else ""


def _ms(figure: dict[str, float]) -> str:
    """A median over runs, with the runs' range."""
    if figure["min"] == figure["max"]:
        return f"{figure['median']:g}"
    return f"{figure['median']:g} ({figure['min']:g}-{figure['max']:g})"


def table(results: dict[str, Any], out: TextIO) -> None:
    """The figures as Markdown tables (readable in a terminal and in the README)."""
    from newsflow_tools.bench.verdict import query_checks

    w = out.write
    m = results["machine"]
    servers = results["servers"]
    mongo = (
        f"SecantusDB (reports MongoDB {servers['mongodb_wire_server']})"
        if servers.get("mongodb_embedded") == "True"
        else f"MongoDB {servers['mongodb_wire_server']}"
    )
    settings = results["settings"]
    w(
        f"Machine: {m['cores']} cores ({m['cpu']}), load average "
        f"{_load(m.get('load_average_at_start'))} at the start; Python {m['python']}, "
        f"Redis {servers['redis']}, {mongo}. Each measurement runs "
        f"{settings.get('runs', 1)} times: figures are the median run, with the runs' "
        "range in brackets.\n\n"
    )
    if results.get("pipeline"):
        _pipeline_tables(results, w)
    if results.get("search"):
        _search_tables(results["search"], w, query_checks)
    if results.get("rebuild"):
        _rebuild_table(results["rebuild"], w)
    w("\n| target | verdict | measured |\n|---|---|---|\n")
    for target in results["targets"]:
        w(f"| {target['target']} | {_verdict(target['met'])} | {target['detail']} |\n")
    if results.get("bottleneck"):
        w(f"\nBottleneck: {results['bottleneck']}\n")


def _pipeline_tables(results: dict[str, Any], w: Any) -> None:
    settings = results["settings"]
    w(
        f"Pipeline: {settings['items']:,} items of {settings['item_bytes']:,} bytes on "
        f"average, batches of {settings['batch_size']}.\n\n"
    )
    w("| pipeline (end to end, XADD to stored) | items/s | ratio_to_ceiling | load before |\n")
    w("|---|---:|---:|---|\n")
    for name, run in results["pipeline"].items():
        spread = run.get("spread")
        rate = _ms(spread) if spread else _n(run["items_per_second"])
        loads = "; ".join(_load(r.get("load_average")) for r in run.get("runs", [run]))
        w(f"| {name} | {rate} | {run['ratio_to_ceiling']:.2f} | {loads} |\n")
    w("\n| raw ceiling (same items, same servers, same batches) | items/s |\n|---|---:|\n")
    for name, rate in results["ceilings"]["items_per_second"].items():
        mark = " (slowest)" if name == results["ceilings"]["slowest"] else ""
        w(f"| {name}{mark} | {_n(rate)} |\n")
    w("\n| stage alone (in one process) | items/s | CPU s per 1,000 items |\n|---|---:|---:|\n")
    for name, stage in results["stages"].items():
        w(f"| {name} | {_n(stage['items_per_second'])} | {stage['cpu_seconds_per_1000_items']} |\n")
    names = sorted({p for run in results["pipeline"].values() for p in run["cpu_seconds_per_1000"]})
    configs = list(results["pipeline"])
    w("\n| process: CPU s per 1,000 items (share of one core) | ")
    w(" | ".join(configs) + " |\n|---|" + "---:|" * len(configs) + "\n")
    for proc in names:
        cells = []
        for config in configs:
            run = results["pipeline"][config]
            if proc in run["cpu_seconds_per_1000"]:
                cells.append(
                    f"{run['cpu_seconds_per_1000'][proc]:.2f} ({run['cpu_share'][proc]:.0%})"
                )
            else:
                cells.append("")
        w(f"| {proc} | " + " | ".join(cells) + " |\n")
    w("\n| latency, XADD to the gateway's live feed | offered / sent items/s | p50 ms | ")
    w("p95 ms | p99 ms | received |\n|---|---:|---:|---:|---:|---:|\n")
    for run in results["latency"]:
        w(
            f"| {run['load']:.0%} of throughput | {run['offered_items_per_second']} / "
            f"{run.get('sent_items_per_second', '')} | "
            f"{run['p50_ms']} | {run['p95_ms']} | {run['p99_ms']} | "
            f"{run['received']}/{run['sent']} |\n"
        )
    fresh = results.get("freshness") or {}
    if fresh.get("runs"):
        w(
            "\n| freshness, XADD to found by /v1/items?q=, at 50 % of throughput | "
            "offered / sent items/s | p50 ms | p99 ms | max ms | found | load before |\n"
            "|---|---:|---:|---:|---:|---:|---|\n"
        )
        for k, run in enumerate(fresh["runs"], 1):
            w(
                f"| run {k} (polled every {run['poll_interval_ms']:.0f} ms) | "
                f"{run['offered_items_per_second']} / {run['sent_items_per_second']} | "
                f"{run['p50_ms']} | {run['p99_ms']} | {run['max_ms']} | "
                f"{run['received']}/{run['sent']} | {_load(run.get('load_average'))} |\n"
            )


def _search_tables(search: dict[str, Any], w: Any, checks: Any) -> None:
    st = search["settings"]
    w(
        f"\nSearch: each corpus is synthetic stories written straight into the index folder "
        f"(not through the pipeline), served by a gateway process on it. "
        f"{st['runs']} runs; per run and query {st['requests_per_query_one_client']} "
        f"requests in-process and with 1 client, {st['concurrent_clients']} x "
        f"{st['requests_per_client']} with {st['concurrent_clients']} concurrent clients. "
        "Milliseconds: median of runs (range of runs).\n"
    )
    sizes: dict[str, Any] = search["sizes"]
    _size_table(search, w)
    for size, run in sizes.items():
        corpus = run["corpus"]
        built = (
            f"cached; built in {corpus['build_seconds']:,.0f} s"
            if corpus.get("cached")
            else f"built in {corpus['build_seconds']:,.0f} s"
        )
        loads = "; ".join(_load(r.get("load_average")) for r in run["runs"])
        w(
            f"\n**{int(size):,} stories** ({built}, {corpus['stories_per_second']:,} stories/s; "
            f"index {corpus['bytes'] / 1e6:,.0f} MB; gateway RSS "
            f"{run['gateway_rss_mb']['after']:,.0f} MB; load before each run: {loads})\n\n"
            "| query | in-process p50 / p99 | HTTP 1 client p50 / p99 | HTTP 8 clients p50 / "
            "p99 | req/s, 8 clients | p99 target | overhead <= 1.2x + 2 ms |\n"
            "|---|---:|---:|---:|---:|---|---|\n"
        )
        for name, q in run["queries"].items():
            c = checks(int(size), name, q)
            p99 = "" if c["p99_1"] is None else f"1: {_mark(c['p99_1'])}, 8: {_mark(c['p99_8'])}"
            err = q["http_1"]["errors"] + q["http_8"]["errors"]
            w(
                f"| {name}{f' ({err} errors)' if err else ''} | "
                f"{_ms(q['in_process']['p50_ms'])} / {_ms(q['in_process']['p99_ms'])} | "
                f"{_ms(q['http_1']['p50_ms'])} / {_ms(q['http_1']['p99_ms'])} | "
                f"{_ms(q['http_8']['p50_ms'])} / {_ms(q['http_8']['p99_ms'])} | "
                f"{q['http_8']['requests_per_second']['median']:,.0f} | {p99} | "
                f"{_mark(c['overhead'])} |\n"
            )
        page = run.get("search_page")
        if page:
            one, many = page["http_1"], page["http_8"]
            w(
                f"| search page `/` (search + facets + HTML) | | "
                f"{_ms(one['p50_ms'])} / {_ms(one['p99_ms'])} | "
                f"{_ms(many['p50_ms'])} / {_ms(many['p99_ms'])} | "
                f"{many['requests_per_second']['median']:,.0f} | | |\n"
            )
    if len(sizes) > 1:
        ordered = sorted(sizes, key=int)
        exps = search.get("growth_exponents", {})
        w(
            "\n| latency against corpus size: HTTP 1 client p50 / p99 ms | "
            + " | ".join(f"{int(s):,}" for s in ordered)
            + " | b in p50 ~ size^b |\n|---|"
            + "---:|" * len(ordered)
            + "---:|\n"
        )
        for name in sizes[ordered[0]]["queries"]:
            cells = [
                f"{sizes[s]['queries'][name]['http_1']['p50_ms']['median']:g} / "
                f"{sizes[s]['queries'][name]['http_1']['p99_ms']['median']:g}"
                for s in ordered
            ]
            w(f"| {name} | " + " | ".join(cells) + f" | {exps.get(name, '')} |\n")
        w("\n" + ascii_chart(sizes) + "\n")


def _size_table(search: dict[str, Any], w: Any) -> None:
    """Index size on disk and the gateway's resident memory at each corpus size."""
    rows = []
    for size, run in sorted(search["sizes"].items(), key=lambda kv: int(kv[0])):
        mb = run["corpus"]["bytes"] / 1e6
        rows.append(
            f"| {int(size):,} | {mb:,.0f} | {mb / int(size) * 100_000:,.0f} | "
            f"{run['gateway_rss_mb']['after']:,.0f} |"
        )
    w(
        "\n| stories in the index | index MB | MB per 100,000 | gateway RSS MB |\n"
        "|---:|---:|---:|---:|\n" + "\n".join(rows) + "\n"
    )


def ascii_chart(sizes: dict[str, Any], width: int = 40) -> str:
    """p50 over HTTP (1 client) per query and size, as bars on a log scale."""
    import math

    ordered = sorted(sizes, key=int)
    values = [
        (name, s, sizes[s]["queries"][name]["http_1"]["p50_ms"]["median"])
        for name in sizes[ordered[0]]["queries"]
        for s in ordered
    ]
    top = max(v for _, _, v in values) or 1.0
    low = min(v for _, _, v in values if v > 0) if any(v > 0 for _, _, v in values) else 1.0
    span = math.log10(top / low) or 1.0
    lines = ["```", "p50 over HTTP, 1 client (log scale)"]
    for name, s, v in values:
        bar = 1 + round((width - 1) * math.log10(max(v, low) / low) / span)
        lines.append(f"{name[:24]:<24} {int(s):>9,} {'#' * bar:<{width}} {v:g} ms")
    lines.append("```")
    return "\n".join(lines)


def _rebuild_table(rebuild: dict[str, Any], w: Any) -> None:
    n = rebuild["stories"]
    w(f"\n**Rebuild from MongoDB** ({n:,} stories stored first in {rebuild['seed_seconds']} s)\n\n")
    if "summary" not in rebuild:
        w(f"Not measured: {rebuild.get('not_measured')}\n")
    else:
        s = rebuild["summary"]
        w(
            "| run | seconds to ready | items/s (from process start) | items/s while "
            "rebuilding | index MB | gateway RSS MB | load before |\n"
        )
        w("|---|---:|---:|---:|---:|---:|---|\n")
        for k, run in enumerate(rebuild["runs"], 1):
            w(
                f"| {k} | {run['seconds']} | {_n(run['items_per_second'])} | "
                f"{_n(run.get('items_per_second_while_rebuilding') or 0)} | {run['index_mb']} | "
                f"{run['gateway_rss_mb']} | {_load(run.get('load_average'))} |\n"
            )
        w(
            f"| median (range) | {_ms(s['seconds'])} | {_ms(s['items_per_second'])} | | "
            f"{_ms(s['index_mb'])} | {_ms(s['gateway_rss_mb'])} | |\n"
        )
        w(
            f"\nPer 100,000 stories: index {rebuild['index_mb_per_100k']} MB; rebuild "
            f"{rebuild['rebuild_seconds_per_million'] / 10:,.0f} s "
            f"({rebuild['rebuild_seconds_per_million']:,} s per million).\n"
        )


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")


def charts(results: dict[str, Any], path: Path) -> list[Path]:
    """The pipeline's chart at ``path`` and the search chart beside it, where measured."""
    written: list[Path] = []
    if results.get("pipeline"):
        chart(results, path)
        written.append(path)
    if results.get("search") and results["search"]["sizes"]:
        search_path = path.with_name(f"{path.stem}-search.png")
        search_chart(results, search_path)
        written.append(search_path)
    return written


def search_chart(results: dict[str, Any], path: Path) -> None:
    """Latency against corpus size, log-log, one line per query, with linear growth
    drawn from the smallest size for comparison."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = results["search"]["sizes"]
    ordered = sorted(sizes, key=int)
    xs = [int(s) for s in ordered]
    fig, axes = plt.subplots(1, 2, figsize=(13, 5), sharey=True)
    for ax, mode, title in (
        (axes[0], "http_1", "HTTP, 1 client"),
        (axes[1], "http_8", "HTTP, 8 concurrent clients"),
    ):
        for name in sizes[ordered[0]]["queries"]:
            p99 = [sizes[s]["queries"][name][mode]["p99_ms"]["median"] for s in ordered]
            ax.plot(xs, p99, marker="o", label=f"{name} p99")
        first = min(
            sizes[ordered[0]]["queries"][n][mode]["p99_ms"]["median"]
            for n in sizes[ordered[0]]["queries"]
        )
        ax.plot(xs, [first * x / xs[0] for x in xs], "k:", label="linear in the corpus")
        ax.axhline(50, color="tab:red", linestyle="--", linewidth=1, label="50 ms (100k)")
        ax.axhline(200, color="tab:purple", linestyle="--", linewidth=1, label="200 ms (1M)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("stories in the index (log)")
        ax.set_title(title)
    axes[0].set_ylabel("p99 ms (log), median of runs")
    axes[1].legend(fontsize=7)
    fig.suptitle(
        f"Search latency by corpus size, {results['generated_at'][:16]}Z, "
        f"{results['machine']['cores']} cores"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def chart(results: dict[str, Any], path: Path) -> None:
    """Throughput against the ceilings, and latency percentiles per load."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    labels = [f"pipeline: {k}" for k in results["pipeline"]]
    values = [r["items_per_second"] for r in results["pipeline"].values()]
    labels += [f"ceiling: {k}" for k in results["ceilings"]["items_per_second"]]
    values += list(results["ceilings"]["items_per_second"].values())
    colours = ["tab:blue"] * len(results["pipeline"]) + ["tab:gray"] * (
        len(values) - len(results["pipeline"])
    )
    left.barh(labels, values, color=colours)
    left.set_xscale("log")
    left.set_xlabel("items/s (log scale)")
    left.set_title("Throughput and raw ceilings")
    left.invert_yaxis()
    for y, v in enumerate(values):
        left.text(v, y, f" {v:,.0f}", va="center", fontsize=8)
    loads = [
        f"{r['load']:.0%}\n({r['offered_items_per_second']:.0f}/s)" for r in results["latency"]
    ]
    width = 0.25
    for k, (key, name) in enumerate((("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99"))):
        xs = [i + (k - 1) * width for i in range(len(loads))]
        right.bar(xs, [r[key] for r in results["latency"]], width, label=name)
    right.set_xticks(range(len(loads)), loads)
    right.set_ylabel("ms, XADD to the gateway's live feed")
    right.set_xlabel("offered load (share of measured throughput)")
    right.set_title("End-to-end latency")
    right.axhline(500, color="tab:red", linestyle="--", linewidth=1, label="500 ms")
    right.legend()
    fig.suptitle(
        f"Newsflow bench, {results['generated_at'][:16]}Z, {results['machine']['cores']} cores"
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
