"""The portable full-text index: normalised terms computed at write time.

SecantusDB has no ``$text`` and real MongoDB's text search ranks in ways we do not
control, so we index our own terms: words folded for case and accents, with
stop-words removed, and adjacent word pairs (for phrases), stored in a
multikey-indexed array. Queries match terms and are ranked in our code. The same
:func:`words` runs when writing and when querying, so both sides agree on what a
word is.

Compounds: "co-operation" is stored as the words "co" and "operation" and the
pair "co operation". A query for "cooperation" also asks for the pairs it can be
split into (:func:`splits`), and a query for "co-operation" also asks for the
joined word (:func:`joined`), so both spellings find each other, in stories
stored before this was written too: nothing new is indexed.
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
    return pairs(_words(text)) if text else []


#: Words longer than this are not split (a pasted hash or URL is not a compound).
MAX_SPLIT_LENGTH: Final = 30


def pairs(ws: Iterable[str]) -> list[str]:
    """The word pairs of a run of words, as :func:`bigrams` stores them."""
    return [f"{a} {b}" for a, b in pairwise(ws)]


def splits(word: str) -> list[str]:
    """The word pairs a compound may have been written as, hyphenated or spaced:
    ``cooperation`` → ``co operation``, ``coo peration``, ... Left out: a stop-word
    half (``in form``, ``with out``: phrases of their own far more often than a
    spelling of the word), and a one-letter tail (a one-letter head stays, for
    ``e-mail`` and ``x-ray``)."""
    if len(word) > MAX_SPLIT_LENGTH:
        return []
    out = []
    for i in range(1, len(word) - 1):
        head, tail = word[:i], word[i:]
        if head in STOP_WORDS or tail in STOP_WORDS or "'" in (head[-1], tail[0]):
            continue
        out.append(f"{head} {tail}")
    return out


def joined(ws: Iterable[str]) -> str:
    """The words of a compound written as one: ``co``, ``operation`` → ``cooperation``."""
    return "".join(ws)


def union(*groups: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for group in groups:
        for term in group:
            seen.setdefault(term, None)
    return list(seen)[:MAX_TERMS]
