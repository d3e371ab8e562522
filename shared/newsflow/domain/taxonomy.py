"""The OSCE taxonomy: offices, topics, countries and content types, loaded once at start-up.

The data lives in ``data/taxonomy.json`` (versioned; its ``provenance`` section says
where each fact came from and what was corrected). This module only validates and
exposes it: every entry has a canonical id, labels are unique within their kind,
and every parent, country, topic and source reference points at something that
exists. A broken file fails loudly at start-up instead of producing odd tags later.

IPTC subject codes (Media Topics ``medtop:``, the older Subject Codes ``subj:``) that
agencies put on their items resolve to topics through the file's ``iptc_subjects``
section, and only through it: :func:`iptc_code` reads a code in any of the forms
IPTC publishes it, and :meth:`Taxonomy.resolve_topic` maps a declared label that
carries one. A code is never mapped by its number's prefix (``20000574`` is under
``11000000`` in IPTC's tree, but politics is not a field of work), and a coded label
never falls back to its name: the code is what the publisher meant, and IPTC's name
for it ("environment", "education") may share our wording without our meaning.

Declared countries (NewsML-G2 ``located``) resolve the same way: a label carrying an
ISO 3166-1 alpha-2 qcode (``Serbia (iso3166-1a2:RS)``) resolves by the code alone,
since country ids are the lower-case alpha-2 codes (ISO 3166-1); any other label by
its name, aliases (Russian included) and former names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from newsflow.domain.text import identity_key

DEFAULT_PATH = Path(__file__).parents[1] / "data" / "taxonomy.json"

_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
#: IPTC schemes we read, by their canonical qcode prefix, with the other names
#: IPTC uses for them: the long qcode prefix, and the last step of the scheme URI.
IPTC_SCHEMES: Final = {"medtop": "mediatopic", "subj": "subjectcode"}
#: ASCII only: ``\d`` would take other scripts' digits, and a Unicode IGNORECASE would
#: take 'ſubj' (long s) and 'mediatopıc' (dotless i) for IPTC's prefixes.
_IPTC_QCODE = re.compile(
    r"^(medtop|mediatopic|subj|subjectcode):([0-9]{8})$", re.IGNORECASE | re.ASCII
)
_IPTC_URI = re.compile(
    r"^https?://cv\.iptc\.org/newscodes/(mediatopic|subjectcode)/([0-9]{8})/?$",
    re.IGNORECASE | re.ASCII,
)
#: An ISO 3166-1 alpha-2 country qcode, as IPTC's NewsML-G2 examples write it.
_ISO_COUNTRY = re.compile(r"^iso3166-1a2:([a-z]{2})$", re.IGNORECASE | re.ASCII)
_CANONICAL_PREFIX: Final = {
    **{prefix: prefix for prefix in IPTC_SCHEMES},
    **{long: prefix for prefix, long in IPTC_SCHEMES.items()},
}
_SLUG = r"^[a-z0-9]+(-[a-z0-9]+)*$"

#: Suffixes osce.org appends to the names of closed field operations.
CLOSED_SUFFIXES = ("(closed)", "(discontinued)")

#: Spelling variants seen on osce.org and in the press, as (variant, canonical) pairs
#: in identity-key form (where '-' is already a space). A declared label's key takes
#: the canonical spelling (:func:`label_key`); the tagger's text patterns take every
#: spelling, so for them the direction of a pair does not matter.
SPELLING_VARIANTS: Final = (
    ("co ordinat", "coordinat"),
    ("co operation", "cooperation"),
    ("programme", "program"),
    ("centre", "center"),
    ("organisation", "organization"),
)
#: Bound on the memo of declared labels per kind (a publisher's vocabulary is small).
_RESOLVED_LIMIT: Final = 20_000

Slug = Annotated[str, Field(pattern=_SLUG)]
CountryId = Annotated[str, Field(pattern=r"^[a-z]{2}$")]
Label = Annotated[str, Field(min_length=1, max_length=300)]
Weight = Annotated[float, Field(gt=0.0, le=1.0)]


class TaxonomyError(ValueError):
    """The taxonomy file is malformed or inconsistent."""


def _check_date(value: str | None) -> str | None:
    if value is not None and not _DATE.match(value):
        raise ValueError(f"{value!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
    return value


def in_window(day: date, start: str | None, end: str | None) -> bool:
    """Whether ``day`` falls in an inclusive window of ISO-ish dates (either may be open)."""
    if start and day < date_bounds(start, end=False):
        return False
    return not (end and day > date_bounds(end, end=True))


def date_bounds(value: str, *, end: bool) -> date:
    """The first (or last) day an ISO-ish date string can mean: '2019' -> 2019-01-01."""
    parts = [int(p) for p in value.split("-")]
    if len(parts) == 3:
        return date(parts[0], parts[1], parts[2])
    if len(parts) == 2:
        if not end:
            return date(parts[0], parts[1], 1)
        nxt = date(parts[0] + (parts[1] == 12), parts[1] % 12 + 1, 1)
        return date.fromordinal(nxt.toordinal() - 1)
    return date(parts[0], 12, 31) if end else date(parts[0], 1, 1)


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Source(_Model):
    url: str | None
    what: str


class FormerName(_Model):
    """A name an entry was known by, and when (dates are inclusive, either may be open)."""

    name: Label
    from_: str | None = Field(default=None, alias="from")
    until: str | None = None
    abbreviation: bool = False
    note: str | None = None
    sources: list[str] = Field(default_factory=list)

    _dates = field_validator("from_", "until")(_check_date)

    def in_use_on(self, day: date) -> bool:
        """Whether this name was current on ``day``."""
        return in_window(day, self.from_, self.until)


class TopicHint(_Model):
    """An office whose mandate implies a topic (the RFoM and media freedom)."""

    topic: Slug
    weight: Weight


class Chair(_Model):
    year: int = Field(ge=1990, le=2100)
    country: CountryId
    sources: list[str] = Field(default_factory=list)


OfficeCategory = Literal[
    "chairpersonship",
    "secretariat",
    "secretariat_department",
    "secretariat_programme",
    "training_institution",
    "decision_making_body",
    "related_body",
    "partners",
    "institution",
    "field_operation",
    "conflict_format",
]


class Office(_Model):
    """An OSCE institution, Secretariat department, field operation or other structure."""

    id: Slug
    name: Label
    category: OfficeCategory
    status: Literal["active", "closed"]
    country: CountryId | None
    city: str | None
    parent: Slug | None
    region: str | None = None
    established: str | None = None
    closed: str | None = None
    aliases: list[Label] = Field(default_factory=list)
    abbreviations: list[Label] = Field(default_factory=list)
    declared_only: list[Label] = Field(default_factory=list)
    context_aliases: list[Label] = Field(default_factory=list)
    context_terms: list[Label] = Field(default_factory=list)
    former_names: list[FormerName] = Field(default_factory=list)
    topic_hints: list[TopicHint] = Field(default_factory=list)
    chairs: list[Chair] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    confidence: str | None = None
    note: str | None = None

    _dates = field_validator("established", "closed")(_check_date)

    def active_on(self, day: date) -> bool:
        """Whether the office existed on ``day`` (unknown dates count as existing)."""
        return in_window(day, self.established, self.closed)


class Signal(_Model):
    """A phrase that signals a topic in text, with how much it says on its own."""

    text: Label
    weight: Weight
    case_sensitive: bool = False


class Topic(_Model):
    id: Slug
    name: Label
    level: Literal["field_of_work", "subtopic"]
    parents: list[Slug] = Field(default_factory=list)
    aliases: list[Label] = Field(default_factory=list)
    signals: list[Signal] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    confidence: str | None = None


class ContentType(_Model):
    id: Slug
    name: Label
    aliases: list[Label] = Field(default_factory=list)
    title_signals: list[Label] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class Country(_Model):
    id: CountryId
    name: Label
    kind: Literal["participating_state", "partner"]
    aliases: list[Label] = Field(default_factory=list)
    abbreviations: list[Label] = Field(default_factory=list)
    declared_only: list[Label] = Field(default_factory=list)
    former_names: list[FormerName] = Field(default_factory=list)
    demonyms: list[Label] = Field(default_factory=list)
    exclusions: list[Label] = Field(
        default_factory=list, description="Phrases that look like this country but are not it."
    )
    partner_group: Literal["asian", "mediterranean"] | None = None
    sources: list[str] = Field(default_factory=list)
    confidence: str | None = None


class Correction(_Model):
    entry: str
    change: str
    sources: list[str] = Field(default_factory=list)


class Provenance(_Model):
    built_from: str
    built_on: str
    conventions: list[str] = Field(default_factory=list)
    sources: dict[str, Source]
    corrections: list[Correction] = Field(default_factory=list)


class IptcCode(_Model):
    """One IPTC subject code that means one of our topics."""

    code: str = Field(pattern=r"^(medtop|subj):[0-9]{8}$")
    label: Label = Field(description="The code's IPTC English name, as seen in the source.")
    topic: Slug
    sources: list[str] = Field(min_length=1)


class IptcSubjects(_Model):
    """IPTC subject codes mapped to topics, and the vocabulary (a source id) of each scheme."""

    vocabularies: dict[Literal["medtop", "subj"], str] = Field(default_factory=dict)
    codes: list[IptcCode] = Field(default_factory=list)


class TaxonomyFile(_Model):
    """The JSON document as stored."""

    version: str = Field(pattern=r"^\d{4}\.\d{2}\.\d{2}(\.\d+)?$")
    provenance: Provenance
    offices: list[Office]
    topics: list[Topic]
    content_types: list[ContentType]
    countries: list[Country]
    iptc_subjects: IptcSubjects = Field(default_factory=IptcSubjects)


#: The kinds of entry a publisher declares by label ("Where we are", "What we do", ...).
LabelKind = Literal["office", "topic", "content_type", "country"]


class _LabelIndex:
    """Declared labels of one kind: label key -> canonical id, and a memo of labels as sent.

    The memo matters: a label key costs a fold and several replacements, while a
    publisher sends the same few labels over and over.
    """

    __slots__ = ("codes", "ids", "memo", "read_code")

    def __init__(
        self,
        entries: Iterable[tuple[str, Iterable[str]]],
        codes: Mapping[str, str] | None = None,
        read_code: Callable[[str], str | None] | None = None,
    ) -> None:
        self.ids = {label_key(label): entry_id for entry_id, labels in entries for label in labels}
        self.codes = codes
        self.read_code = read_code or iptc_code
        self.memo: dict[str, str | None] = {}

    def resolve(self, label: str) -> str | None:
        memo = self.memo
        if label in memo:
            return memo[label]
        if len(memo) > _RESOLVED_LIMIT:
            memo.clear()
        if self.codes is not None and (code := label_code(label, self.read_code)) is not None:
            found = memo[label] = self.codes.get(code)
        else:
            found = memo[label] = self.ids.get(label_key(label))
        return found


@dataclass(frozen=True, slots=True)
class Taxonomy:
    """A validated taxonomy: read-only mappings from canonical id to entry.

    It also resolves declared labels to canonical ids (:meth:`resolve_office` and
    friends): the tagger and the gateway both ask, and neither needs more than a
    dictionary for it. The lookup tables are built on first use, once per taxonomy.
    """

    version: str
    provenance: Provenance
    offices: Mapping[str, Office]
    topics: Mapping[str, Topic]
    countries: Mapping[str, Country]
    content_types: Mapping[str, ContentType]
    subject_codes: Mapping[str, IptcCode] = field(default_factory=lambda: MappingProxyType({}))
    _labels: dict[LabelKind, _LabelIndex] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def resolve_office(self, label: str) -> str | None:
        """Canonical office id for a label as published (current, former, alias), or None."""
        return self._index("office").resolve(label)

    def resolve_topic(self, label: str) -> str | None:
        """Canonical topic id for a 'What we do' label, or None.

        A label that carries an IPTC subject code (``election (medtop:20000574)``, or
        the bare code or its URI) resolves by the code alone: to its mapped topic, or
        to None when the taxonomy does not map it.
        """
        return self._index("topic").resolve(label)

    def resolve_content_type(self, label: str) -> str | None:
        """Canonical content-type id for a 'Content type' label, or None."""
        return self._index("content_type").resolve(label)

    def resolve_country(self, label: str) -> str | None:
        """Canonical country id for a declared place, or None (a city, Kosovo, a typo).

        A label that carries an ISO 3166-1 alpha-2 qcode (``iso3166-1a2:RS``, alone
        or as ``Serbia (iso3166-1a2:RS)``) resolves by the code alone.
        """
        return self._index("country").resolve(label)

    def _index(self, kind: LabelKind) -> _LabelIndex:
        index = self._labels.get(kind)
        if index is None:
            if kind == "office":
                index = _LabelIndex((o.id, office_labels(o)) for o in self.offices.values())
            elif kind == "country":
                index = _LabelIndex(
                    ((c.id, country_labels(c)) for c in self.countries.values()),
                    {c: c for c in self.countries},
                    country_code,
                )
            elif kind == "topic":
                index = _LabelIndex(
                    ((t.id, topic_labels(t)) for t in self.topics.values()),
                    {code: entry.topic for code, entry in self.subject_codes.items()},
                )
            else:
                entries = ((c.id, content_type_labels(c)) for c in self.content_types.values())
                index = _LabelIndex(entries)
            self._labels[kind] = index
        return index

    def topic_ancestors(self, topic_id: str) -> list[str]:
        """Parents, grandparents, ... of a topic, nearest first, without repeats."""
        out: list[str] = []
        stack = list(self.topics[topic_id].parents)
        while stack:
            parent = stack.pop(0)
            if parent not in out:
                out.append(parent)
                stack.extend(self.topics[parent].parents)
        return out

    def office_ancestors(self, office_id: str) -> list[str]:
        """The chain of parent offices, nearest first."""
        out: list[str] = []
        parent = self.offices[office_id].parent
        while parent is not None and parent not in out:
            out.append(parent)
            parent = self.offices[parent].parent
        return out


def strip_closed_suffix(label: str) -> str:
    """'OSCE Office in Zagreb (closed)' -> 'OSCE Office in Zagreb'."""
    text = label.strip()
    lowered = text.lower()
    for suffix in CLOSED_SUFFIXES:
        if lowered.endswith(suffix):
            return text[: -len(suffix)].rstrip()
    return text


def label_key(label: str) -> str:
    """How declared labels are compared: identity key, no '(closed)', canonical spelling."""
    key = identity_key(strip_closed_suffix(label))
    for variant, canonical in SPELLING_VARIANTS:
        key = key.replace(variant, canonical)
    return key


def iptc_code(value: str) -> str | None:
    """An IPTC subject code in its canonical qcode form, or None if ``value`` is not one.

    Reads every form IPTC publishes: ``medtop:20000574``, ``mediatopic:20000574``,
    ``subj:11003006``, ``subjectcode:11003006`` and the concept URIs
    ``http(s)://cv.iptc.org/newscodes/mediatopic/20000574``. Codes are eight digits;
    anything else (``medtop:abc``, an agency's own scheme) is not an IPTC code.
    """
    text = value.strip()
    match = _IPTC_QCODE.match(text) or _IPTC_URI.match(text)
    if match is None:
        return None
    return f"{_CANONICAL_PREFIX[match.group(1).lower()]}:{match.group(2)}"


def country_code(value: str) -> str | None:
    """The country id an ISO 3166-1 alpha-2 qcode names (``iso3166-1a2:RS`` -> ``rs``)."""
    match = _ISO_COUNTRY.match(value.strip())
    return match.group(1).lower() if match else None


def label_code(label: str, read: Callable[[str], str | None] = iptc_code) -> str | None:
    """The code a declared label carries: the label itself, or its last ``(...)``.

    Formats write a coded subject as ``name (qcode)`` (see
    :func:`newsflow.domain.formats.common.subject_label`); this reads it back, with
    ``read`` for the vocabulary (IPTC subject codes unless told otherwise).
    """
    text = label.strip()
    if text.endswith(")"):
        start = text.rfind("(")
        if start >= 0:
            return read(text[start + 1 : -1])
    if ":" not in text:  # the common case, a plain name: no regular expression
        return None
    return read(text)


def _unique_labels(kind: str, entries: Iterable[tuple[str, Iterable[str]]]) -> None:
    """Fail if one label (compared by identity key) names two different entries."""
    owner: dict[str, str] = {}
    for entry_id, labels in entries:
        for label in labels:
            key = identity_key(label)
            if not key:
                raise TaxonomyError(f"{kind} {entry_id}: blank label {label!r}")
            other = owner.setdefault(key, entry_id)
            if other != entry_id:
                raise TaxonomyError(f"{kind}: label {label!r} names both {other} and {entry_id}")


def _unique(kind: str, ids: list[str]) -> None:
    seen: set[str] = set()
    for entry_id in ids:
        if entry_id in seen:
            raise TaxonomyError(f"duplicate {kind} id {entry_id!r}")
        seen.add(entry_id)


def office_labels(office: Office) -> list[str]:
    """Every label that resolves to the office when a publisher declares it."""
    return [
        office.name,
        *office.aliases,
        *office.abbreviations,
        *office.declared_only,
        *(f.name for f in office.former_names),
    ]


def topic_labels(topic: Topic) -> list[str]:
    """Every label that resolves to the topic when a publisher declares it."""
    return [topic.name, *topic.aliases]


def content_type_labels(content_type: ContentType) -> list[str]:
    """Every label that resolves to the content type when a publisher declares it."""
    return [content_type.name, *content_type.aliases]


def country_labels(country: Country) -> list[str]:
    return [
        country.name,
        *country.aliases,
        *country.abbreviations,
        *country.declared_only,
        *(f.name for f in country.former_names),
    ]


def _check(doc: TaxonomyFile) -> None:
    """Cross-reference checks pydantic cannot express on single entries."""
    for kind, ids in (
        ("office", [o.id for o in doc.offices]),
        ("topic", [t.id for t in doc.topics]),
        ("country", [c.id for c in doc.countries]),
        ("content type", [c.id for c in doc.content_types]),
    ):
        _unique(kind, ids)
    offices = {o.id for o in doc.offices}
    topics = {t.id for t in doc.topics}
    countries = {c.id for c in doc.countries}
    sources = set(doc.provenance.sources)

    def need(ref: str, pool: set[str], what: str, where: str) -> None:
        if ref not in pool:
            raise TaxonomyError(f"{where}: unknown {what} {ref!r}")

    for o in doc.offices:
        where = f"office {o.id}"
        if o.parent is not None:
            need(o.parent, offices, "parent office", where)
        if o.country is not None:
            need(o.country, countries, "country", where)
        for hint in o.topic_hints:
            need(hint.topic, topics, "topic", where)
        for chair in o.chairs:
            need(chair.country, countries, "country", where)
        if (o.status == "closed") != (o.closed is not None):
            raise TaxonomyError(f"{where}: a closed office needs a closed date, and only it")
        for ref in [*o.sources, *(s for f in o.former_names for s in f.sources)]:
            need(ref, sources, "source", where)
    for t in doc.topics:
        for parent in t.parents:
            need(parent, topics, "parent topic", f"topic {t.id}")
        if (t.level == "subtopic") != bool(t.parents):
            raise TaxonomyError(f"topic {t.id}: sub-topics, and only they, have parents")
        for ref in t.sources:
            need(ref, sources, "source", f"topic {t.id}")
    for c in doc.countries:
        for ref in [*c.sources, *(s for f in c.former_names for s in f.sources)]:
            need(ref, sources, "source", f"country {c.id}")
    for ct in doc.content_types:
        for ref in ct.sources:
            need(ref, sources, "source", f"content type {ct.id}")

    _unique_labels("office", ((o.id, office_labels(o)) for o in doc.offices))
    _unique_labels("topic", ((t.id, topic_labels(t)) for t in doc.topics))
    _unique_labels(
        "country", ((c.id, [*country_labels(c), *c.demonyms, *c.exclusions]) for c in doc.countries)
    )
    _unique_labels("content type", ((c.id, content_type_labels(c)) for c in doc.content_types))
    _check_topic_cycles(doc)
    _check_iptc(doc.iptc_subjects, topics, sources)


def _check_iptc(iptc: IptcSubjects, topics: set[str], sources: set[str]) -> None:
    """Every mapped code is unique, of a scheme with a known vocabulary, and names a topic."""
    for scheme, source in iptc.vocabularies.items():
        if source not in sources:
            raise TaxonomyError(f"iptc_subjects: {scheme}: unknown source {source!r}")
    seen: set[str] = set()
    for entry in iptc.codes:
        where = f"iptc_subjects {entry.code}"
        if entry.code in seen:
            raise TaxonomyError(f"{where}: mapped twice")
        seen.add(entry.code)
        prefix = entry.code.split(":", 1)[0]
        if prefix not in iptc.vocabularies:
            raise TaxonomyError(f"{where}: no vocabulary for scheme {prefix!r}")
        if entry.topic not in topics:
            raise TaxonomyError(f"{where}: unknown topic {entry.topic!r}")
        for ref in entry.sources:
            if ref not in sources:
                raise TaxonomyError(f"{where}: unknown source {ref!r}")


def _check_topic_cycles(doc: TaxonomyFile) -> None:
    parents = {t.id: t.parents for t in doc.topics}
    for start in parents:
        seen: set[str] = set()
        stack = list(parents[start])
        while stack:
            node = stack.pop()
            if node == start:
                raise TaxonomyError(f"topic {start}: parent cycle")
            if node not in seen:
                seen.add(node)
                stack.extend(parents[node])


def parse_taxonomy(raw: str | bytes) -> Taxonomy:
    """Validate a taxonomy document and build the read-only :class:`Taxonomy`."""
    try:
        doc = TaxonomyFile.model_validate_json(raw)
    except ValidationError as exc:
        raise TaxonomyError(f"invalid taxonomy: {exc}") from exc
    _check(doc)
    return Taxonomy(
        version=doc.version,
        provenance=doc.provenance,
        offices=MappingProxyType({o.id: o for o in doc.offices}),
        topics=MappingProxyType({t.id: t for t in doc.topics}),
        countries=MappingProxyType({c.id: c for c in doc.countries}),
        content_types=MappingProxyType({c.id: c for c in doc.content_types}),
        subject_codes=MappingProxyType({c.code: c for c in doc.iptc_subjects.codes}),
    )


@functools.cache
def _default_taxonomy() -> Taxonomy:
    return parse_taxonomy(DEFAULT_PATH.read_bytes())


def load_taxonomy(path: Path | None = None) -> Taxonomy:
    """Load and validate a taxonomy file; the packaged one (cached) when ``path`` is None."""
    if path is None:
        return _default_taxonomy()
    return parse_taxonomy(path.read_bytes())
