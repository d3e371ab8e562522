"""Synthetic stored stories for the search benchmark, and the six queries it times.

:class:`StoryMaker` makes documents in the shape storage stores (``merge.derive``:
``_id``, text, tag lists, ``*_ids``, ``sort_at``), seeded and reproducible, so a
corpus of any size can be written straight into a search index. The text reads like
OSCE news: titles and summaries name real offices, countries and topic phrases
from the taxonomy; bodies mix stock newsroom sentences with words drawn from a
Zipf-distributed vocabulary (common English news words first, then a long tail of
invented names), so the index's term dictionary and postings grow with the corpus
as a real one does. Dates are spread over :data:`SPAN_YEARS` years.

:func:`query_plan` gives, for each of the six queries of issue 13, a list of HTTP
parameter sets (varied between requests so caches do not flatter the figures);
:func:`in_process` runs the same parameters against a
:class:`~newsflow_gateway.index.index.SearchIndex`, so each HTTP figure has its
in-process twin.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import accumulate
from typing import Any, Final

from newsflow.domain.taxonomy import Taxonomy
from newsflow_gateway.index.index import SearchFilters, SearchIndex, Sort
from newsflow_gateway.index.query import parse

#: Bump when the generated stories change: cached corpora are keyed by it.
GENERATOR_VERSION: Final = 1
START: Final = datetime(2019, 1, 1, tzinfo=UTC)
SPAN_YEARS: Final = 7
_SPAN_SECONDS: Final = SPAN_YEARS * 365 * 24 * 3600

_VERBS = (
    "supports",
    "organizes",
    "hosts",
    "launches",
    "concludes",
    "welcomes",
    "trains officials on",
    "presents a report on",
    "calls for progress on",
    "deploys experts to assess",
)
_EVENTS = (
    "a regional conference",
    "a training course",
    "a round table",
    "an expert meeting",
    "a study visit",
    "a public discussion",
    "a workshop",
    "a needs assessment",
)
_FILLER = (
    "Participants discussed good practices and the challenges that remain.",
    "The event brought together representatives of state institutions, civil society "
    "and international organizations.",
    "Speakers stressed the importance of co-operation across borders and institutions.",
    "The activity is part of a long-term project funded by participating States.",
    "Recommendations from the meeting will be shared with the relevant authorities.",
    "The project also includes follow-up visits and an online course for practitioners.",
    "Police officers, judges and prosecutors took part in the practical exercises.",
    "Journalists and media representatives asked about the next steps of the reform.",
    "Election observers will publish a preliminary statement after election day.",
    "Local communities, women and youth were consulted throughout the process.",
)
#: Common news words, most frequent first (the head of the Zipf vocabulary).
_COMMON = (
    "government police reform election media court security border training women "
    "youth rights law report mission office minister national regional local public "
    "community officials experts project water energy environment justice judges "
    "prosecutors journalists freedom observers parliament citizens democracy dialogue "
    "elections corruption trafficking migration schools teachers students children "
    "health economy budget agreement negotiations ceasefire monitoring assessment "
    "legislation strategy cooperation authorities institutions society workshop "
    "conference seminar capacity development support mediation tolerance "
    "discrimination minorities language education investigation transparency "
    "cybersecurity weapons ammunition explosives demining landmines refugees returnees"
).split()
_SYLLABLES = (
    "ka", "lo", "mi", "ren", "sto", "va", "pel", "dor", "tis", "nu", "gar", "bel",
    "ash", "vi", "ko", "tor", "es", "ul", "zan", "mer",
)  # fmt: skip

#: Query words: the two-word relevance queries, phrases and facet queries.
TWO_WORDS: Final = (
    "police reform",
    "election observers",
    "media freedom",
    "border security",
    "water management",
    "youth training",
    "judges corruption",
    "women parliament",
)
PHRASES: Final = (
    "rule of law",
    "freedom of the media",
    "election observation",
    "human rights",
    "border management",
)
FACET_WORDS: Final = ("police", "elections", "media", "youth", "corruption", "women")


def _tail(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add("".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4))))
    return sorted(words)


class StoryMaker:
    """Seeded synthetic stored-story documents; story ``i`` is the same on every run."""

    def __init__(self, taxonomy: Taxonomy, seed: int = 13, tail: int = 50_000) -> None:
        self.seed = seed
        rng = random.Random(seed)  # noqa: S311 - reproducible test data
        self.words = list(_COMMON) + _tail(rng, tail)
        # Zipf from rank 30 on: the head is common, not in every story.
        self.cum = list(accumulate(1.0 / (rank + 30) for rank in range(len(self.words))))
        self.offices = [o for o in taxonomy.offices.values() if o.status == "active"]
        self.topics = [t for t in taxonomy.topics.values() if t.signals]
        self.countries = [c for c in taxonomy.countries.values() if c.kind == "participating_state"]
        self.content_types = list(taxonomy.content_types.values())
        self.phrases = {
            t.id: [s.text.rstrip("*") for s in t.signals if not s.case_sensitive] or [t.name]
            for t in self.topics
        }

    def _words(self, rng: random.Random, n: int) -> str:
        return " ".join(rng.choices(self.words, cum_weights=self.cum, k=n))

    def story(self, i: int) -> dict[str, Any]:
        rng = random.Random(self.seed * 1_000_003 + i)  # noqa: S311 - per story: any i alone
        offices = rng.sample(self.offices, rng.choice((1, 1, 2)))
        topics = rng.sample(self.topics, 2)
        countries = rng.sample(self.countries, rng.choice((1, 1, 2)))
        ctype = rng.choice(self.content_types)
        when = START + timedelta(seconds=rng.randrange(_SPAN_SECONDS))
        phrase = rng.choice(self.phrases[topics[0].id])
        second = rng.choice(self.phrases[topics[1].id])
        country = countries[0]
        demonym = rng.choice(country.demonyms) if country.demonyms else country.name
        title = (
            f"{offices[0].name} {rng.choice(_VERBS)} {rng.choice(_EVENTS)} on {phrase} "
            f"in {country.name}"
        )
        summary = (
            f"{demonym} officials and experts met with the {offices[0].name} to discuss "
            f"{phrase} and {second}. {rng.choice(_FILLER)} {self._words(rng, 12)}."
        )
        body = [rng.choice(_FILLER) for _ in range(5)]
        body.insert(2, f"The work in {country.name} will continue next year on {second}.")
        body.extend(f"{self._words(rng, 14).capitalize()}." for _ in range(rng.randint(6, 12)))
        if rng.random() < 0.25:
            body.insert(rng.randrange(len(body)), f"They spoke about the {rng.choice(PHRASES)}.")
        rng.shuffle(body)

        def tags(entries: list[Any]) -> list[dict[str, Any]]:
            return [
                {"id": e.id, "name": e.name, "source": "inferred", "confidence": 0.9}
                for e in entries
            ]

        return {
            "_id": f"{self.seed:08x}{i:024x}",
            "title": title,
            "summary": summary,
            "body": " ".join(body),
            "url": f"https://bench.newsflow.invalid/{self.seed}/{i}",
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


@dataclass(frozen=True)
class Query:
    """One request: a path (``/v1/items`` or ``/v1/facets``) and its parameters."""

    path: str
    params: Mapping[str, str]


QUERY_NAMES: Final = (
    "newest page",
    "topic filter",
    "office + date range",
    "two-word relevance",
    "phrase",
    "facets for a text query",
)
_ITEMS, _FACETS = "/v1/items", "/v1/facets"


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def query_plan(maker: StoryMaker, variants: int = 8) -> dict[str, list[Query]]:
    """The six queries of issue 13, each with ``variants`` parameter sets."""
    limit = {"limit": "20"}
    plan: dict[str, list[Query]] = {name: [] for name in QUERY_NAMES}
    for k in range(variants):
        since = START + timedelta(days=97 * k)
        plan["newest page"].append(Query(_ITEMS, dict(limit)))
        plan["topic filter"].append(
            Query(_ITEMS, {"topic": maker.topics[(5 * k) % len(maker.topics)].id, **limit})
        )
        plan["office + date range"].append(
            Query(
                _ITEMS,
                {
                    "office": maker.offices[(7 * k) % len(maker.offices)].id,
                    "from": _iso(since),
                    "to": _iso(since + timedelta(days=365)),
                    **limit,
                },
            )
        )
        plan["two-word relevance"].append(
            Query(_ITEMS, {"q": TWO_WORDS[k % len(TWO_WORDS)], "sort": "relevance", **limit})
        )
        plan["phrase"].append(Query(_ITEMS, {"q": f'"{PHRASES[k % len(PHRASES)]}"', **limit}))
        plan["facets for a text query"].append(
            Query(_FACETS, {"q": FACET_WORDS[k % len(FACET_WORDS)]})
        )
    return plan


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


@dataclass(frozen=True)
class Call:
    """What the gateway asks of the index for one request's parameters."""

    facets: bool
    q: str | None
    filters: SearchFilters
    sort: Sort
    limit: int


def to_call(query: Query) -> Call:
    """The in-process equivalent of an HTTP request (the routes' parameters)."""
    p = query.params

    def many(name: str) -> tuple[str, ...]:
        return (p[name],) if p.get(name) else ()

    sorts: dict[str, Sort] = {"newest": "newest", "oldest": "oldest", "relevance": "relevance"}
    if p.get("sort", "newest") not in sorts:
        raise ValueError(f"unknown sort {p['sort']!r}")
    sort = sorts[p.get("sort", "newest")]
    filters = SearchFilters(
        topic=many("topic"),
        office=many("office"),
        country=many("country"),
        content_type=many("content_type"),
        language=many("language"),
        date_from=_when(p.get("from")),
        date_to=_when(p.get("to")),
    )
    return Call(query.path == _FACETS, p.get("q"), filters, sort, int(p.get("limit", "20")))


def in_process(index: SearchIndex, call: Call) -> object:
    """Run ``call`` on ``index`` as the gateway's search service does (parse included;
    facets are the exact count and the buckets)."""
    parsed = parse(call.q) if call.q else None
    if call.facets:
        return index.count(parsed, call.filters), index.facets(parsed, call.filters)
    return index.search(parsed, call.filters, sort=call.sort, limit=call.limit)
