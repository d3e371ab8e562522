"""Query latency by corpus size: the gateway over HTTP next to the index in-process.

For each size, a corpus of synthetic stories (:mod:`.stories`) is **written straight
into an index folder** (``SearchIndex.create`` / ``apply`` / ``commit(None)``; no
pipeline, no MongoDB) and cached under ``.data/bench/`` keyed by size, seed, the
generator's version and the index's schema fingerprint, so later runs reuse it. A
real gateway process (``python -m newsflow_gateway``) is then started on that folder
with an empty ``news:stored`` stream, so it serves the index as it is.

Each run times the six queries of issue 13, one after the other:

1. in-process: the same parameters through ``SearchIndex.search`` / ``.facets``
   (query parsing included), while the gateway is idle;
2. over HTTP with one client (keep-alive, one request at a time);
3. over HTTP with 8 concurrent clients, each on its own connection.

Each query cycles through several parameter sets, after one warm-up request per set.

The **search page** (``GET /``, issue 14) is timed too, over HTTP with 1 and 8
clients: the page's parameters are those of the list queries above, and it does what
a reader's browser waits for: the search, the facet counts and the HTML.
"""

from __future__ import annotations

import http.client
import os
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
import psutil

from newsflow.domain.taxonomy import load_taxonomy
from newsflow_gateway.index.index import SearchIndex
from newsflow_gateway.index.schema import fingerprint
from newsflow_tools.bench import stats
from newsflow_tools.bench.stack import Servers, Stack
from newsflow_tools.bench.stories import (
    GENERATOR_VERSION,
    Query,
    StoryMaker,
    in_process,
    query_plan,
    to_call,
)

Progress = Callable[[float, float | None], None]
CORPUS_FILE = "corpus.json"
MODES = ("in_process", "http_1", "http_8")
#: The list queries whose parameters the search page is timed with.
PAGE_QUERIES = (
    "newest page",
    "topic filter",
    "office + date range",
    "two-word relevance",
    "phrase",
)


@dataclass(frozen=True)
class SearchOptions:
    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    runs: int = 3
    #: Requests per query and run with one client (and in-process).
    requests: int = 100
    clients: int = 8
    #: Requests per client and query and run with ``clients`` concurrent clients.
    requests_per_client: int = 25
    #: A slow query stops early (keeping at least 10 samples) after this long per mode.
    seconds_per_query: float = 20.0
    cache: Path = Path(".data/bench")
    seed: int = 13


# --- the corpus -------------------------------------------------------------------


