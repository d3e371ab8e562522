"""``newsflow bench`` (``make bench``): the pipeline against this machine's limits, and
search against the corpus size.

One run, on one set of servers, measures (each part can be picked with ``--parts``):

``pipeline``
    1. the raw ceilings beneath the stages, with the same items: a redis-py loop per
       stage and the raw driver inserting the same (lean) documents;
    2. each stage alone, and CPU seconds per 1,000 items of every process;
    3. end-to-end throughput with 1 replica per service, then 2 enrichment and 2
       storage, ``--runs`` times each;
    4. latency from XADD to the gateway's live feed at 25, 50 and 80 % of the
       measured throughput, and freshness (XADD to found by ``/v1/items``) at 50 %,
       ``--runs`` times.
``search``
    query latency at each ``--sizes`` corpus (written straight into the index), over
    HTTP with 1 and 8 clients next to the same query in-process (:mod:`.search`).
``rebuild``
    a gateway rebuilding its index from MongoDB: items/s, index size, memory
    (:mod:`.rebuild`).

It prints Markdown tables, writes ``bench-results/latest.json`` (every figure, the
machine and its load before each run, versions), ``latest.png`` and
``latest-search.png``, and judges every target of issue 13 PASS or FAIL.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

from newsflow.domain.normalise import normalise
from newsflow.domain.tagging import Tagger, TopicModel
from newsflow.domain.taxonomy import load_taxonomy
from newsflow_tools.bench import pipeline, report, stages, stats, verdict
from newsflow_tools.bench.corpus import encode, generate_items
from newsflow_tools.bench.freshness import run_freshness
from newsflow_tools.bench.rebuild import run_rebuild
from newsflow_tools.bench.search import SearchOptions, run_search
from newsflow_tools.bench.stack import Servers, Stack, start_servers

CONFIGS: dict[str, dict[str, int]] = {
    "1 replica each": {},
    "2 enrichment + 2 storage": {"enrichment": 2, "storage": 2},
}
LOADS = (0.25, 0.50, 0.80)
PARTS = ("pipeline", "search", "rebuild")


@dataclass(frozen=True)
class BenchOptions:
    items: int = 10_000
    batch_size: int = 100
    storage_items: int = 2_000
    latency_seconds: float = 15.0
    runs: int = 3
    parts: tuple[str, ...] = PARTS
    search: SearchOptions = field(default_factory=SearchOptions)
    rebuild_items: int = 20_000
    out: Path = Path("bench-results")
    redis_url: str | None = None
    mongodb_url: str | None = None


class Bar:
    """A progress bar per phase, on stderr so stdout keeps only the tables. Where
    stderr is not a terminal (CI, a log file) each phase is one plain line instead."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.started = time.perf_counter()
        self.progress = Progress(
            TextColumn("{task.description:<44}"),
            BarColumn(),
            TextColumn("{task.completed:>7,.0f}/{task.total:<7,.0f}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task: TaskID | None = None
        self.timings: dict[str, float] = {}
        self._current: tuple[str, float] | None = None

    def phase(self, name: str, total: float = 1) -> None:
        self.close()
        self._current = (name, time.perf_counter())
        if self.task is not None:
            self.progress.update(self.task, completed=self.progress.tasks[-1].total)
        self.task = self.progress.add_task(name, total=total)
        if not self.console.is_terminal:
            elapsed = time.perf_counter() - self.started
            self.console.file.write(f"[{elapsed:6.1f} s] {name}\n")
            self.console.file.flush()

    def close(self) -> None:
        """Record how long the current phase took."""
        if self._current is not None:
            name, began = self._current
            self.timings[name] = round(time.perf_counter() - began, 1)
            self._current = None

    def update(self, done: float, total: float | None = None) -> None:
        if self.task is not None:
            self.progress.update(self.task, completed=done, total=total)


def run_bench(options: BenchOptions, out: Any = sys.stdout) -> dict[str, Any]:
    console = Console(stderr=True)
    bar = Bar(console)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="newsflow-bench-"))
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": report.machine(),
        "parts": list(options.parts),
    }
    taxonomy = load_taxonomy()
    tagger = Tagger(taxonomy)
    items = generate_items(taxonomy, options.items, seed=1)
    payloads = encode(items)
    results["settings"] = {
        "items": options.items,
        "item_bytes": round(sum(map(len, payloads)) / len(payloads)),
        "batch_size": options.batch_size,
        "runs": options.runs,
        "storage_stage_items": min(options.storage_items, options.items),
        "mongodb_ceiling_items": options.items,
        "latency_seconds_per_load": options.latency_seconds,
        "rebuild_items": options.rebuild_items,
        "search_sizes": list(options.search.sizes),
        "taxonomy_version": taxonomy.version,
    }
    servers = start_servers(workdir, options.redis_url, options.mongodb_url)
    try:
        with bar.progress:
            results["servers"] = servers.versions()
            if "pipeline" in options.parts:
                _ceilings_and_stages(results, options, servers, tagger, payloads, bar)
                _pipeline_runs(results, options, servers, taxonomy, payloads, workdir, bar)
            if "search" in options.parts:
                results["search"] = run_search(
                    servers, options.search, workdir / "logs", bar.phase, bar.update
                )
            if "rebuild" in options.parts:
                results["rebuild"] = run_rebuild(
                    servers,
                    tagger,
                    options.rebuild_items,
                    options.runs,
                    workdir,
                    bar.phase,
                    bar.update,
                )
        bar.close()
        results["seconds"] = round(time.perf_counter() - started, 1)
        results["phase_seconds"] = bar.timings
        verdict.judge(results)
        options.out.mkdir(parents=True, exist_ok=True)
        report.write_json(results, options.out / "latest.json")
        charts = report.charts(results, options.out / "latest.png")
        report.table(results, out)
        out.write(
            f"\nWritten: {options.out / 'latest.json'}, "
            + ", ".join(str(c) for c in charts)
            + f" (bench took {results['seconds']:.0f} s)\n"
        )
        return results
    finally:
        servers.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def render(path: Path, out: Any = sys.stdout) -> dict[str, Any]:
    """Judge and print a saved run again, and redraw its charts: no measuring."""
    results: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    verdict.judge(results)
    report.write_json(results, path)
    report.charts(results, path.with_suffix(".png"))
    report.table(results, out)
    return results


