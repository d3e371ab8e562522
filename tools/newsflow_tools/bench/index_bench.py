"""The search index measured in-process: write N synthetic stories, time six queries.

Stories go straight into a :class:`~newsflow_gateway.index.index.SearchIndex` (no
pipeline, no MongoDB), shaped like the documents storage writes: tags and ids from
the packaged taxonomy, English text drawn from a Zipf-distributed vocabulary with a
few multi-word phrases, ``sort_at`` spread over five years. Then each of the six
queries of issue 13 runs ``--repeat`` times with varying parameters, and p50 / p99
are printed (and written as JSON with ``--json``). These are the in-process figures
the gateway's HTTP figures will be compared with.

    python -m newsflow_tools.bench.index_bench --stories 100000
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from newsflow.domain.taxonomy import Taxonomy, load_taxonomy
from newsflow_gateway.index.index import SearchFilters, SearchIndex
from newsflow_gateway.index.query import parse

PHRASES = (
    "rule of law",
    "election observation",
    "human rights",
    "media freedom",
    "border security",
)
_SYLLABLES = ("ka", "lo", "mi", "ren", "sto", "va", "pel", "dor", "tis", "nu", "gar", "bel", "qui")
START = datetime(2021, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 5 * 365 * 24 * 60


def _vocabulary(rng: random.Random, size: int = 6_000) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class StoryMaker:
    """Seeded synthetic stored-story documents (the shape of ``merge.derive``)."""

    def __init__(self, taxonomy: Taxonomy, seed: int = 13) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible test data
        self.words = _vocabulary(self.rng)
        self.cum = list(accumulate(1.0 / (rank + 1) for rank in range(len(self.words))))
        self.offices = [o for o in taxonomy.offices.values() if o.status == "active"]
        self.topics = list(taxonomy.topics.values())
        self.countries = list(taxonomy.countries.values())
        self.content_types = list(taxonomy.content_types.values())

    def text(self, n: int) -> str:
        words = self.rng.choices(self.words, cum_weights=self.cum, k=n)
        if self.rng.random() < 0.3:
            words.insert(self.rng.randrange(len(words)), self.rng.choice(PHRASES))
        return " ".join(words)

    def story(self, i: int) -> dict[str, Any]:
        rng = self.rng
        offices = rng.sample(self.offices, rng.choice((1, 1, 2)))
        topics = rng.sample(self.topics, 2)
        countries = rng.sample(self.countries, 2)
        ctype = rng.choice(self.content_types)
        when = START + timedelta(minutes=rng.randrange(SPAN_MINUTES))

        def tags(entries: list[Any]) -> list[dict[str, Any]]:
            return [
                {"id": e.id, "name": e.name, "source": "inferred", "confidence": 0.9}
                for e in entries
            ]

        return {
            "_id": f"{i:032x}",
            "title": self.text(8),
            "summary": self.text(40),
            "body": self.text(200),
            "url": f"https://bench.newsflow.invalid/{i}",
            "language": "en",
            "published_at": when,
            "sort_at": when,
            "offices": tags(offices),
            "topics": tags(topics),
            "countries": tags(countries),
            "content_type": tags([ctype])[0],
            "office_ids": [o.id for o in offices],
            "topic_ids": [t.id for t in topics],
            "country_ids": [c.id for c in countries],
            "content_type_id": ctype.id,
        }

    def stories(self, start: int, n: int) -> Iterator[dict[str, Any]]:
        return (self.story(i) for i in range(start, start + n))


def build(index: SearchIndex, maker: StoryMaker, n: int, batch: int = 5_000) -> float:
    """Write ``n`` stories in batches, one commit each; returns stories per second."""
    began = time.perf_counter()
    for start in range(0, n, batch):
        index.apply(maker.stories(start, min(batch, n - start)))
        index.commit(f"{start + batch}-0")
    return n / (time.perf_counter() - began)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 3),
        "p99_ms": round(p99 * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def queries(maker: StoryMaker) -> dict[str, Callable[[SearchIndex, int], object]]:
    """The six queries of issue 13; ``i`` varies their parameters between runs."""
    topics = [t.id for t in maker.topics]
    offices = [o.id for o in maker.offices]
    common = maker.words[:40]

    def newest(ix: SearchIndex, i: int) -> object:
        return ix.search(limit=20)

    def topic(ix: SearchIndex, i: int) -> object:
        return ix.search(filters=SearchFilters(topic=[topics[i % len(topics)]]), limit=20)

    def office_dates(ix: SearchIndex, i: int) -> object:
        since = START + timedelta(days=30 * (i % 50))
        f = SearchFilters(
            office=[offices[i % len(offices)]], date_from=since, date_to=since + timedelta(days=180)
        )
        return ix.search(filters=f, limit=20)

    def two_words(ix: SearchIndex, i: int) -> object:
        q = f"{common[i % 40]} {common[(i * 7 + 3) % 40]}"
        return ix.search(parse(q), sort="relevance", limit=20)

    def phrase(ix: SearchIndex, i: int) -> object:
        return ix.search(parse(f'"{PHRASES[i % len(PHRASES)]}"'), limit=20)

    def facets(ix: SearchIndex, i: int) -> object:
        return ix.facets(parse(common[i % 40]))

    return {
        "newest page": newest,
        "topic filter": topic,
        "office + date range": office_dates,
        "two-word relevance": two_words,
        "phrase": phrase,
        "facets for a text query": facets,
    }


def measure(index: SearchIndex, maker: StoryMaker, repeat: int) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for name, run in queries(maker).items():
        run(index, 0)  # warm up
        samples: list[float] = []
        for i in range(repeat):
            began = time.perf_counter()
            run(index, i)
            samples.append(time.perf_counter() - began)
        out[name] = _percentiles(samples)
    return out


def run(stories: int, repeat: int, path: Path | None) -> dict[str, Any]:
    maker = StoryMaker(load_taxonomy())
    with tempfile.TemporaryDirectory(prefix="newsflow-index-bench-") as tmp:
        folder = path or Path(tmp) / "index"
        index = SearchIndex.create(folder, replace=True)
        rate = build(index, maker, stories)
        size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file())
        results = measure(index, maker, repeat)
        sample = index.search(parse("rule of law"))
        index.close()
    return {
        "stories": stories,
        "repeat": repeat,
        "index_stories_per_s": round(rate),
        "index_mb": round(size / 1e6, 1),
        "phrase_total": sample.total,
        "queries": results,
    }


def print_table(result: dict[str, Any]) -> None:
    w = sys.stdout.write
    w(
        f"\n{result['stories']:,} stories: indexed at {result['index_stories_per_s']:,} stories/s, "
        f"{result['index_mb']} MB on disk; {result['repeat']} runs per query\n\n"
    )
    w("| query | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|\n")
    for name, q in result["queries"].items():
        w(f"| {name} | {q['p50_ms']} | {q['p99_ms']} | {q['max_ms']} |\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--stories", type=int, nargs="+", default=[10_000])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--path", type=Path, help="keep the index here (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    results = []
    for n in args.stories:
        result = run(n, args.repeat, args.path)
        print_table(result)
        results.append(result)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
