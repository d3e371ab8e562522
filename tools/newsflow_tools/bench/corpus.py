"""Realistic benchmark items, generated from the taxonomy.

Each item is a publisher item (the JSON contract of ``news:ingest``) of about
1.5 KB: a title and summary that name real offices, topics and countries, a body
of several sentences, declared offices and topics on some items and none on
others (as on osce.org), and a unique URL, so every item is its own story. The
generator is seeded: the same ``n`` and ``seed`` give the same items, so runs
compare like with like.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from newsflow.domain.taxonomy import Taxonomy

_VERBS = (
    "supports",
    "organizes",
    "hosts",
    "launches",
    "concludes",
    "welcomes",
    "trains officials on",
    "presents a report on",
)
_EVENTS = (
    "a regional conference",
    "a training course",
    "a round table",
    "an expert meeting",
    "a study visit",
    "a public discussion",
)
_FILLER = (
    "Participants discussed good practices and the challenges that remain.",
    "The event brought together representatives of state institutions, civil society "
    "and international organizations.",
    "Speakers stressed the importance of co-operation across borders and institutions.",
    "The activity is part of a long-term project funded by participating States.",
    "Recommendations from the meeting will be shared with the relevant authorities.",
    "The project also includes follow-up visits and an online course for practitioners.",
)


def _signal_phrases(taxonomy: Taxonomy) -> dict[str, list[str]]:
    """Topic id -> phrases that signal it, taken from the taxonomy's own signals."""
    phrases: dict[str, list[str]] = {}
    for topic in taxonomy.topics.values():
        texts = [s.text.rstrip("*") for s in topic.signals if not s.case_sensitive]
        if texts:
            phrases[topic.id] = texts
    return phrases


def generate_items(taxonomy: Taxonomy, n: int, *, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` publisher items as dicts, each about 1.5 KB of JSON."""
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not secrets
    offices = [o for o in taxonomy.offices.values() if o.status == "active"]
    countries = [c for c in taxonomy.countries.values() if c.kind == "participating_state"]
    signals = _signal_phrases(taxonomy)
    topic_ids = sorted(signals)
    start = datetime(2021, 1, 1, tzinfo=UTC)
    items: list[dict[str, Any]] = []
    for i in range(n):
        office = rng.choice(offices)
        country = rng.choice(countries)
        topics = rng.sample(topic_ids, 2)
        phrase = rng.choice(signals[topics[0]])
        second = rng.choice(signals[topics[1]])
        demonym = rng.choice(country.demonyms) if country.demonyms else country.name
        title = (
            f"{office.name} {rng.choice(_VERBS)} {rng.choice(_EVENTS)} on {phrase} "
            f"in {country.name}"
        )
        summary = (
            f"{demonym} officials and experts met with the {office.name} to discuss {phrase} "
            f"and {second}. {rng.choice(_FILLER)} {rng.choice(_FILLER)}"
        )
        body_parts = [rng.choice(_FILLER) for _ in range(10)]
        body_parts.insert(3, f"The work in {country.name} will continue next year on {second}.")
        item: dict[str, Any] = {
            "title": title[:480],
            "summary": summary,
            "body": " ".join(body_parts),
            "url": f"https://bench.newsflow.invalid/news/{seed}/{i}",
            "published_at": (start + timedelta(minutes=37 * i)).date().isoformat(),
            "content_type": rng.choice(("Press release", "News and Stories")),
            "language": "en",
        }
        if rng.random() < 0.6:  # many real items carry no metadata at all
            item["offices"] = [office.name]
            item["topics"] = [taxonomy.topics[t].name for t in topics]
        items.append(item)
    return items


def encode(items: list[dict[str, Any]]) -> list[bytes]:
    """Items as the bytes a publisher puts in the ``item`` field of an XADD."""
    return [orjson.dumps(item) for item in items]
