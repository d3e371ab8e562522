"""The pure query model, and how it becomes a MongoDB filter and sort order. Pure.

The search path runs one way: :mod:`.params` turns HTTP query parameters into a
:class:`SearchQuery`; this module turns that into a filter and an :class:`Order`;
:mod:`.listing` runs them (pages, counts, cursors). Nothing here imports either.

User input never reaches the database as an operator or a pattern: words become
exact matches on our own ``terms`` array, ids were checked against the taxonomy,
and dates were parsed before they get here. The live stream applies the same
query in Python (the ``matches`` methods), with the same meaning.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from newsflow.domain import search
from newsflow.store import StoredStory
from newsflow.store import StoryField as F

Sort = Literal["newest", "oldest", "relevance"]

#: The relevance score: computed by the query, never stored.
SCORE: Final = "score"
#: Relevance weights: a query term found in the title counts 4, in the summary 2,
#: anywhere in the story 1.
WEIGHTS: Final = ((F.TITLE_TERMS, 4), (F.SUMMARY_TERMS, 2), (F.TERMS, 1))
#: A filter no story matches (``$in`` of nothing), on every MongoDB-wire server.
MATCH_NOTHING: Final[dict[str, Any]] = {F.ID: {"$in": []}}

#: One thing a query asks for: a list of alternatives, each a list of index terms
#: that must all be present. ``cooperation`` is ``[["cooperation"], ["co operation"],
#: ...]``; the phrase "rule of law" is ``[["rule of", "of law"]]``.
Group = list[list[str]]


@dataclass(frozen=True)
class TextQuery:
    """A parsed ``q``: words, phrases and compounds that must appear, terms that must not.

    ``searchable`` is False when ``q`` was given but held nothing to search for
    (``.*``, ``-``, emoji, only common words): such a query matches no story.
    """

    required: list[str] = field(default_factory=list)
    phrases: list[list[str]] = field(default_factory=list)
    #: Words written as one token with hyphens or other joiners (``co-operation``).
    compounds: list[list[str]] = field(default_factory=list)
    excluded: list[str] = field(default_factory=list)
    searchable: bool = True

    def groups(self) -> list[Group]:
        """Everything that must match, each as its alternatives."""
        out: list[Group] = []
        for word in self.required:
            out.append([[word], *([pair] for pair in search.splits(word))])
        for phrase in self.phrases:
            out.append([search.pairs(phrase) or phrase])
        for words in self.compounds:
            out.append([search.pairs(words), [search.joined(words)]])
        return out

    def excluded_terms(self) -> list[str]:
        """Terms none of which may be present: an excluded word in any spelling."""
        out: list[str] = []
        for term in self.excluded:
            out.append(term)
            if " " not in term:
                out.extend(search.splits(term))
        return list(dict.fromkeys(out))

    def units(self) -> list[str]:
        """Every index term the query asks for (what relevance counts)."""
        return list(dict.fromkeys(t for g in self.groups() for alt in g for t in alt))

    def matches(self, terms: set[str]) -> bool:
        """The same test as :meth:`filter`, in Python (for the live stream)."""
        if not self.searchable:
            return False
        found = all(any(set(alt) <= terms for alt in g) for g in self.groups())
        return found and not (set(self.excluded_terms()) & terms)

    def filter(self) -> dict[str, Any]:
        if not self.searchable:
            return dict(MATCH_NOTHING)
        every: list[str] = []  # terms with no alternative: one $all, as the index likes
        clauses: list[dict[str, Any]] = []
        for group in self.groups():
            if len(group) == 1:
                every.extend(group[0])
            elif all(len(alt) == 1 for alt in group):
                clauses.append({F.TERMS: {"$in": list(dict.fromkeys(a[0] for a in group))}})
            else:
                clauses.append({"$or": [{F.TERMS: {"$all": alt}} for alt in group]})
        terms: dict[str, Any] = {}
        if every:
            terms["$all"] = list(dict.fromkeys(every))
        excluded = self.excluded_terms()
        if excluded:
            terms["$nin"] = excluded
        if terms:
            clauses.insert(0, {F.TERMS: terms})
        if not clauses:
            return {}
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


@dataclass(frozen=True)
class Filters:
    topic: list[str] = field(default_factory=list)
    office: list[str] = field(default_factory=list)
    country: list[str] = field(default_factory=list)
    content_type: list[str] = field(default_factory=list)
    language: list[str] = field(default_factory=list)
    date_from: datetime | None = None
    date_to: datetime | None = None

    def filter(self) -> dict[str, Any]:
        """Values within one filter are OR ($in); filters together are AND."""
        out: dict[str, Any] = {}
        for key, values in (
            (F.TOPIC_IDS, self.topic),
            (F.OFFICE_IDS, self.office),
            (F.COUNTRY_IDS, self.country),
            (F.CONTENT_TYPE_ID, self.content_type),
            (F.LANGUAGE, self.language),
        ):
            if values:
                out[key] = values[0] if len(values) == 1 else {"$in": list(values)}
        if self.date_from or self.date_to:
            span: dict[str, datetime] = {}
            if self.date_from:
                span["$gte"] = self.date_from
            if self.date_to:
                span["$lte"] = self.date_to
            out[F.SORT_AT] = span
        return out

    def matches(self, story: StoredStory) -> bool:
        """The same test as :meth:`filter`, in Python (for the live stream)."""
        for values, ids in (
            (self.topic, story.topic_ids),
            (self.office, story.office_ids),
            (self.country, story.country_ids),
        ):
            if values and not set(values) & set(ids):
                return False
        if self.content_type and story.content_type_id not in self.content_type:
            return False
        if self.language and story.language not in self.language:
            return False
        when = story.sort_at
        if self.date_from and (when is None or when < self.date_from):
            return False
        return not (self.date_to and (when is None or when > self.date_to))


@dataclass(frozen=True)
class SearchQuery:
    """What to match: taxonomy and date filters, and words."""

    filters: Filters = field(default_factory=Filters)
    text: TextQuery = field(default_factory=TextQuery)

    def filter(self) -> dict[str, Any]:
        return {**self.filters.filter(), **self.text.filter()}

    def matches(self, story: StoredStory) -> bool:
        """The same test as :meth:`filter`, in Python (for the live stream)."""
        return self.filters.matches(story) and self.text.matches(set(story.terms))


@dataclass(frozen=True)
class Order:
    """How a listing is sorted: ``keys`` most significant first, ending with the id
    so that the order is total (what keyset paging needs)."""

    keys: tuple[str, ...]
    descending: bool

    @property
    def ranked(self) -> bool:
        return self.keys[0] == SCORE

    def sort(self) -> dict[str, int]:
        direction = -1 if self.descending else 1
        return dict.fromkeys(self.keys, direction)


def order_of(sort: Sort, text: TextQuery) -> Order:
    """Relevance needs words to rank by; without them it is newest first."""
    if sort == "relevance" and text.units():
        return Order(keys=(SCORE, F.SORT_AT, F.ID), descending=True)
    return Order(keys=(F.SORT_AT, F.ID), descending=sort != "oldest")


def score_expression(units: list[str]) -> dict[str, Any]:
    """The relevance of a story for the query terms ``units`` (see :data:`WEIGHTS`)."""
    return {
        "$add": [
            {"$multiply": [w, {"$size": {"$setIntersection": [{"$ifNull": [f"${f}", []]}, units]}}]}
            for f, w in WEIGHTS
        ]
    }
