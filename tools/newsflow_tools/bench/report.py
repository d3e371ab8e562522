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

PACKAGES = ("faststream", "redis", "hiredis", "pymongo", "pydantic", "fastapi", "uvicorn")


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


def table(results: dict[str, Any], out: TextIO) -> None:
    """The figures as Markdown tables (readable in a terminal and in the README)."""
    w = out.write
    m = results["machine"]
    servers = results["servers"]
    mongo = (
        f"SecantusDB (reports MongoDB {servers['mongodb_wire_server']})"
        if servers.get("mongodb_embedded") == "True"
        else f"MongoDB {servers['mongodb_wire_server']}"
    )
    w(
        f"Machine: {m['cores']} cores ({m['cpu']}), Python {m['python']}, "
        f"Redis {results['servers']['redis']}, {mongo}; {results['settings']['items']:,} items "
        f"of {results['settings']['item_bytes']:,} bytes on average, batches of "
        f"{results['settings']['batch_size']}.\n\n"
    )
    w("| pipeline (end to end, XADD to stored) | items/s | ratio_to_ceiling |\n")
    w("|---|---:|---:|\n")
    for name, run in results["pipeline"].items():
        w(f"| {name} | {_n(run['items_per_second'])} | {run['ratio_to_ceiling']:.2f} |\n")
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
    for size, run in results["gateway"].items():
        queries = run["queries"]
        w(
            f"\n| gateway, {int(size):,} stories, {run['requests_per_query']} requests per "
            "query and path | gateway p50 / p99 ms | req/s, one client | "
            "direct p50 / p99 ms | ratio | within +20 % + 2 ms |\n"
            "|---|---:|---:|---:|---:|---|\n"
        )
        for name, q in queries.items():
            w(
                f"| {name} | {q['gateway_p50_ms']} / {q['gateway_p99_ms']} | "
                f"{q['gateway_requests_per_second']} | {q['direct_p50_ms']} / "
                f"{q['direct_p99_ms']} | {q['ratio']} | "
                f"{'yes' if q['within_target'] else 'no'} |\n"
            )
    w("\n| target | met | measured |\n|---|---|---|\n")
    for target in results["targets"]:
        w(f"| {target['target']} | {'yes' if target['met'] else '**no**'} | {target['detail']} |\n")
    w(f"\nBottleneck: {results['bottleneck']}\n")


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=False) + "\n", encoding="utf-8")


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
