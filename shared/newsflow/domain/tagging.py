"""Tag an item with offices, topics, countries and a content type, and say why.

Declared metadata (the publisher's "Where we are" / "What we do" / "Content type")
is normalised to canonical taxonomy ids; a label nobody knows is kept as an
unresolved tag rather than dropped. Inference reads the title, summary and body:
office names and abbreviations, country names and demonyms, and weighted topic
signals.

Why an automaton: every label and signal of the taxonomy goes into one
Aho-Corasick automaton (pyahocorasick), so the text is scanned once, in time linear
in its length, whatever the number of patterns. A loop of regular expressions is an
order of magnitude slower. The automaton runs on a "matching form" of the text:
case- and accent-folded, every gap between words a space, one character per
character, so matches map back to offsets in the text as published (an offset map
covers the rare characters that fold to several, like 'ß').

Why the rules after matching: a multi-pattern match is not yet a tag. Matches
must sit on word boundaries ("Roma" is not in "Romania"); abbreviations must match
case exactly ("SMM", not "smm"); overlapping matches keep the longest ("Personal
Representative of the Chairperson-in-Office" beats "Chairperson-in-Office"); a
generic phrase such as "OSCE Programme Office" counts only when the rest of the
item points at exactly one plausible office; and a demonym used for a language
or a people ("in Russian", "Kosovo Albanian") is not a country.

Why the code looks the way it does in :meth:`Tagger._scan` and ``_finish``: they run
for every match and every tag of every item, and the benchmark target (20,000 items
a second on one core, tests/benchmarks/bench_tagger.py) leaves about a hundred
Python operations per match. Hence plain tuples and dicts, few function calls, and
output models built without re-validation (:func:`_trusted`).

Pure: no I/O happens here beyond reading the taxonomy passed in.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final, Literal, TypeVar

import ahocorasick
from pydantic import BaseModel

from newsflow.domain.items import NewsItem
from newsflow.domain.tags import Evidence, Tag, Tags
from newsflow.domain.taxonomy import Office, Taxonomy, office_labels, strip_closed_suffix
from newsflow.domain.text import identity_key

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
]

# What a pattern names (also the kinds of declared labels).
OFFICE, COUNTRY, TOPIC, CONTENT = range(4)
FIELDS: Final = ("title", "summary", "body", "declared")
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

# Spelling variants seen on osce.org and in the press; applied to patterns in their
# matching form (where '-' is already a space).
_VARIANTS: Final = (
    ("co ordinat", "coordinat"),
    ("co operation", "cooperation"),
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
    folded = text.lower()
    if len(folded) == len(text) and _FOLD.irregular.isdisjoint(text):
        for ch in set(_NON_ASCII.findall(text)):
            target = _FOLD[ord(ch)]
            if ch in _FOLD.irregular:
                break
            if ch.lower() != target:
                folded = folded.replace(ch.lower(), target)
        else:
            return folded, None
    return _fold_mapped(text)


def _fold_mapped(text: str) -> tuple[str, list[int]]:
    """The general case: characters that fold to none or several ('ß' -> 'ss')."""
    offsets: list[int] = []
    parts: list[str] = []
    for i, ch in enumerate(text):
        part = _FOLD[ord(ch)]
        parts.append(part)
        offsets.extend([i] * len(part))
    offsets.append(len(text))
    return "".join(parts), offsets


# The matching form of text: folded, every character that is not a letter, digit or
# '+' turned into a space, fields separated by ' \x1f '. Patterns take the same form
# with a leading space, so the automaton itself only starts a match at a word start.
_FIELD_SEPARATOR: Final = " \x1f "
_KEEP: Final = frozenset("abcdefghijklmnopqrstuvwxyz0123456789+\x1f")
_GAPS_BYTES: Final = bytes(b if chr(b) in _KEEP else 32 for b in range(256))
_GAPS_TEXT: Final = re.compile(r"[^\w+\x1f]|_")


def _matching_form(label: str) -> str:
    """' ' + the label folded, with gaps as spaces: 'OSCE/ODIHR' -> ' osce odihr'."""
    return " " + _GAPS_TEXT.sub(" ", fold(label))


def _fold_for_matching(text: str, word: int) -> tuple[str, list[int] | None]:
    """The matching form of ``text``, and an offset map (None: position i is i).

    News text is mostly ASCII with a few dashes, quotes and accents. Encode to ASCII
    with one '?' per other character and lower-case the bytes. A '?' that stands for
    a gap (a dash, a quote, a no-break space) becomes a space like every other gap,
    so only letters and digits need fixing: an accented letter becomes its base
    letter, any other becomes ``word``, an ASCII character no pattern contains, so it
    still belongs to its word. All of it runs in C and keeps one character per
    character, so offsets need no map. (Gaps other than the en dash take the loop,
    which maps them to spaces too.) Characters that fold to none or several
    ('ß' -> 'ss', combining marks) take the general path.
    """
    raw = text.encode("ascii", "replace").lower()
    # Usually the only non-ASCII character is the dateline's en dash: nothing to fix.
    if not text.isascii() and raw.count(63) != text.count("?") + text.count("\u2013"):
        buf = bytearray(raw)
        at = raw.find(63)  # '?'
        while at != -1:
            ch = text[at]
            code = _MATCH_CODES.get(ch)
            if code is None:
                code = _match_code(ch)
            if code < 0:
                return _fold_for_matching_mapped(text)
            buf[at] = word if code == _WORD else code
            at = raw.find(63, at + 1)
        raw = bytes(buf)
    return raw.translate(_GAPS_BYTES).decode("ascii"), None


_WORD: Final = 256  # 'a letter or digit with no ASCII fold'
_MATCH_CODES: dict[str, int] = {"?": 63}


def _match_code(ch: str) -> int:
    """The byte a non-ASCII character becomes (memoised): its ASCII fold, _WORD, a
    space, or -1 if it folds to none or several characters."""
    out = _FOLD[ord(ch)]
    if len(out) != 1:
        code = -1
    elif ord(out) < 128:
        code = ord(out)
    else:
        code = _WORD if out.isalnum() else 32
    if len(_MATCH_CODES) < 65_536:
        _MATCH_CODES[ch] = code
    return code


def _fold_for_matching_mapped(text: str) -> tuple[str, list[int] | None]:
    """The general path: fold (with an offset map if needed), then gaps to spaces."""
    folded, offsets = fold_with_offsets(text)
    return _GAPS_TEXT.sub(" ", folded), offsets


def _stand_in(keys: Iterable[str]) -> int | None:
    """An ASCII letter or digit that no pattern contains (None: use the general path)."""
    used = set("".join(keys))
    if any(not ch.isascii() for ch in used):
        return None
    return next((ord(c) for c in "9876543210zqxj" if c not in used), None)


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
# BaseModel keeps its state in four slots; their setters, looked up once.
_SET_DICT = BaseModel.__dict__["__dict__"].__set__
_SET_FIELDS = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def _trusted(cls: type[M], values: dict[str, Any]) -> M:
    """Build a frozen model from values this module produced and knows are valid.

    Validation would cost more than the whole scan of an item, and every value here
    comes from the validated taxonomy or from offsets we computed. The result is an
    ordinary instance (equal to, and dumped like, a validated one); tests check that
    round trip. If the models ever gain or lose fields, ``_FAST`` is False and we
    validate instead of guessing.
    """
    if not _FAST:
        return cls.model_validate(values)
    obj = _new(cls)
    _SET_DICT(obj, values)
    _SET_FIELDS(obj, _FIELDS_SET[cls])
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, None)
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
    _SET_DICT(obj, values)
    _SET_FIELDS(obj, _EVIDENCE_FIELDS)
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, None)
    return obj


def _tag(
    entry_id: str | None,
    name: str,
    source: str,
    confidence: float,
    label: str | None,
    evidence: list[Evidence],
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
    _SET_DICT(obj, values)
    _SET_FIELDS(obj, _TAG_FIELDS)
    _SET_EXTRA(obj, None)
    _SET_PRIVATE(obj, None)
    return obj


# --------------------------------------------------------------------------- patterns


@dataclass(frozen=True, slots=True)
class _Pattern:
    group: int
    target: str | None  # None: an exclusion, or a generic phrase resolved per item
    mode: Mode
    weight: float
    label: str
    exact: str | None = None  # required original spelling (case-sensitive patterns)
    prefix: bool = False  # trailing '*': the match may run on to the end of a word


# Evidence while an item is tagged: (field index, start, end, text as published).
_Span = tuple[int, int | None, int | None, str]
_Weights = dict[str, list[float]]
_Spans = dict[str, list[_Span]]


def _add(weights: _Weights, spans: _Spans, key: str, weight: float, span: _Span | None) -> None:
    found = weights.get(key)
    if found is None:
        weights[key] = [weight]
        spans[key] = [span] if span is not None else []
    else:
        found.append(weight)
        if span is not None:
            spans[key].append(span)


def _combine(confidences: list[float]) -> float:
    """Independent pieces of evidence: 1 - prod(1 - c)."""
    remaining = 1.0
    for c in confidences:
        remaining *= 1.0 - c
    return 1.0 - remaining


class _Found:
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
        "topic_signals",
        "topic_spans",
    )

    def __init__(self) -> None:
        self.office_weights: _Weights = {}
        self.office_spans: _Spans = {}
        self.office_labels: dict[str, str] = {}  # the first name the text used
        self.generic: list[tuple[str, _Span]] = []  # 'the OSCE Programme Office'
        self.folded = ""  # the matching form of the fields, for rare second looks
        self.country_weights: _Weights = {}
        self.country_spans: _Spans = {}
        self.country_labels: dict[str, str] = {}
        self.topic_signals: dict[str, dict[str, float]] = {}  # topic -> signal -> its say
        self.topic_spans: _Spans = {}
        self.content: tuple[str, float, _Span] | None = None


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
        # Declared labels by identity key, per kind (OFFICE, TOPIC, CONTENT).
        self._keys: dict[int, dict[str, str]] = {
            OFFICE: {
                _label_key(label): o.id
                for o in taxonomy.offices.values()
                for label in office_labels(o)
            },
            TOPIC: {
                _label_key(label): t.id
                for t in taxonomy.topics.values()
                for label in (t.name, *t.aliases)
            },
            CONTENT: {
                _label_key(label): c.id
                for c in taxonomy.content_types.values()
                for label in (c.name, *c.aliases)
            },
        }
        self._memo: dict[int, dict[str, str | None]] = {OFFICE: {}, TOPIC: {}, CONTENT: {}}
        self._generic: dict[str, list[Office]] = {}
        for o in taxonomy.offices.values():
            for label in o.context_aliases:
                self._generic.setdefault(label, []).append(o)
        # Only entries that have parents, so membership tests are the fast path.
        self._office_ancestors = {
            o: tuple(up) for o in taxonomy.offices if (up := taxonomy.office_ancestors(o))
        }
        self._topic_ancestors = {
            t: tuple(up) for t in taxonomy.topics if (up := taxonomy.topic_ancestors(t))
        }
        self._hints = {o.id: o.topic_hints for o in taxonomy.offices.values() if o.topic_hints}
        self._places = {
            o.id: tuple(_matching_form(place) + " " for place in o.context_terms)
            for o in taxonomy.offices.values()
            if o.context_terms
        }
        self._hosts = {
            o.id: o.country
            for o in taxonomy.offices.values()
            if o.country is not None and o.category in HOSTED_CATEGORIES
        }
        self._names = (
            {t.id: t.name for t in taxonomy.topics.values()},
            {o.id: o.name for o in taxonomy.offices.values()},
            {c.id: c.name for c in taxonomy.countries.values()},
        )
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
            key = _matching_form(label)
            keys = {key} if pattern.exact is not None else _spellings(key)
            for key in keys:
                if not key.strip() or not key[-1].isalnum():
                    raise ValueError(f"pattern {label!r} must end with a letter or digit")
                bucket = table.setdefault(key, [])
                if pattern not in bucket:
                    bucket.append(pattern)
        self._stand_in = _stand_in(table)
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

    def _declared_tag(self, names: dict[str, str], entry_id: str, label: str) -> Tag:
        """A declared tag with no support in the text: a pure function of the label."""
        key = (entry_id, label)
        tag = self._declared_tags.get(key)
        if tag is None:
            if len(self._declared_tags) > _MEMO_LIMIT:
                self._declared_tags.clear()
            evidence = [self._declared(label)]
            name = names[entry_id]
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

    def _scan(self, texts: tuple[str, str, str]) -> _Found:
        """One automaton pass over the fields, sorted straight into a :class:`_Found`.

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
        joined = f" {title}{_FIELD_SEPARATOR}{summary}{_FIELD_SEPARATOR}{body} "
        summary_at = len(title) + len(_FIELD_SEPARATOR) + 1
        body_at = summary_at + len(summary) + len(_FIELD_SEPARATOR)
        if self._stand_in is None:
            folded, offsets = _fold_for_matching_mapped(joined)
        else:
            folded, offsets = _fold_for_matching(joined, self._stand_in)
        found = _Found()
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
                        if _language_sense(texts[field], start, stop):
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
                elif field == TITLE and found.content is None and target is not None:
                    found.content = (target, weight, span)
        return found

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
        found = self._scan(texts)
        day = published_at.date() if published_at is not None else None
        declared_offices, unknown_offices = self._offices(found, offices, day)
        topic_weights, topic_spans, declared_topics, unknown_topics = self._topics(found, topics)

        made: dict[_Span, Evidence] = {}  # one Evidence per span, shared by tags
        topic_names, office_names, country_names = self._names
        return _trusted(
            Tags,
            {
                "taxonomy_version": self.version,
                "topics": self._finish(
                    topic_weights,
                    topic_spans,
                    {},
                    declared_topics,
                    unknown_topics,
                    topic_names,
                    made,
                ),
                "offices": self._finish(
                    found.office_weights,
                    found.office_spans,
                    found.office_labels,
                    declared_offices,
                    unknown_offices,
                    office_names,
                    made,
                ),
                "countries": self._finish(
                    found.country_weights,
                    found.country_spans,
                    found.country_labels,
                    {},
                    (),
                    country_names,
                    made,
                ),
                "content_type": self._content_type(content_type, found.content),
            },
        )

    def _declare(
        self, kind: int, labels: Sequence[str], weights: _Weights, spans: _Spans
    ) -> tuple[dict[str, str], list[str]]:
        """Resolve declared labels: {id: label as published}, and the unknown labels.

        A declared entry the text never names gets its label as its only span, so
        what it implies (a parent, a host country, a mandate's topic) can cite it.
        """
        declared: dict[str, str] = {}
        unknown: list[str] = []
        if not labels:
            return declared, unknown
        memo = self._memo[kind]
        for label in labels:
            entry_id = memo[label] if label in memo else self._resolve(kind, label)
            if entry_id is None:
                unknown.append(label)
            elif entry_id not in declared:
                declared[entry_id] = label
                if entry_id not in weights:
                    weights[entry_id] = [1.0]
                    spans[entry_id] = [(DECLARED, None, None, label)]
        return declared, unknown

    # ------------------------------------------------------------------ offices

    def _offices(
        self, found: _Found, declared_labels: Sequence[str], day: date | None
    ) -> tuple[dict[str, str], list[str]]:
        """Declared offices, generic phrases, parent offices and host countries."""
        weights, spans = found.office_weights, found.office_spans
        declared, unknown = self._declare(OFFICE, declared_labels, weights, spans)
        for label, span in found.generic:
            office_id = self._resolve_generic(label, found, day)
            if office_id is not None:
                _add(weights, spans, office_id, MENTION_CONFIDENCE["context_alias"], span)
        for office_id in list(weights):
            # A department implies its parent (TNTD -> OSCE Secretariat), less surely.
            for parent in self._office_ancestors.get(office_id, ()):
                if parent not in weights:
                    weights[parent] = [PARENT_CONFIDENCE]
                    spans[parent] = spans[office_id]
            # A field operation concerns its host country: 'Serbia' inside 'OSCE Mission
            # to Serbia' is not seen again, and 'Programme Office in Nur-Sultan' names none.
            country = self._hosts.get(office_id)
            if country is not None and spans[office_id]:
                first = spans[office_id][0]
                _add(found.country_weights, found.country_spans, country, HOST_CONFIDENCE, first)
        return declared, unknown

    def _resolve_generic(self, label: str, found: _Found, day: date | None) -> str | None:
        """'the OSCE Programme Office' -> the one office the rest of the item points at.

        Candidates share the phrase, existed on the publishing day (when known), and
        have their country or one of their places named in the item. A candidate
        already named explicitly wins; otherwise exactly one must remain.
        """
        ids: list[str] = []
        for o in self._generic.get(label, ()):
            if day is not None and not o.active_on(day):
                continue
            if self._places_named(o.id, found.folded) or (
                o.country is not None and o.country in found.country_weights
            ):
                ids.append(o.id)
        already = [i for i in ids if i in found.office_weights]
        if len(already) == 1:
            return already[0]
        return ids[0] if len(ids) == 1 else None

    def _places_named(self, office_id: str, folded: str) -> bool:
        """Whether the item names the office's seat or another of its places.

        Only asked when a generic phrase needs context, so a plain substring test on
        the matching form (gaps are spaces, so ' astana ' is the whole word) beats
        matching every place name in every item.
        """
        return any(place in folded for place in self._places.get(office_id, ()))

    # ------------------------------------------------------------------ topics

    def _topics(
        self, found: _Found, declared_labels: Sequence[str]
    ) -> tuple[_Weights, _Spans, dict[str, str], list[str]]:
        """Signals, office mandates and declared labels; weak topics dropped; parents added.

        A topic's confidence combines its distinct signals; an office whose mandate
        is one field of work suggests it (RFoM: media freedom); a sub-topic implies
        its field of work, a little less surely.
        """
        weights: _Weights = {}
        for topic_id, signals in found.topic_signals.items():
            weights[topic_id] = list(signals.values())
        spans = found.topic_spans
        hints = self._hints
        for office_id, office_spans in found.office_spans.items():
            if office_id in hints:
                first = office_spans[0] if office_spans else None
                for hint in hints[office_id]:
                    _add(weights, spans, hint.topic, hint.weight, first)
        declared, unknown = self._declare(TOPIC, declared_labels, weights, spans)
        weak: list[str] = []
        parents: list[str] = []
        for topic_id, found_weights in weights.items():
            if topic_id in declared:
                strength = 1.0
            elif len(found_weights) == 1:
                strength = found_weights[0]
            else:
                strength = _combine(found_weights)
            if strength < TOPIC_THRESHOLD:
                weak.append(topic_id)
            elif topic_id in self._topic_ancestors:
                parents.append(topic_id)
        for topic_id in weak:
            del weights[topic_id]
        for topic_id in parents:
            for parent in self._topic_ancestors[topic_id]:
                if parent not in weights:
                    if topic_id in declared:
                        strength = MAX_INFERRED
                    else:
                        strength = min(_combine(weights[topic_id]), MAX_INFERRED)
                    weights[parent] = [strength * PARENT_TOPIC_FACTOR]
                    spans[parent] = spans.get(topic_id, [])
        return weights, spans, declared, unknown

    # ------------------------------------------------------------------ content type

    def _content_type(
        self, declared: str | None, found: tuple[str, float, _Span] | None
    ) -> Tag | None:
        if declared:
            tag = self._content_tags.get(declared)
            if tag is None:
                if len(self._content_tags) > _MEMO_LIMIT:
                    self._content_tags.clear()
                tag = self._content_tags[declared] = self._declared_content_type(declared)
            return tag
        if found is None:
            return None
        ct_id, weight, (_, start, end, text) = found
        evidence = [_evidence("title", text, start, end)]
        name = self.taxonomy.content_types[ct_id].name
        return _tag(ct_id, name, "inferred", weight, None, evidence)

    def _declared_content_type(self, label: str) -> Tag:
        evidence = [self._declared(label)]
        ct_id = self._resolve(CONTENT, label)
        if ct_id is None:
            return _tag(None, label, "declared", 0.0, label, evidence, False)
        name = self.taxonomy.content_types[ct_id].name
        return _tag(ct_id, name, "declared", 1.0, label, evidence)

    # ------------------------------------------------------------------ assembling tags

    def _finish(
        self,
        weights: _Weights,
        spans: _Spans,
        labels: dict[str, str],
        declared: dict[str, str],
        unknown: Sequence[str],
        names: dict[str, str],
        made: dict[_Span, Evidence],
    ) -> list[Tag]:
        """Declared tags first (as published), then unresolved labels, then inferences."""
        tags: list[Tag] = []
        if not weights and not unknown:
            return tags
        for entry_id, label in declared.items():
            found = spans[entry_id]
            if found and found[0][0] != DECLARED:
                evidence = _evidence_for(found, MAX_EVIDENCE - 1, made)
                head = self._declared_evidence.get(label)
                evidence.insert(0, head if head is not None else self._declared(label))
                tags.append(_tag(entry_id, names[entry_id], "declared", 1.0, label, evidence))
            else:
                tags.append(self._declared_tag(names, entry_id, label))
        for label in unknown:
            evidence = [self._declared(label)]
            tags.append(_tag(None, label, "declared", 0.0, label, evidence, False))
        if len(weights) == len(declared):
            return tags
        rows: list[tuple[float, int, int, str]] = []
        for entry_id, found_weights in weights.items():
            if entry_id in declared:
                continue
            if len(found_weights) == 1:
                confidence = found_weights[0]
            else:
                confidence = _combine(found_weights)
                # four decimals, cheaper than round(); never above MAX_INFERRED
                confidence = min(int(confidence * 10_000 + 0.5) / 10_000, MAX_INFERRED)
            found = spans[entry_id]
            if found:
                rows.append((-confidence, found[0][0], found[0][1] or 0, entry_id))
            else:
                rows.append((-confidence, 9, 0, entry_id))
        if len(rows) > 1:
            rows.sort()
        for negative, _, _, entry_id in rows:
            found = spans[entry_id]
            if len(found) == 1:  # the usual case: one span, maybe shared with another tag
                span = found[0]
                only = made.get(span)
                if only is None:
                    only = made[span] = _evidence(FIELDS[span[0]], span[3], span[1], span[2])
                evidence = [only]
            else:
                evidence = _evidence_for(found, MAX_EVIDENCE, made)
            shown = labels.get(entry_id)
            tags.append(_tag(entry_id, names[entry_id], "inferred", -negative, shown, evidence))
        return tags


def _evidence_for(spans: list[_Span], limit: int, made: dict[_Span, Evidence]) -> list[Evidence]:
    """Evidence for the first span of each distinct text, in the order found.

    'Albania' in the title and again in the summary is one piece of evidence to
    show (both still count towards the confidence). A span shared by several tags
    of the item (a parent office, a parent topic) is one Evidence object.
    """
    out: list[Evidence] = []
    shown: set[str] = set()
    for span in spans:
        text = span[3]
        if text in shown:
            continue
        shown.add(text)
        evidence = made.get(span)
        if evidence is None:
            evidence = made[span] = _evidence(FIELDS[span[0]], text, span[1], span[2])
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
