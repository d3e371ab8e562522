"""Turning what was found and what was declared into :class:`Tags` with evidence.

Declared tags come first, as published; then labels nobody knows, kept as
unresolved tags rather than dropped; then inferences, most confident first, each
with up to :data:`MAX_EVIDENCE` spans of text as published.

Output models are built without validation: validating would cost more than the
whole scan of an item, and every value here comes from the validated taxonomy or
from offsets the scanner computed. See :func:`_constructor` for how, and why not
with pydantic's ``model_construct`` itself. What depends only on a declared label
is built once and reused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, TypeVar

from pydantic import BaseModel

from newsflow.domain.tagging.scanning import DECLARED, FIELDS, Span, Spans, Weights
from newsflow.domain.tags import Evidence, EvidenceField, Tag, Tags, TagSource

#: Inferred tags never claim certainty.
MAX_INFERRED: Final = 0.99
#: Evidence entries kept per tag (every match still counts towards confidence).
MAX_EVIDENCE: Final = 3
#: Bound on the memo tables for declared labels (a publisher's vocabulary is small).
MEMO_LIMIT: Final = 20_000

M = TypeVar("M", bound=BaseModel)
# BaseModel keeps an instance's state in four slots; their setters, looked up once.
_SET_DICT = BaseModel.__dict__["__dict__"].__set__
_SET_FIELDS_SET = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_SET_EXTRA = BaseModel.__dict__["__pydantic_extra__"].__set__
_SET_PRIVATE = BaseModel.__dict__["__pydantic_private__"].__set__


def _constructor(cls: type[M], names: tuple[str, ...]) -> Callable[[dict[str, Any]], M]:
    """``cls.model_construct(**values)`` for values that name exactly ``names``, faster.

    Why not ``model_construct`` itself: it loops in Python over every field, looking
    for aliases and defaults, and measured on the evaluation set that halves the
    tagger's throughput (about 41,000 -> 22,000 items/s on one core, against a
    target of 20,000). When every field is given and the model has no aliases,
    extras, private attributes or post-init hook, ``model_construct`` only fills
    the four slots below, so that is all this does. If the model ever stops
    fitting that description (a field added, an alias), the constructor is
    ``model_construct`` again. Tests check that what it builds equals, and dumps
    like, a validated instance.
    """
    fields = cls.model_fields
    plain = (
        set(names) == set(fields)
        and all(f.alias is None and f.validation_alias is None for f in fields.values())
        and cls.model_config.get("extra") != "allow"
        and not cls.__private_attributes__
        and not cls.__pydantic_post_init__
    )
    if not plain:
        return lambda values: cls.model_construct(**values)
    fields_set = set(names)  # every field given, so every field counts as set
    new = cls.__new__

    def construct(values: dict[str, Any]) -> M:
        obj = new(cls)
        _SET_DICT(obj, values)
        _SET_FIELDS_SET(obj, fields_set)
        _SET_EXTRA(obj, None)
        _SET_PRIVATE(obj, None)
        return obj

    return construct


_construct_evidence = _constructor(Evidence, ("field", "text", "start", "end"))
_construct_tag = _constructor(
    Tag, ("id", "name", "source", "confidence", "label", "resolved", "evidence")
)
_construct_tags = _constructor(
    Tags, ("taxonomy_version", "topics", "offices", "countries", "content_type")
)


def new_evidence(
    field: EvidenceField, text: str, start: int | None = None, end: int | None = None
) -> Evidence:
    return _construct_evidence({"field": field, "text": text, "start": start, "end": end})


def new_tag(
    entry_id: str | None,
    name: str,
    source: TagSource,
    confidence: float,
    label: str | None,
    found: list[Evidence],
    resolved: bool = True,
) -> Tag:
    return _construct_tag(
        {
            "id": entry_id,
            "name": name,
            "source": source,
            "confidence": confidence,
            "label": label,
            "resolved": resolved,
            "evidence": found,
        }
    )


def new_tags(
    version: str,
    topics: list[Tag],
    offices: list[Tag],
    countries: list[Tag],
    content_type: Tag | None,
) -> Tags:
    return _construct_tags(
        {
            "taxonomy_version": version,
            "topics": topics,
            "offices": offices,
            "countries": countries,
            "content_type": content_type,
        }
    )


def combine(confidences: list[float]) -> float:
    """Independent pieces of evidence: 1 - prod(1 - c)."""
    remaining = 1.0
    for c in confidences:
        remaining *= 1.0 - c
    return 1.0 - remaining


class TagBuilder:
    """Builds the tags of an item, kind by kind, and remembers what a declared label makes.

    (The memo tables only cache pure functions of declared labels.)
    """

    def __init__(self) -> None:
        self._declared_evidence: dict[str, Evidence] = {}
        self._declared_tags: dict[tuple[str, str], Tag] = {}

    def declared(self, label: str) -> Evidence:
        """The evidence of a declared label: the label itself."""
        found = self._declared_evidence.get(label)
        if found is None:
            if len(self._declared_evidence) > MEMO_LIMIT:
                self._declared_evidence.clear()
            found = self._declared_evidence[label] = new_evidence("declared", label)
        return found

    def _declared_tag(self, names: dict[str, str], entry_id: str, label: str) -> Tag:
        """A declared tag with no support in the text: a pure function of the label."""
        key = (entry_id, label)
        found = self._declared_tags.get(key)
        if found is None:
            if len(self._declared_tags) > MEMO_LIMIT:
                self._declared_tags.clear()
            shown = [self.declared(label)]
            name = names[entry_id]
            found = self._declared_tags[key] = new_tag(
                entry_id, name, "declared", 1.0, label, shown
            )
        return found

    def finish(
        self,
        weights: Weights,
        spans: Spans,
        labels: dict[str, str],
        declared: dict[str, str],
        unknown: Sequence[str],
        names: dict[str, str],
        made: dict[Span, Evidence],
    ) -> list[Tag]:
        """Declared tags first (as published), then unresolved labels, then inferences.

        ``made`` holds one Evidence per span, shared by the tags of the item.
        """
        out: list[Tag] = []
        if not weights and not unknown:
            return out
        for entry_id, label in declared.items():
            found = spans[entry_id]
            if found and found[0][0] != DECLARED:
                shown = evidence_for(found, MAX_EVIDENCE - 1, made)
                head = self._declared_evidence.get(label)
                shown.insert(0, head if head is not None else self.declared(label))
                out.append(new_tag(entry_id, names[entry_id], "declared", 1.0, label, shown))
            else:
                out.append(self._declared_tag(names, entry_id, label))
        for label in unknown:
            out.append(new_tag(None, label, "declared", 0.0, label, [self.declared(label)], False))
        if len(weights) == len(declared):
            return out
        rows: list[tuple[float, int, int, str]] = []
        for entry_id, found_weights in weights.items():
            if entry_id in declared:
                continue
            if len(found_weights) == 1:
                confidence = found_weights[0]
            else:
                confidence = combine(found_weights)
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
                    only = made[span] = new_evidence(FIELDS[span[0]], span[3], span[1], span[2])
                shown = [only]
            else:
                shown = evidence_for(found, MAX_EVIDENCE, made)
            named = labels.get(entry_id)
            out.append(new_tag(entry_id, names[entry_id], "inferred", -negative, named, shown))
        return out


def evidence_for(spans: list[Span], limit: int, made: dict[Span, Evidence]) -> list[Evidence]:
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
        found = made.get(span)
        if found is None:
            found = made[span] = new_evidence(FIELDS[span[0]], text, span[1], span[2])
        out.append(found)
        if len(out) >= limit:
            break
    return out


def count_unresolved(tags: Tags) -> int:
    """Declared labels that matched no taxonomy entry (reported as a metric)."""
    unresolved = sum(1 for t in (*tags.topics, *tags.offices, *tags.countries) if not t.resolved)
    if tags.content_type is not None and not tags.content_type.resolved:
        unresolved += 1
    return unresolved
