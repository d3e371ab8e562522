"""The portable full-text index: normalised terms computed at write time.

SecantusDB has no ``$text`` and real MongoDB's text search ranks in ways we do not
control, so we index our own terms: words folded for case and accents, with
stop-words removed, stored in a multikey-indexed array. Queries match terms with
``$all`` and are ranked in our code. The same :func:`terms` function runs when
writing and when querying, so both sides agree on what a word is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise
from typing import Final

from newsflow.domain.text import fold

_WORD: Final = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

#: Most frequent English function words; they carry no meaning for search.
STOP_WORDS: Final = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "were",
        "will",
        "with",
    ]
)

#: Upper bound on indexed terms per document, to keep multikey index entries bounded.
MAX_TERMS: Final = 5_000


def words(text: str) -> list[str]:
    """Folded words of ``text`` in order, stop-words included (for phrase matching)."""
    return list(_words(text))


@lru_cache(maxsize=64)
def _words(text: str) -> tuple[str, ...]:
    # Cached: a story's title, summary and body are each split for terms, word
    # pairs and relevance fields; once is enough.
    return tuple(w.replace("’", "'") for w in _WORD.findall(fold(text)))


def terms(*texts: str | None) -> list[str]:
    """Distinct index terms of the given texts, in first-seen order."""
    seen: dict[str, None] = {}
    for text in texts:
        if not text:
            continue
        for word in _words(text):
            if word not in STOP_WORDS:
                seen.setdefault(word, None)
                if len(seen) >= MAX_TERMS:
                    return list(seen)
    return list(seen)


def bigrams(text: str | None) -> list[str]:
    """Adjacent word pairs ("rule of", "of law"): what makes phrase search indexable."""
    if not text:
        return []
    return [f"{a} {b}" for a, b in pairwise(_words(text))]


def union(*groups: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for term in group:
            seen.setdefault(term, None)
    return list(seen)[:MAX_TERMS]
