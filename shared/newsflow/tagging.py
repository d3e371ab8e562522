"""Tag an item with offices, topics, countries and a content type, and say why.

Declared metadata (the publisher's "Where we are" / "What we do" / "Content type")
is normalised to canonical taxonomy ids; a label nobody knows is kept as an
unresolved tag rather than dropped. Inference reads the title, summary and body:
office names and abbreviations, country names and demonyms, and weighted topic
signals.

Why an automaton: every label and signal of the taxonomy goes into one
Aho-Corasick automaton (pyahocorasick), so each field is scanned once, in time
linear in its length, whatever the number of patterns. A loop of regular
expressions is an order of magnitude slower. The automaton runs on a case- and
accent-folded copy of the text; an offset map takes matches back to the original
string, so evidence offsets always point into the text as published.

Why the rules after matching: a multi-pattern match is not yet a tag. Matches
must sit on word boundaries ("Roma" is not in "Romania"); abbreviations must match
case exactly ("SMM", not "smm"); overlapping matches keep the longest ("Personal
Representative of the Chairperson-in-Office" beats "Chairperson-in-Office"); a
generic phrase such as "OSCE Programme Office" counts only when the rest of the
item points at exactly one plausible office; and a demonym used for a language
or a people ("in Russian", "Kosovo Albanian") is not a country.

Pure: no I/O happens here beyond reading the taxonomy passed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal, Protocol, TypeVar

import ahocorasick
from pydantic import BaseModel

from newsflow.items import NewsItem
from newsflow.tags import Evidence, Tag, Tags
from newsflow.taxonomy import Office, Taxonomy, office_labels, strip_closed_suffix
from newsflow.text import identity_key

Mode = Literal[
    "name",
    "alias",
    "abbreviation",
    "former",
    "context_alias",
    "context_term",
    "demonym",
    "exclusion",
    "signal",
    "title_signal",
]

# Pattern groups: each is resolved on its own (longest match wins within a group).
OFFICE, COUNTRY, TOPIC, TERM, CONTENT = range(5)
FIELDS: Final = ("title", "summary", "body")
TITLE: Final = 0

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
}
#: Offices whose mention implies their host country, and how surely.
HOSTED_CATEGORIES: Final = frozenset({"field_operation", "secretariat_programme"})
HOST_CONFIDENCE: Final = 0.8
#: Confidence of an office implied by a child office (TNTD -> OSCE Secretariat).
PARENT_CONFIDENCE: Final = 0.6
#: Share of a sub-topic's confidence given to its parent topic.
PARENT_TOPIC_FACTOR: Final = 0.9
#: A topic is tagged when its combined signal confidence reaches this.
TOPIC_THRESHOLD: Final = 0.5
#: Inferred tags never claim certainty.
MAX_INFERRED: Final = 0.99
#: Evidence entries kept per tag (every match still counts towards confidence).
MAX_EVIDENCE: Final = 3
#: Bound on the memo tables for declared labels (a publisher's vocabulary is small).
_MEMO_LIMIT: Final = 20_000

# Spelling variants seen on osce.org and in the press; applied to folded patterns.
_VARIANTS: Final = (
    ("co-ordinat", "coordinat"),
    ("co-operation", "cooperation"),
    ("programme", "program"),
    ("centre", "center"),
    ("organization", "organisation"),
)
# The same for declared labels, after identity_key has turned '-' into ' '.
_LABEL_VARIANTS: Final = (
    ("co ordinat", "coordinat"),
    ("co operation", "cooperation"),
    ("programme", "program"),
    ("centre", "center"),
    ("organisation", "organization"),
)
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")
_DASHES: Final = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212")
_QUOTES: Final = frozenset("\u2018\u2019\u201b\u02bc\u2032")
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
    }
)
_ETHNIC_PREV: Final = frozenset({"ethnic", "kosovo"})
_IN_LANGUAGE_NEXT: Final = frozenset({"", "and", "or"})


# --------------------------------------------------------------------------- folding


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds case and accents, filled lazily per character.

    Most characters fold to exactly one character, so the folded text lines up with
    the original and needs no offset map. Characters that fold to none or several
    (combining marks, 'ß', ligatures) are remembered as irregular; text containing
    them takes the slower path that builds an offset map.
    """

    def __init__(self) -> None:
        super().__init__()
        self.irregular: set[str] = set()

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in _DASHES:
            out = "-"
        elif ch in _QUOTES:
            out = "'"
        else:
            decomposed = unicodedata.normalize("NFKD", ch.casefold())
            out = "".join(c for c in decomposed if not unicodedata.combining(c))
        if len(out) != 1:
            self.irregular.add(ch)
        self[code] = out
        return out


