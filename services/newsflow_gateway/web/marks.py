"""Marked text for the pages: plain text cut into pieces, some of them marked.

The index's highlights and the stored evidence are plain text with character
offsets, never HTML. Pages get them as a list of :class:`Piece` and the template
writes each piece escaped, wrapping the marked ones in ``<mark>``: no publisher
text is ever trusted as markup, whatever it contains.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from newsflow_gateway.schemas import HighlightOut, ItemDetail, TagOut

TextField = Literal["title", "summary", "body"]
KIND_LABELS = {
    "topics": "Topic",
    "offices": "Office",
    "countries": "Country",
    "content_type": "Content type",
}


@dataclass(frozen=True)
class TagNote:
    """Why one span is marked: a tag of some kind, how sure, and from where."""

    kind: str
    name: str
    confidence: float
    source: str

    @property
    def describe(self) -> str:
        return f"{self.kind}: {self.name} · {self.source} · confidence {self.confidence:.2f}"


@dataclass(frozen=True)
class Piece:
    """A run of text; ``marked`` runs are wrapped in ``<mark>`` (with ``notes`` as
    the tooltip for evidence)."""

    text: str
    marked: bool = False
    notes: tuple[TagNote, ...] = field(default=())


#: ``[start, end)`` in a field, and the tags that mark it.
Span = tuple[int, int, tuple[TagNote, ...]]


def cut(text: str, spans: Iterable[Span]) -> list[Piece]:
    """``text`` as pieces, marking each ``[start, end)`` span. Spans outside the text,
    empty ones, and any overlapping a span already marked are left out: the text is
    always shown whole, only the marks may be fewer."""
    pieces: list[Piece] = []
    at = 0
    for start, end, notes in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < at or end <= start or end > len(text):
            continue
        if start > at:
            pieces.append(Piece(text[at:start]))
        pieces.append(Piece(text[start:end], True, notes))
        at = end
    if at < len(text) or not pieces:
        pieces.append(Piece(text[at:]))
    return pieces


def highlighted(highlight: HighlightOut, whole: str | None = None) -> list[Piece]:
    """A search snippet with the query's matches marked; given the ``whole`` field
    the snippet was cut from, that field (a title is shown whole, never cut short)."""
    start, end = highlight.start, highlight.start + len(highlight.text)
    if whole is not None and whole[start:end] == highlight.text:
        return cut(whole, ((start + s, start + e, ()) for s, e in highlight.matches))
    return cut(highlight.text, ((s, e, ()) for s, e in highlight.matches))


def _tags(story: ItemDetail) -> Iterable[tuple[str, TagOut]]:
    for kind in ("topics", "offices", "countries"):
        for tag in getattr(story, kind):
            yield KIND_LABELS[kind], tag
    if story.content_type is not None:
        yield KIND_LABELS["content_type"], story.content_type


def evidence_spans(
    story: ItemDetail, name: TextField
) -> list[tuple[int, int, tuple[TagNote, ...]]]:
    """The inferred tags' evidence in one field: one span per distinct ``[start, end)``,
    noting every tag found there. Evidence whose offsets do not point at its text (a
    story edited after tagging) is not marked."""
    text = getattr(story, name) or ""
    found: dict[tuple[int, int], list[TagNote]] = {}
    for kind, tag in _tags(story):
        if tag.source != "inferred":
            continue
        for ev in tag.evidence:
            if ev.field != name or ev.start is None or ev.end is None:
                continue
            if text[ev.start : ev.end] != ev.text:
                continue
            note = TagNote(kind, tag.name, tag.confidence, tag.source)
            notes = found.setdefault((ev.start, ev.end), [])
            if note not in notes:
                notes.append(note)
    return [(s, e, tuple(n)) for (s, e), n in found.items()]


def with_evidence(story: ItemDetail, name: TextField) -> list[Piece]:
    """One field of the story with its inferred tags' evidence marked in place."""
    return cut(getattr(story, name) or "", evidence_spans(story, name))
