"""One Aho-Corasick pass over an item's text, sorted into what it names.

Every label and signal of the taxonomy goes into one automaton (pyahocorasick), so
the text is scanned once, in time linear in its length, whatever the number of
patterns. A loop of regular expressions is an order of magnitude slower.

A multi-pattern match is not yet a mention, so :meth:`Scanner.scan` also applies
the rules that need the text itself: matches must sit on word boundaries ("Roma" is
not in "Romania"); abbreviations must match case exactly ("SMM", not "smm");
overlapping matches keep the longest ("Personal Representative of the
Chairperson-in-Office" beats "Chairperson-in-Office"); and a demonym used for a
language or a people ("in Russian", "Kosovo Albanian") is not a country.

The scan loop runs for every match of every item, and the benchmark target
(20,000 items a second on one core, tests/benchmarks/bench_tagger.py) leaves about
a hundred Python operations per match. Hence plain tuples and dicts, and few
function calls.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Literal

import ahocorasick

from newsflow.domain.tagging.matching import (
    FIELD_SEPARATOR,
    fold_for_matching,
    fold_for_matching_general,
    matching_form,
    pattern_letters,
    spellings,
    stand_in,
)
from newsflow.domain.tagging.titles import REFERENCES
from newsflow.domain.tags import EvidenceField
from newsflow.domain.taxonomy import Taxonomy

Mode = Literal[
    "name",
    "alias",
    "abbreviation",
    "former",
    "context_alias",
    "demonym",
    "exclusion",
    "signal",
    "title_signal",
    "title",
]

# What a pattern names (REFERENCE: an office named by its holder's title, see ``titles``).
OFFICE, COUNTRY, TOPIC, CONTENT, REFERENCE = range(5)
#: Where evidence comes from, by the field index of a span.
FIELDS: Final[tuple[EvidenceField, ...]] = ("title", "summary", "body", "declared")
TITLE: Final = 0
DECLARED: Final = 3  # a 'span' that is a declared label: (DECLARED, None, None, label)

#: Confidence of one mention, by how the office or country was named.
MENTION_CONFIDENCE: Final[dict[str, float]] = {
    "name": 0.95,
    "alias": 0.95,
    "former": 0.95,
    "abbreviation": 0.9,
    "context_alias": 0.6,
    "country": 0.9,
    "demonym": 0.7,
    "title_signal": 0.8,
    "title": 0.85,
}

# Words next to a demonym that show it names a language or a people, not a State.
_LANGUAGE_NEXT: Final = frozenset(
    {
        "language",
        "languages",
        "speaking",
        "speaker",
        "speakers",
        "minority",
        "minorities",
        "community",
        "communities",
        "translation",
        "version",
        "subtitles",
        # Russian: 'на украинском языке', 'армянская община', 'узбекского меньшинства'
        "язык",
        "языка",
        "языку",
        "языком",
        "языке",
        "языки",
        "языков",
        "языках",
        "меньшинство",
        "меньшинства",
        "меньшинству",
        "меньшинством",
        "меньшинстве",
        "меньшинств",
        "община",
        "общины",
        "общине",
        "общину",
        "общиной",
        "общин",
        "диаспора",
        "диаспоры",
        "диаспоре",
        "диаспору",
        "перевод",
        "переводе",
        "версия",
        "версии",
    }
)
_ETHNIC_PREV: Final = frozenset(
    {"ethnic", "kosovo", "этнический", "этническая", "этнические", "этнических", "этнического"}
)
_IN_LANGUAGE_NEXT: Final = frozenset({"", "and", "or", "и", "или"})
#: 'in' before a language: 'in Russian', 'на русском'.
_IN: Final = frozenset({"in", "на"})

# Evidence while an item is tagged: (field index, start, end, text as published).
Span = tuple[int, int | None, int | None, str]
Weights = dict[str, list[float]]
Spans = dict[str, list[Span]]


@dataclass(frozen=True, slots=True)
class _Pattern:
    group: int
    target: str | None  # None: an exclusion, or a generic phrase resolved per item
    mode: Mode
    weight: float
    label: str
    exact: str | None = None  # required original spelling (case-sensitive patterns)
    prefix: bool = False  # trailing '*': the match may run on to the end of a word


class Found:
    """What the text of one item says, gathered in plain dicts (this runs per item)."""

    __slots__ = (
        "content",
        "country_labels",
        "country_spans",
        "country_weights",
        "folded",
        "generic",
        "office_labels",
        "office_spans",
        "office_weights",
        "references",
        "topic_signals",
        "topic_spans",
    )

    def __init__(self) -> None:
        self.office_weights: Weights = {}
        self.office_spans: Spans = {}
        self.office_labels: dict[str, str] = {}  # the first name the text used
        self.generic: list[tuple[str, Span]] = []  # 'the OSCE Programme Office'
        self.references: list[tuple[str, str, Span]] = []  # (office, title, span)
        self.folded = ""  # the matching form of the fields, for rare second looks
        self.country_weights: Weights = {}
        self.country_spans: Spans = {}
        self.country_labels: dict[str, str] = {}
        self.topic_signals: dict[str, dict[str, float]] = {}  # topic -> signal -> its say
        self.topic_spans: Spans = {}
        self.content: tuple[str, float, Span] | None = None


def generic_labels(taxonomy: Taxonomy) -> dict[str, None]:
    """Generic phrases ('OSCE Programme Office'), in taxonomy order: which office one
    means is decided per item, from the rest of its text."""
    return dict.fromkeys(label for o in taxonomy.offices.values() for label in o.context_aliases)


def _patterns(taxonomy: Taxonomy) -> Iterator[tuple[str, _Pattern]]:
    for o in taxonomy.offices.values():
        named: tuple[tuple[Mode, list[str]], ...] = (
            ("name", [o.name]),
            ("alias", o.aliases),
            ("former", [f.name for f in o.former_names if not f.abbreviation]),
        )
        for mode, labels in named:
            for label in labels:
                yield label, _Pattern(OFFICE, o.id, mode, MENTION_CONFIDENCE[mode], label)
        abbreviations = [*o.abbreviations, *(f.name for f in o.former_names if f.abbreviation)]
        for label in abbreviations:
            weight = MENTION_CONFIDENCE["abbreviation"]
            yield label, _Pattern(OFFICE, o.id, "abbreviation", weight, label, exact=label)
    # One pattern per generic phrase; which office it means is decided per item.
    weight = MENTION_CONFIDENCE["context_alias"]
    for label in generic_labels(taxonomy):
        yield label, _Pattern(OFFICE, None, "context_alias", weight, label)
    for c in taxonomy.countries.values():
        weight = MENTION_CONFIDENCE["country"]
        names = [c.name, *c.aliases, *(f.name for f in c.former_names if not f.abbreviation)]
        for label in names:
            yield label, _Pattern(COUNTRY, c.id, "name", weight, label)
        for label in [*c.abbreviations, *(f.name for f in c.former_names if f.abbreviation)]:
            yield label, _Pattern(COUNTRY, c.id, "abbreviation", weight, label, exact=label)
        for label in c.demonyms:
            yield (
                label,
                _Pattern(COUNTRY, c.id, "demonym", MENTION_CONFIDENCE["demonym"], label),
            )
        for label in c.exclusions:
            yield label, _Pattern(COUNTRY, None, "exclusion", 0.0, label)
    for t in taxonomy.topics.values():
        for s in t.signals:
            prefix = s.text.endswith("*")
            text = s.text[:-1] if prefix else s.text
            exact = text if s.case_sensitive else None
            yield text, _Pattern(TOPIC, t.id, "signal", s.weight, s.text, exact, prefix)
    weight = MENTION_CONFIDENCE["title"]
    for r in REFERENCES:
        if r.office not in taxonomy.offices:
            raise ValueError(f"reference {r.text!r}: unknown office {r.office!r}")
        exact = r.text if r.case_sensitive else None
        yield r.text, _Pattern(REFERENCE, r.office, "title", weight, r.text, exact)
    for ct in taxonomy.content_types.values():
        weight = MENTION_CONFIDENCE["title_signal"]
        for label in ct.title_signals:
            yield label, _Pattern(CONTENT, ct.id, "title_signal", weight, label)


def language_sense(text: str, start: int, end: int) -> bool:
    """'in Russian', 'in Kyrgyz and Russian', 'Albanian-language', 'ethnic Albanian'.

    In these the word names a language or a people, not the State.
    """
    words = text[max(0, start - 60) : start].casefold().split()[-3:]
    prev = words[-1] if words else ""
    if prev in _ETHNIC_PREV:
        return True
    rest = text[end : end + 40].lstrip(" -\u2010\u2011\u2013")
    n = 0
    while n < len(rest) and rest[n].isalpha():
        n += 1
    nxt = rest[:n].casefold()
    if nxt in _LANGUAGE_NEXT:
        return True
    if nxt not in _IN_LANGUAGE_NEXT:
        return False
    # 'in Russian' or the second of two languages: 'in Kyrgyz and Russian'
    return prev in _IN or (
        len(words) == 3 and words[0] in _IN and prev in ("and", "or", "и", "или")
    )


class Scanner:
    """The automaton of one taxonomy's labels and signals; :meth:`scan` is per item."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        table: dict[str, list[_Pattern]] = {}
        for label, pattern in _patterns(taxonomy):
            key = matching_form(label)
            keys = {key} if pattern.exact is not None else spellings(key)
            for key in keys:
                if not key.strip() or not key[-1].isalnum():
                    raise ValueError(f"pattern {label!r} must end with a letter or digit")
                bucket = table.setdefault(key, [])
                if pattern not in bucket:
                    bucket.append(pattern)
        #: The stand-in for letters with no ASCII fold (None: every text takes the
        #: general folding path; tests set it to check both paths agree).
        self.stand_in = stand_in(table)
        self.letters = pattern_letters(table)
        automaton = ahocorasick.Automaton()
        for key, patterns in table.items():
            # (length without the leading space, any prefix pattern, the patterns)
            # Patterns as plain tuples: unpacking one is cheaper than reading attributes.
            flat = tuple(
                (p.group, p.target, p.weight, p.label, p.exact, p.prefix, p.mode == "demonym")
                for p in patterns
            )
            value = (len(key) - 1, any(p.prefix for p in patterns), flat)
            automaton.add_word(key, value)
        automaton.make_automaton()
        self._automaton = automaton

    def scan(self, texts: tuple[str, str, str]) -> Found:
        """One automaton pass over the fields, sorted straight into a :class:`Found`.

        The fields are joined and scanned once in their matching form, where every
        gap between words is a space and every pattern starts with one: a match can
        only start at a word start, and it must end at a word end (or, for a pattern
        like 'journalist*', run on to it). Fields are joined with a separator no
        pattern contains, so nothing matches across fields. The automaton reports
        leftmost-longest, non-overlapping matches, so a longer name hides what it
        contains: the office wins over 'Human Rights' inside 'Office for Democratic
        Institutions and Human Rights', 'Romania' over 'Roma', 'North Korea' (an
        exclusion) over 'Korea'. Matches arrive in reading order; abbreviations must
        also match case exactly; offsets go back to the field as published.
        """
        title, summary, body = texts
        # A space at each end: every word has a gap before and after it.
        joined = f" {title}{FIELD_SEPARATOR}{summary}{FIELD_SEPARATOR}{body} "
        summary_at = len(title) + len(FIELD_SEPARATOR) + 1
        body_at = summary_at + len(summary) + len(FIELD_SEPARATOR)
        if self.stand_in is None:
            folded, offsets = fold_for_matching_general(joined)
        else:
            folded, offsets = fold_for_matching(joined, self.stand_in, self.letters)
        found = Found()
        found.folded = folded
        # Local names for the containers: this loop runs for every match of every item.
        topic_signals, topic_spans = found.topic_signals, found.topic_spans
        office_weights, office_spans = found.office_weights, found.office_spans
        country_weights, country_spans = found.country_weights, found.country_spans
        for end_index, (length, prefix, patterns) in self._automaton.iter_long(folded):
            stop = end_index + 1
            bounded = folded[stop] == " "
            if not bounded:
                if not prefix:
                    continue
                while folded[stop].isalnum():
                    stop += 1
            start = end_index - length + 1
            if offsets is not None:
                start, stop = offsets[start], offsets[stop - 1] + 1
                while stop < len(joined) and unicodedata.combining(joined[stop]):
                    stop += 1
            text = joined[start:stop]
            if start < summary_at:
                field, start, stop = 0, start - 1, stop - 1
            elif start < body_at:
                field, start, stop = 1, start - summary_at, stop - summary_at
            else:
                field, start, stop = 2, start - body_at, stop - body_at
            span = (field, start, stop, text)
            for group, target, weight, label, exact, prefix_ok, demonym in patterns:
                if not (bounded or prefix_ok) or (exact is not None and text != exact):
                    continue
                # File the match under its office, country, topic, place or content type
                # (inline: this is the innermost loop).
                if group == TOPIC:
                    topic = target or ""
                    signals = topic_signals.get(topic)
                    if signals is None:
                        topic_signals[topic] = {label: weight}
                        topic_spans[topic] = [span]
                    else:
                        topic_spans[topic].append(span)
                        # a recurring signal adds a little, once
                        signals[label] = (
                            1.0 - (1.0 - weight) * (1.0 - weight / 2)
                            if label in signals
                            else weight
                        )
                elif group == OFFICE:
                    if target is None:
                        found.generic.append((label, span))
                    else:
                        weights = office_weights.get(target)
                        if weights is None:
                            office_weights[target] = [weight]
                            office_spans[target] = [span]
                            found.office_labels[target] = text
                        else:
                            weights.append(weight)
                            office_spans[target].append(span)
                elif group == COUNTRY:
                    if target is None:  # an exclusion ('North Korea') took the span
                        continue
                    if demonym:
                        if language_sense(texts[field], start, stop):
                            continue
                    else:
                        found.country_labels.setdefault(target, text)
                    weights = country_weights.get(target)
                    if weights is None:
                        country_weights[target] = [weight]
                        country_spans[target] = [span]
                    else:
                        weights.append(weight)
                        country_spans[target].append(span)
                elif group == REFERENCE:
                    found.references.append((target or "", label, span))
                elif field == TITLE and found.content is None and target is not None:
                    found.content = (target, weight, span)
        return found