def _ceilings_and_stages(
    results: dict[str, Any],
    options: BenchOptions,
    servers: Servers,
    tagger: Tagger,
    payloads: list[bytes],
    bar: Bar,
) -> None:
    bar.phase("preparing events and documents", 1)
    prepared = stages.prepare(payloads, tagger)
    # The prepared events and documents are millions of long-lived objects. Keep the
    # garbage collector from scanning them again and again while the stages are
    # timed in this process: a service holds one batch, not 20,000 documents.
    gc.collect()
    gc.freeze()
    ceilings: dict[str, float] = {}
    for stage in ("ingest", "enrichment", "storage"):
        bar.phase(f"ceiling: raw Redis, {stage} stage", 1)
        ceilings[f"redis {stage} stage"] = asyncio.run(
            stages.redis_ceiling(servers.redis_url, stage, prepared, batch_size=options.batch_size)
        )
    docs = prepared.documents  # all of them: the pipeline writes as many
    bar.phase("ceiling: raw MongoDB inserts", len(docs))
    ceilings["mongodb inserts"] = asyncio.run(
        stages.mongo_ceiling(
            servers.mongodb_url,
            "bench_ceiling",
            docs,
            batch_size=options.batch_size,
            progress=bar.update,
        )
    )
    servers.drop_database("bench_ceiling")
    slowest = min(ceilings, key=lambda k: ceilings[k])
    results["ceilings"] = {
        "items_per_second": {k: round(v, 1) for k, v in ceilings.items()},
        "slowest": slowest,
    }
    bar.phase("each stage alone", 1)
    servers.fresh_database("bench_stage")
    costs = stages.stage_costs(
        prepared,
        tagger,
        servers.mongodb_url,
        "bench_stage",
        batch_size=options.batch_size,
        storage_items=options.storage_items,
        model_tagger=Tagger(tagger.taxonomy, TopicModel.load()),
    )
    servers.drop_database("bench_stage")
    results["stages"] = {name: cost.summary() for name, cost in costs.items()}
    gc.unfreeze()
    del prepared
    gc.collect()