def corpus_key(size: int, seed: int) -> str:
    """The cache folder's name: everything the corpus depends on."""
    return f"corpus-{size}-seed{seed}-gen{GENERATOR_VERSION}-schema{fingerprint()[:12]}"


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def corpus(
    cache: Path,
    size: int,
    maker: StoryMaker,
    *,
    batch: int = 10_000,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The index folder of ``size`` stories: reused when cached and whole, else built.

    Returns where it is, its size on disk, and how long it took to build (the
    recorded time of the original build when reused). A build removes the corpora of
    the same size and seed that an older generator or index schema left behind.
    """
    home = cache / corpus_key(size, maker.seed)
    path = home / "index"
    info_file = home / CORPUS_FILE
    if info_file.exists() and path.exists():
        info: dict[str, Any] = orjson.loads(info_file.read_bytes())
        try:
            index = SearchIndex.open(path)
            whole = index.num_docs() == size
            index.close()
        except Exception:  # a damaged cache is rebuilt, never trusted
            whole = False
        if whole:
            return {**info, "path": str(path), "cached": True, "bytes": folder_bytes(path)}
    info_file.unlink(missing_ok=True)
    for stale in cache.glob(f"corpus-{size}-seed{maker.seed}-*"):
        if stale != home:  # built by another generator or schema: never read again
            shutil.rmtree(stale, ignore_errors=True)
    home.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    index = SearchIndex.create(path, replace=True, writer_heap=256_000_000)
    try:
        for start in range(0, size, batch):
            index.apply(maker.stories(start, min(batch, size - start)))
            if (start // batch) % 10 == 9:
                index.commit(None)
            if progress:
                progress(min(start + batch, size), size)
        index.commit(None)
    finally:
        index.close()  # waits for the segment merges
    seconds = time.perf_counter() - began
    info = {
        "stories": size,
        "seed": maker.seed,
        "generator_version": GENERATOR_VERSION,
        "written_straight_into_the_index": True,
        "build_seconds": round(seconds, 1),
        "stories_per_second": round(size / seconds),
    }
    info_file.write_bytes(orjson.dumps(info, option=orjson.OPT_INDENT_2))
    return {**info, "path": str(path), "cached": False, "bytes": folder_bytes(path)}


# --- timing -----------------------------------------------------------------------


def _cycle(queries: Sequence[Any], n: int, offset: int = 0) -> list[Any]:
    return [queries[(offset + i) % len(queries)] for i in range(n)]


def time_in_process(
    index: SearchIndex, queries: Sequence[Query], n: int, budget: float
) -> list[float]:
    calls = [to_call(q) for q in queries]
    for call in calls:
        in_process(index, call)  # warm up
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    for call in _cycle(calls, n):
        began = time.perf_counter()
        in_process(index, call)
        samples.append((time.perf_counter() - began) * 1000)
        if len(samples) >= 10 and time.perf_counter() > deadline:
            break
    return samples


class _Client:
    """One keep-alive HTTP/1.1 connection; the lightest client the standard library has,
    so the figures are the gateway's, not a client library's."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, 600)
        self.errors = 0

    def get(self, query: Query) -> float:
        target = f"{query.path}?{urlencode(dict(query.params))}" if query.params else query.path
        began = time.perf_counter()
        self.conn.request("GET", target)
        response = self.conn.getresponse()
        response.read()
        elapsed = (time.perf_counter() - began) * 1000
        if response.status != 200:
            self.errors += 1
        return elapsed

    def close(self) -> None:
        self.conn.close()


def time_http(
    base: str,
    queries: Sequence[Query],
    *,
    clients: int,
    per_client: int,
    budget: float,
) -> tuple[list[float], float, int]:
    """Latencies of every request, requests/s over the whole run, and non-200 answers."""
    conns = [_Client(base) for _ in range(clients)]
    for q in queries:
        conns[0].get(q)  # warm up
    for c in conns[1:]:
        c.get(queries[0])  # open the connection
    results: list[list[float]] = [[] for _ in conns]
    barrier = threading.Barrier(clients + 1)
    deadline: list[float] = [0.0]

    def client(k: int) -> None:
        barrier.wait()
        for q in _cycle(queries, per_client, offset=k):
            results[k].append(conns[k].get(q))
            if len(results[k]) >= 10 and time.perf_counter() > deadline[0]:
                break

    threads = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    deadline[0] = time.perf_counter() + budget
    began = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    errors = sum(c.errors for c in conns)
    for c in conns:
        c.close()
    samples = [s for r in results for s in r]
    return samples, len(samples) / wall if wall > 0 else 0.0, errors


def page_plan(plan: dict[str, list[Query]]) -> list[Query]:
    """The search page (``/``) with the parameters of the list queries."""
    return [Query("/", q.params) for name in PAGE_QUERIES for q in plan[name]]


def time_page(base: str, pages: Sequence[Query], options: SearchOptions) -> dict[str, Any]:
    """One run of the search page with 1 client and with ``options.clients``."""
    out: dict[str, Any] = {}
    for mode, clients, per_client in (
        ("http_1", 1, options.requests),
        ("http_8", options.clients, options.requests_per_client),
    ):
        samples, rate, errors = time_http(
            base, pages, clients=clients, per_client=per_client, budget=options.seconds_per_query
        )
        out[mode] = {
            **stats.latency_summary(samples),
            "requests_per_second": round(rate, 1),
            "errors": errors,
        }
    return out


def wait_index_ready(base: str, timeout: float = 600.0) -> dict[str, Any]:
    """Poll ``/readyz`` until it is 200 and, where it reports an index, that index is
    ready; returns the last body."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        try:
            response = httpx.get(f"{base}/readyz", timeout=5)
            body = response.json()
            state = (body.get("index") or {}).get("state", "ready")
            if response.status_code == 200 and state == "ready":
                return body
            if state == "failed":
                raise RuntimeError(f"the gateway's index failed: {body}")
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{base} not ready after {timeout:.0f} s: {body}")


def rss_bytes(pid: int) -> int:
    try:
        return int(psutil.Process(pid).memory_info().rss)
    except psutil.Error:
        return 0


def measure_size(
    servers: Servers,
    info: dict[str, Any],
    maker: StoryMaker,
    options: SearchOptions,
    logs: Path,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """``options.runs`` runs of the six queries at one corpus size, three ways each."""
    size = int(info["stories"])
    path = Path(info["path"])
    servers.flush_redis()  # an empty news:stored: the gateway serves the index as-is
    stack = Stack(servers, f"bench_search_{size}", {}, logs)
    plan = query_plan(maker)
    runs: list[dict[str, Any]] = []
    index = SearchIndex.open(path)
    try:
        began = time.perf_counter()
        stack.start_gateway(NEWSFLOW_INDEX_DIR=str(path), NEWSFLOW_QUERY_TIMEOUT_MS="600000")
        stack.wait_gateway(timeout=600)
        ready = wait_index_ready(stack.gateway)
        start_seconds = time.perf_counter() - began
        gateway_pid = stack.procs["gateway"].pid
        rss_idle = rss_bytes(gateway_pid)
        steps, done = options.runs * len(plan), 0
        for _ in range(options.runs):
            run: dict[str, Any] = {
                "load_average": [round(x, 2) for x in os.getloadavg()],
                "queries": {},
            }
            for name, queries in plan.items():
                inproc = time_in_process(
                    index, queries, options.requests, options.seconds_per_query
                )
                one, one_rate, one_errors = time_http(
                    stack.gateway,
                    queries,
                    clients=1,
                    per_client=options.requests,
                    budget=options.seconds_per_query,
                )
                many, many_rate, many_errors = time_http(
                    stack.gateway,
                    queries,
                    clients=options.clients,
                    per_client=options.requests_per_client,
                    budget=options.seconds_per_query,
                )
                run["queries"][name] = {
                    "in_process": stats.latency_summary(inproc),
                    "http_1": {
                        **stats.latency_summary(one),
                        "requests_per_second": round(one_rate, 1),
                        "errors": one_errors,
                    },
                    "http_8": {
                        **stats.latency_summary(many),
                        "requests_per_second": round(many_rate, 1),
                        "errors": many_errors,
                    },
                }
                done += 1
                if progress:
                    progress(done, steps)
            run["search_page"] = time_page(stack.gateway, page_plan(plan), options)
            runs.append(run)
        rss_after = rss_bytes(gateway_pid)
    finally:
        index.close()
        stack.stop()
    return {
        "stories": size,
        "corpus": {k: v for k, v in info.items() if k != "path"},
        "gateway_start_seconds": round(start_seconds, 2),
        "readyz": ready,
        "gateway_rss_mb": {"idle": round(rss_idle / 1e6, 1), "after": round(rss_after / 1e6, 1)},
        "runs": runs,
        "queries": aggregate(runs),
        "search_page": {
            mode: {
                **stats.over_runs(
                    [r["search_page"][mode] for r in runs],
                    ["p50_ms", "p99_ms", "requests_per_second"],
                ),
                "errors": sum(int(r["search_page"][mode]["errors"]) for r in runs),
            }
            for mode in ("http_1", "http_8")
        },
    }


def aggregate(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Per query and mode, the median p50/p99 over the runs and their spread."""
    out: dict[str, Any] = {}
    names = list(runs[0]["queries"]) if runs else []
    for name in names:
        out[name] = {}
        for mode in MODES:
            per_run = [r["queries"][name][mode] for r in runs]
            keys = ["p50_ms", "p99_ms"] + (["requests_per_second"] if mode != "in_process" else [])
            out[name][mode] = {
                **stats.over_runs(per_run, keys),
                "errors": sum(int(r.get("errors", 0)) for r in per_run),
            }
    return out


def run_search(
    servers: Servers,
    options: SearchOptions,
    logs: Path,
    phase: Callable[[str, float], None],
    progress: Progress,
) -> dict[str, Any]:
    """Every size: its corpus (built or cached), then its runs."""
    maker = StoryMaker(load_taxonomy(), seed=options.seed)
    sizes: dict[str, Any] = {}
    for size in options.sizes:
        phase(f"search corpus: {size:,} stories", size)
        info = corpus(options.cache, size, maker, progress=progress)
        phase(f"search queries: {size:,} stories", options.runs * 6)
        sizes[str(size)] = measure_size(servers, info, maker, options, logs, progress)
    return {
        "settings": {
            "runs": options.runs,
            "requests_per_query_one_client": options.requests,
            "concurrent_clients": options.clients,
            "requests_per_client": options.requests_per_client,
            "corpus_cache": str(options.cache),
            "corpus": "synthetic stories written straight into the index folder "
            "(SearchIndex.apply/commit), not through the pipeline",
        },
        "sizes": sizes,
    }