_FOLD = _FoldTable()


def fold_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Fold ``text``; return the folded string and, when lengths differ, an offset map.

    The map has one entry per folded character (the index of the original character
    it came from) plus a final ``len(text)``. ``None`` means position i is i.
    """
    if text.isascii():
        return text.lower(), None
    # Usually a few non-ASCII characters (dashes, quotes, accents) in English text:
    # lower-case the whole string in C, then replace just those characters.
    folded = text.lower()
    regular = True
    for ch in set(_NON_ASCII.findall(text)):
        target = _FOLD[ord(ch)]
        lowered = ch.lower()
        if ch in _FOLD.irregular or len(lowered) != 1:
            regular = False
            break
        if lowered != target:
            folded = folded.replace(lowered, target)
    if regular:
        return folded, None
    offsets: list[int] = []
    parts: list[str] = []
    for i, ch in enumerate(text):
        part = _FOLD[ord(ch)]
        parts.append(part)
        offsets.extend([i] * len(part))
    offsets.append(len(text))
    return "".join(parts), offsets


def fold(text: str) -> str:
    """Case- and accent-fold exactly as the tagger does: 'Türkiye' -> 'turkiye'."""
    return fold_with_offsets(text)[0]


def _label_key(label: str) -> str:
    key = identity_key(strip_closed_suffix(label))
    for a, b in _LABEL_VARIANTS:
        key = key.replace(a, b)
    return key


def _spellings(folded: str) -> set[str]:
    out = {folded}
    for a, b in _VARIANTS:
        for s in list(out):
            if a in s:
                out.add(s.replace(a, b))
            if b in s:
                out.add(s.replace(b, a))
    return out


# --------------------------------------------------------------------------- output models

M = TypeVar("M", bound=BaseModel)
_new = object.__new__
_set = object.__setattr__


def _trusted(cls: type[M], values: dict[str, Any]) -> M:
    """Build a frozen model from values this module produced and knows are valid.

    Validation costs more than the whole scan of an item, and every value here comes
    from the validated taxonomy or from offsets we computed. The result is an
    ordinary instance (equal to, and dumped like, a validated one); tests check
    that round trip. If the models ever gain or lose fields, ``_FAST`` is False and
    we validate instead of guessing.
    """
    if not _FAST:
        return cls.model_validate(values)
    obj = _new(cls)
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", _FIELDS_SET[cls])
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


# Every field is always given, so every field counts as set (as after validation).
_FIELDS_SET: Final[dict[type[BaseModel], set[str]]] = {
    Evidence: {"field", "text", "start", "end"},
    Tag: {"id", "name", "source", "confidence", "label", "resolved", "evidence"},
    Tags: {"taxonomy_version", "topics", "offices", "countries", "content_type"},
}
_FAST: Final = all(set(cls.model_fields) == names for cls, names in _FIELDS_SET.items())


_EVIDENCE_FIELDS: Final = _FIELDS_SET[Evidence]
_TAG_FIELDS: Final = _FIELDS_SET[Tag]


def _evidence(field: str, text: str, start: int | None = None, end: int | None = None) -> Evidence:
    values = {"field": field, "text": text, "start": start, "end": end}
    if not _FAST:
        return Evidence.model_validate(values)
    obj = _new(Evidence)  # _trusted, inlined: this runs for every span of every item
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", _EVIDENCE_FIELDS)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


def _tag(
    entry_id: str | None,
    name: str,
    source: str,
    confidence: float,
    label: str | None,
    evidence: list[Evidence],
    *,
    resolved: bool = True,
) -> Tag:
    values = {
        "id": entry_id,
        "name": name,
        "source": source,
        "confidence": confidence,
        "label": label,
        "resolved": resolved,
        "evidence": evidence,
    }
    if not _FAST:
        return Tag.model_validate(values)
    obj = _new(Tag)  # _trusted, inlined
    _set(obj, "__dict__", values)
    _set(obj, "__pydantic_fields_set__", _TAG_FIELDS)
    _set(obj, "__pydantic_extra__", None)
    _set(obj, "__pydantic_private__", None)
    return obj


# --------------------------------------------------------------------------- patterns


class _Named(Protocol):
    @property
    def name(self) -> str: ...


@dataclass(frozen=True, slots=True)
class _Pattern:
    group: int
    target: str | None  # None: an exclusion, or a generic phrase resolved per item
    mode: Mode
    weight: float
    label: str
    exact: str | None = None  # required original spelling (case-sensitive patterns)
    prefix: bool = False  # trailing '*': the match may run on to the end of a word


# A hit: (field index, start, end, matched original text, pattern).
_Hit = tuple[int, int, int, str, _Pattern]


class _Found:
    """What one item says about the entries of one kind, while it is being tagged.

    Plain dicts of lists rather than an object per entry: this runs for every item.
    """

    __slots__ = ("hits", "labels", "weights")

    def __init__(self) -> None:
        self.weights: dict[str, list[float]] = {}  # id -> confidence of each piece of evidence
        self.hits: dict[str, list[_Hit]] = {}  # id -> text evidence, in reading order
        self.labels: dict[str, str] = {}  # id -> first name used in the text

    def add(self, entry_id: str, weight: float, hit: _Hit | None) -> None:
        weights = self.weights.get(entry_id)
        if weights is None:
            self.weights[entry_id] = [weight]
            self.hits[entry_id] = [hit] if hit is not None else []
        else:
            weights.append(weight)
            if hit is not None:
                self.hits[entry_id].append(hit)


def _combine(confidences: list[float]) -> float:
    remaining = 1.0
    for c in confidences:
        remaining *= 1.0 - c
    return 1.0 - remaining


def _language_sense(text: str, start: int, end: int) -> bool:
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
    return prev == "in" or (len(words) == 3 and words[0] == "in" and prev in ("and", "or"))


class Tagger:
    """Built once from a taxonomy; ``tag`` is then cheap and free of side effects.

    (The memo tables below only cache pure functions of declared labels.)
    """

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self.version = taxonomy.version
        self._keys: tuple[dict[str, str], ...] = (
            {
                _label_key(label): o.id
                for o in taxonomy.offices.values()
                for label in office_labels(o)
            },
            {},
            {
                _label_key(label): t.id
                for t in taxonomy.topics.values()
                for label in (t.name, *t.aliases)
            },
            {},
            {
                _label_key(label): c.id
                for c in taxonomy.content_types.values()
                for label in (c.name, *c.aliases)
            },
        )
        self._memo: tuple[dict[str, str | None], ...] = ({}, {}, {}, {}, {})
        self._generic: dict[str, list[Office]] = {}
        for o in taxonomy.offices.values():
            for label in o.context_aliases:
                self._generic.setdefault(label, []).append(o)
        self._office_ancestors = {o: tuple(taxonomy.office_ancestors(o)) for o in taxonomy.offices}
        self._topic_ancestors = {t: tuple(taxonomy.topic_ancestors(t)) for t in taxonomy.topics}
        self._hints = {o.id: o.topic_hints for o in taxonomy.offices.values() if o.topic_hints}
        self._hosts = {
            o.id: o.country
            for o in taxonomy.offices.values()
            if o.country is not None and o.category in HOSTED_CATEGORIES
        }
        self._declared_evidence: dict[str, Evidence] = {}
        self._declared_tags: dict[tuple[str, str], Tag] = {}
        self._content_tags: dict[str, Tag] = {}
        self._automaton = self._build()

    # ------------------------------------------------------------------ building

    def _patterns(self) -> Iterator[tuple[str, _Pattern]]:
        tx = self.taxonomy
        for o in tx.offices.values():
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
            for label in o.context_terms:
                yield label, _Pattern(TERM, o.id, "context_term", 0.0, label)
        # One pattern per generic phrase; which office it means is decided per item.
        weight = MENTION_CONFIDENCE["context_alias"]
        for label in self._generic:
            yield label, _Pattern(OFFICE, None, "context_alias", weight, label)
        for c in tx.countries.values():
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
        for t in tx.topics.values():
            for s in t.signals:
                prefix = s.text.endswith("*")
                text = s.text[:-1] if prefix else s.text
                exact = text if s.case_sensitive else None
                yield text, _Pattern(TOPIC, t.id, "signal", s.weight, s.text, exact, prefix)
        for ct in tx.content_types.values():
            weight = MENTION_CONFIDENCE["title_signal"]
            for label in ct.title_signals:
                yield label, _Pattern(CONTENT, ct.id, "title_signal", weight, label)

    def _build(self) -> ahocorasick.Automaton:
        table: dict[str, list[_Pattern]] = {}
        for label, pattern in self._patterns():
            folded = fold(label)
            keys = {folded} if pattern.exact is not None else _spellings(folded)
            for key in keys:
                bucket = table.setdefault(key, [])
                if pattern not in bucket:
                    bucket.append(pattern)
        automaton = ahocorasick.Automaton()
        for key, patterns in table.items():
            prefix = any(p.prefix for p in patterns)
            value = (len(key), key[0].isalnum(), key[-1].isalnum(), prefix, tuple(patterns))
            automaton.add_word(key, value)
        automaton.make_automaton()
        return automaton

    # ------------------------------------------------------------------ resolving labels

    def _resolve(self, kind: int, label: str) -> str | None:
        memo = self._memo[kind]
        if label in memo:
            return memo[label]
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        found = memo[label] = self._keys[kind].get(_label_key(label))
        return found

    def resolve_office(self, label: str) -> str | None:
        """Canonical office id for a label as published (current, former, alias), or None."""
        return self._resolve(OFFICE, label)

    def resolve_topic(self, label: str) -> str | None:
        """Canonical topic id for a 'What we do' label, or None."""
        return self._resolve(TOPIC, label)

    def resolve_content_type(self, label: str) -> str | None:
        """Canonical content-type id for a 'Content type' label, or None."""
        return self._resolve(CONTENT, label)

    def _declared_tag(self, entries: Mapping[str, _Named], entry_id: str, label: str) -> Tag:
        """A declared tag with no support in the text: a pure function of the label."""
        key = (entry_id, label)
        tag = self._declared_tags.get(key)
        if tag is None:
            if len(self._declared_tags) > _MEMO_LIMIT:
                self._declared_tags.clear()
            name = entries[entry_id].name
            evidence = [self._declared(label)]
            tag = self._declared_tags[key] = _tag(entry_id, name, "declared", 1.0, label, evidence)
        return tag

    def _declared(self, label: str) -> Evidence:
        found = self._declared_evidence.get(label)
        if found is None:
            if len(self._declared_evidence) > _MEMO_LIMIT:
                self._declared_evidence.clear()
            found = self._declared_evidence[label] = _evidence("declared", label)
        return found

    # ------------------------------------------------------------------ matching

    def _scan(self, field: int, text: str, groups: list[list[_Hit]]) -> None:
        """One automaton pass over a folded field; boundary- and case-checked hits.

        The automaton reports leftmost-longest, non-overlapping matches, so a longer
        name hides what it contains: the office wins over 'Human Rights' inside
        'Office for Democratic Institutions and Human Rights', 'Romania' over 'Roma',
        'North Korea' (an exclusion) over 'Korea'. Hits arrive in reading order.
        """
        folded, offsets = fold_with_offsets(text)
        size = len(folded)
        for end_index, value in self._automaton.iter_long(folded):
            length, left_word, right_word, prefix, patterns = value
            start = end_index - length + 1
            stop = end_index + 1
            if left_word and start and folded[start - 1].isalnum():
                continue
            bounded = not (right_word and stop < size and folded[stop].isalnum())
            if not bounded:
                if not prefix:
                    continue
                while stop < size and folded[stop].isalnum():
                    stop += 1
            if offsets is None:
                o_start, o_end = start, stop
            else:
                o_start, o_end = offsets[start], offsets[stop - 1] + 1
                while o_end < len(text) and unicodedata.combining(text[o_end]):
                    o_end += 1
            span = text[o_start:o_end]
            for pattern in patterns:
                if (bounded or pattern.prefix) and (pattern.exact is None or span == pattern.exact):
                    groups[pattern.group].append((field, o_start, o_end, span, pattern))

    # ------------------------------------------------------------------ tagging

    def tag(self, item: NewsItem) -> Tags:
        """Tag a normalised item: declared metadata plus inference from its text."""
        return self.tag_fields(
            title=item.title,
            summary=item.summary,
            body=item.body,
            offices=item.offices,
            topics=item.topics,
            content_type=item.content_type,
            published_at=item.published_at,
        )

    def tag_fields(
        self,
        *,
        title: str,
        summary: str | None = None,
        body: str | None = None,
        offices: Sequence[str] = (),
        topics: Sequence[str] = (),
        content_type: str | None = None,
        published_at: datetime | None = None,
    ) -> Tags:
        """Tag from loose fields; evidence offsets refer to these exact strings."""
        texts = (title, summary or "", body or "")
        groups: list[list[_Hit]] = [[], [], [], [], []]
        for field, text in enumerate(texts):
            if text:
                self._scan(field, text, groups)
        day = published_at.date() if published_at is not None else None

        countries = _countries(groups[COUNTRY], texts)
        found_offices, office_declared, office_unknown = self._offices(
            groups[OFFICE], groups[TERM], countries, offices, day
        )
        self._host_countries(found_offices, office_declared, countries)
        found_topics, topic_declared, topic_unknown = self._topics(
            groups[TOPIC], found_offices, topics
        )
        tx = self.taxonomy
        made: dict[tuple[int, int], Evidence] = {}  # one Evidence per span, shared by tags
        return _trusted(
            Tags,
            {
                "taxonomy_version": self.version,
                "topics": self._finish(
                    found_topics, topic_declared, topic_unknown, tx.topics, made
                ),
                "offices": self._finish(
                    found_offices, office_declared, office_unknown, tx.offices, made
                ),
                "countries": self._finish(countries, {}, (), tx.countries, made),
                "content_type": self._content_type(content_type, groups[CONTENT]),
            },
        )

    # ------------------------------------------------------------------ offices

    def _offices(
        self,
        hits: list[_Hit],
        terms: list[_Hit],
        countries: _Found,
        declared: Sequence[str],
        day: date | None,
    ) -> tuple[_Found, dict[str, str], list[str]]:
        found = _Found()
        declared_ids: dict[str, str] = {}  # id -> label as published
        unknown: list[str] = []
        for label in declared:
            office_id = self._resolve(OFFICE, label)
            if office_id is None:
                unknown.append(label)
            elif office_id not in declared_ids:
                declared_ids[office_id] = label
                found.add(office_id, 1.0, None)

        generic: list[_Hit] = []
        for hit in hits:
            target = hit[4].target
            if target is None:
                generic.append(hit)
            else:
                found.add(target, hit[4].weight, hit)
                if target not in found.labels:
                    found.labels[target] = hit[3]

        if generic:
            supported = {h[4].target for h in terms}
            for hit in generic:
                office_id = self._resolve_generic(
                    hit[4].label, supported, countries.weights, found.weights, day
                )
                if office_id is not None:
                    found.add(office_id, hit[4].weight, hit)

        for office_id in list(found.weights):
            for parent in self._office_ancestors.get(office_id, ()):
                if parent not in found.weights:
                    found.weights[parent] = [PARENT_CONFIDENCE]
                    found.hits[parent] = found.hits[office_id]
        return found, declared_ids, unknown

    def _resolve_generic(
        self,
        label: str,
        supported: set[str | None],
        countries: Mapping[str, object],
        known: Mapping[str, object],
        day: date | None,
    ) -> str | None:
        """'the OSCE Programme Office' -> the one office the rest of the item points at.

        Candidates share the phrase, existed on the publishing day (when known), and
        have their country or one of their places named in the item. A candidate
        already named explicitly wins; otherwise exactly one must remain.
        """
        ids: list[str] = []
        for o in self._generic.get(label, ()):
            if day is not None and not o.active_on(day):
                continue
            if o.id in supported or (o.country is not None and o.country in countries):
                ids.append(o.id)
        already = [i for i in ids if i in known]
        if len(already) == 1:
            return already[0]
        return ids[0] if len(ids) == 1 else None

    def _host_countries(self, offices: _Found, declared: dict[str, str], countries: _Found) -> None:
        """A field operation named in the item concerns its host country.

        'OSCE Mission to Serbia' matches as one office name, so 'Serbia' inside it is
        not seen again as a country; and 'Programme Office in Nur-Sultan' names no
        country at all. The host country comes from the taxonomy instead.
        """
        for office_id, hits in offices.hits.items():
            country = self._hosts.get(office_id)
            if country is None or not (hits or office_id in declared):
                continue
            if hits:
                countries.add(country, HOST_CONFIDENCE, hits[0])
            else:
                countries.add(country, HOST_CONFIDENCE, None)

    # ------------------------------------------------------------------ topics

    def _topics(
        self, hits: list[_Hit], offices: _Found, declared: Sequence[str]
    ) -> tuple[_Found, dict[str, str], list[str]]:
        found = _Found()
        signals: dict[str, dict[str, float]] = {}  # topic -> signal -> its say
        for hit in hits:
            pattern = hit[4]
            topic_id = pattern.target or ""
            said = signals.get(topic_id)
            if said is None:
                signals[topic_id] = {pattern.label: pattern.weight}
                found.hits[topic_id] = [hit]
                continue
            found.hits[topic_id].append(hit)
            weight = pattern.weight
            if pattern.label in said:  # a recurring signal adds a little, once
                said[pattern.label] = 1.0 - (1.0 - weight) * (1.0 - weight / 2)
            else:
                said[pattern.label] = weight
        for topic_id, said in signals.items():
            found.weights[topic_id] = list(said.values())
        for office_id in offices.weights:
            for hint in self._hints.get(office_id, ()):
                named = offices.hits[office_id]
                found.add(hint.topic, hint.weight, named[0] if named else None)

        declared_ids: dict[str, str] = {}
        unknown: list[str] = []
        for label in declared:
            resolved = self._resolve(TOPIC, label)
            if resolved is None:
                unknown.append(label)
            elif resolved not in declared_ids:
                declared_ids[resolved] = label
                if resolved not in found.weights:
                    found.add(resolved, 1.0, None)
        weak = [
            t
            for t, w in found.weights.items()
            if t not in declared_ids and _combine(w) < TOPIC_THRESHOLD
        ]
        for topic_id in weak:
            del found.weights[topic_id]

        for topic_id in list(found.weights):
            for parent in self._topic_ancestors.get(topic_id, ()):
                if parent not in found.weights:
                    if topic_id in declared_ids:
                        strength = MAX_INFERRED
                    else:
                        strength = min(_combine(found.weights[topic_id]), MAX_INFERRED)
                    found.weights[parent] = [strength * PARENT_TOPIC_FACTOR]
                    found.hits[parent] = found.hits.get(topic_id, [])
        return found, declared_ids, unknown

    # ------------------------------------------------------------------ content type

    def _content_type(self, declared: str | None, hits: list[_Hit]) -> Tag | None:
        if declared:
            tag = self._content_tags.get(declared)
            if tag is None:
                if len(self._content_tags) > _MEMO_LIMIT:
                    self._content_tags.clear()
                tag = self._content_tags[declared] = self._declared_content_type(declared)
            return tag
        for field, start, end, span, pattern in hits:
            if field == TITLE and pattern.target is not None:
                name = self.taxonomy.content_types[pattern.target].name
                evidence = [_evidence("title", span, start, end)]
                return _tag(pattern.target, name, "inferred", pattern.weight, None, evidence)
        return None

    def _declared_content_type(self, label: str) -> Tag:
        evidence = [self._declared(label)]
        ct_id = self._resolve(CONTENT, label)
        if ct_id is None:
            return _tag(None, label, "declared", 0.0, label, evidence, resolved=False)
        name = self.taxonomy.content_types[ct_id].name
        return _tag(ct_id, name, "declared", 1.0, label, evidence)

    # ------------------------------------------------------------------ assembling tags

    def _finish(
        self,
        found: _Found,
        declared: dict[str, str],
        unknown: Sequence[str],
        entries: Mapping[str, _Named],
        made: dict[tuple[int, int], Evidence],
    ) -> list[Tag]:
        """Declared tags first (as published), then unresolved labels, then inferences."""
        tags: list[Tag] = []
        hits_of = found.hits
        for entry_id, label in declared.items():
            hits = hits_of.get(entry_id)
            if hits:
                evidence = [self._declared(label), *_evidence_for(hits, MAX_EVIDENCE - 1, made)]
                name = entries[entry_id].name
                tags.append(_tag(entry_id, name, "declared", 1.0, label, evidence))
            else:
                tags.append(self._declared_tag(entries, entry_id, label))
        for label in unknown:
            evidence = [self._declared(label)]
            tags.append(_tag(None, label, "declared", 0.0, label, evidence, resolved=False))
        if len(found.weights) == len(declared):
            return tags
        inferred: list[tuple[float, int, int, str]] = []
        for entry_id, weights in found.weights.items():
            if entry_id not in declared:
                confidence = _combine(weights) if len(weights) > 1 else weights[0]
                if confidence > MAX_INFERRED:
                    confidence = MAX_INFERRED
                elif len(weights) > 1:
                    confidence = round(confidence, 4)
                hits = hits_of.get(entry_id)
                first = hits[0] if hits else (9, 0)
                inferred.append((-confidence, first[0], first[1], entry_id))
        if len(inferred) > 1:
            inferred.sort()
        labels = found.labels
        for negative, _, _, entry_id in inferred:
            evidence = _evidence_for(hits_of.get(entry_id, []), MAX_EVIDENCE, made)
            name = entries[entry_id].name
            tags.append(_tag(entry_id, name, "inferred", -negative, labels.get(entry_id), evidence))
        return tags


def _countries(hits: list[_Hit], texts: tuple[str, str, str]) -> _Found:
    found = _Found()
    for hit in hits:
        pattern = hit[4]
        target = pattern.target
        if target is None:  # an exclusion ('North Korea') took the span
            continue
        if pattern.mode == "demonym":
            if _language_sense(texts[hit[0]], hit[1], hit[2]):
                continue
        elif target not in found.labels:
            found.labels[target] = hit[3]
        found.add(target, pattern.weight, hit)
    return found


def _evidence_for(
    hits: list[_Hit], limit: int, made: dict[tuple[int, int], Evidence]
) -> list[Evidence]:
    """Evidence for the first distinct spans, in the order found (one object per span)."""
    if len(hits) == 1:
        field, start, end, text, _ = hits[0]
        evidence = made.get((field, start))
        if evidence is None:
            evidence = made[field, start] = _evidence(FIELDS[field], text, start, end)
        return [evidence]
    out: list[Evidence] = []
    last: tuple[int, int] | None = None
    for field, start, end, text, _ in hits:
        key = (field, start)
        if key == last:
            continue
        last = key
        evidence = made.get(key)
        if evidence is None:
            evidence = made[key] = _evidence(FIELDS[field], text, start, end)
        out.append(evidence)
        if len(out) >= limit:
            break
    return out


def count_unresolved(tags: Tags) -> int:
    """Declared labels that matched no taxonomy entry (reported as a metric)."""
    unresolved = sum(1 for t in (*tags.topics, *tags.offices, *tags.countries) if not t.resolved)
    if tags.content_type is not None and not tags.content_type.resolved:
        unresolved += 1
    return unresolved