def _throughput_once(
    options: BenchOptions,
    servers: Servers,
    payloads: list[bytes],
    database: str,
    replicas: dict[str, int],
    workdir: Path,
    bar: Bar,
    label: str,
) -> tuple[Stack, dict[str, Any]]:
    """One throughput run on a fresh store and a flushed Redis; the stack stays up."""
    servers.flush_redis()
    servers.fresh_database(database)
    stack = Stack(servers, database, replicas, workdir / "logs", options.batch_size)
    bar.phase(f"starting the stack: {label}", 1)
    try:
        stack.start()
        load = [round(x, 2) for x in os.getloadavg()]
        bar.phase(f"throughput: {label}", len(payloads))
        before = stack.cpu_seconds(servers.pids())
        run = asyncio.run(pipeline.throughput(servers.redis_url, payloads, progress=bar.update))
        after = stack.cpu_seconds(servers.pids())
    except BaseException:
        stack.stop()
        raise
    cpu = {p: after[p] - before[p] for p in after if p in before}
    return stack, {
        "load_average": load,
        "items": run.items,
        "stored": run.stored,
        "rejected": run.rejected,
        "dead_lettered": run.dead,
        "seconds": round(run.seconds, 2),
        "items_per_second": round(run.items_per_second, 1),
        "cpu_seconds_per_1000": {p: round(c / run.items * 1000, 3) for p, c in cpu.items()},
        "cpu_share": {p: round(c / run.seconds, 3) for p, c in cpu.items()},
    }


def _pipeline_runs(
    results: dict[str, Any],
    options: BenchOptions,
    servers: Servers,
    taxonomy: Any,
    payloads: list[bytes],
    workdir: Path,
    bar: Bar,
) -> None:
    ceiling = results["ceilings"]["items_per_second"][results["ceilings"]["slowest"]]
    results["pipeline"] = {}
    results["latency"] = []
    results["freshness"] = {"runs": []}
    for index, (name, replicas) in enumerate(CONFIGS.items()):
        runs: list[dict[str, Any]] = []
        for k in range(options.runs):
            database = f"bench_pipeline_{index}_{k}"
            label = f"{name}, run {k + 1} of {options.runs}"
            stack, run = _throughput_once(
                options, servers, payloads, database, replicas, workdir, bar, label
            )
            runs.append(run)
            try:
                if index == 0 and k == options.runs - 1:
                    measured = statistics.median(r["items_per_second"] for r in runs)
                    _latency_runs(results, options, stack, taxonomy, measured, bar)
            finally:
                stack.stop()
                servers.drop_database(database)
        # The run with the median throughput stands for the configuration.
        middle = sorted(runs, key=lambda r: r["items_per_second"])[len(runs) // 2]
        results["pipeline"][name] = {
            **middle,
            "replicas": {"ingest": 1, "enrichment": 1, "storage": 1, **replicas},
            "ratio_to_ceiling": round(middle["items_per_second"] / ceiling, 3),
            "spread": stats.spread([r["items_per_second"] for r in runs]),
            "runs": runs,
        }


def _latency_runs(
    results: dict[str, Any],
    options: BenchOptions,
    stack: Stack,
    taxonomy: Any,
    measured: float,
    bar: Bar,
) -> None:
    now = datetime.now(UTC)
    for k, load in enumerate(LOADS):
        rate = measured * load
        count = max(int(rate * options.latency_seconds), 1)
        items = generate_items(taxonomy, count, seed=100 + k)
        paced = [
            (normalise(item, now=now).id, payload)
            for item, payload in zip(items, encode(items), strict=True)
        ]
        bar.phase(f"latency at {load:.0%} ({rate:,.0f} items/s)", count)
        lat = asyncio.run(
            pipeline.latency(
                stack.servers.redis_url, stack.gateway, paced, rate, progress=bar.update
            )
        )
        results["latency"].append({"load": load, **lat.summary()})
    rate = measured * 0.5
    results["freshness"]["offered_items_per_second"] = round(rate, 1)
    for k in range(options.runs):
        bar.phase(f"freshness at 50 % ({rate:,.0f} items/s), run {k + 1}", rate)
        before = [round(x, 2) for x in os.getloadavg()]
        run = run_freshness(
            stack.servers.redis_url,
            stack.gateway,
            taxonomy,
            rate,
            options.latency_seconds,
            k,
            progress=bar.update,
        )
        results["freshness"]["runs"].append({"load_average": before, **run})
    runs = results["freshness"]["runs"]
    results["freshness"]["summary"] = stats.over_runs(runs, ["p50_ms", "p99_ms"])
