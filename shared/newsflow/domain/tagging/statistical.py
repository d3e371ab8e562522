"""The statistical topic signal: a linear model over words, offices and the lexicon.

Why a model at all: on real OSCE newsroom items the published "What we do" labels
follow the office and the house's habits as much as the words (Parliamentary
Assembly statements are filed under conflict prevention, a police course in
Serbia under rule of law as well as policing). A lexicon cannot learn that; a
model trained on published labels can. It does not replace the lexicon: the
lexicon's findings are among its features, and it decides which of them to keep
and which topics to add. ADR 0007 records the choice and its limits.

Why this model: one logistic regression per topic over sparse binary features
(folded words of the title and lead, the offices and the lexicon
topics the tagger found, a five-year era). Scoring is a few dozen dictionary
lookups, and every weight can be read. An embedding model was not built: 5,000
items a second on two cores leaves it about 0.2 ms per item, which we estimate (we
did not measure it) to be less than one forward pass of even a small one.

Every statistical tag carries the sentence that carried it (the sentence whose
features added most to the topic's score) and a calibrated probability as its
confidence: a Platt scaling per topic, fitted on out-of-fold scores of the training
set (one shared scaling for topics with too few examples of their own).

The weights are trained by ``newsflow train-topics`` (tools floor) from published
labels and shipped as ``shared/newsflow/data/topic-model.json``. Feature extraction
lives here, once, so training and tagging cannot drift apart.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from newsflow.domain.tagging.matching import FIELD_SEPARATOR, matching_form
from newsflow.domain.tagging.scanning import DECLARED, Span

#: Bumped whenever the features change (:func:`words`, :class:`Lead`,
#: :func:`structured_features`): a model trained on other features is refused at
#: load time rather than silently mis-scored.
FEATURE_VERSION: Final = 1
#: Lead taken from the body when an item has no summary (training items have one).
LEAD_CHARS: Final = 400
#: Inferred tags never claim certainty (as in building), nor a confidence of zero.
MAX_PROBABILITY: Final = 0.99
MIN_PROBABILITY: Final = 0.0001
#: A weight, bias or calibration term: finite and far from overflowing a sum of a
#: few hundred of them (trained ones stay within about 10).
Weight = Annotated[float, Field(ge=-1e4, le=1e4)]

_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+")
#: Function words carry no topic ('osce' is in nearly every item, so none either).
STOPWORDS: Final = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to "
    "was were will with osce".split()
)
DEFAULT_MODEL: Final = "topic-model.json"
#: What a model version may look like (it ends up in every tag's taxonomy_version).
VERSION_PATTERN: Final = r"^[0-9A-Za-z.\-]{1,64}$"
#: Bounds on a model file, far above a real one (27 topics, about 1,400 features).
MAX_FILE_BYTES: Final = 16 * 1024 * 1024
MAX_TOPICS: Final = 1_000
MAX_FEATURES: Final = 200_000
#: Longest evidence sentence: longer runs without a full stop are cut at a space.
MAX_SENTENCE: Final = 300


class TopicModelError(ValueError):
    """The model file is unreadable, malformed, or made for other features."""


def era(year: int) -> str:
    """Five-year buckets, clamped: the house's labelling habits changed over time."""
    return f"era:{min(max(year, 1995), 2020) // 5 * 5}"


def words(matching: str) -> set[str]:
    """Word features (``w:``) of text in the tagger's matching form (folded, gaps as
    spaces): ASCII words of two letters or more, function words dropped.

    ASCII only because the scanner's fast form stands in one character for every
    letter with no ASCII fold ('ø', Greek), so such words could not be the same
    feature on both paths; the model is trained on English, where they are rare.

    No word pairs: they doubled the work of every item and moved the out-of-fold
    figures by less than their noise (0.904/0.534 with, 0.902/0.537 without).
    """
    return {
        "w:" + t
        for t in matching.split()
        if len(t) > 1 and t.isascii() and t.isalpha() and t not in STOPWORDS
    }


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of the title or lead, and where it is."""

    field: int  # index into (title, summary, body), as in tagging spans
    start: int
    end: int
    text: str


def split_sentences(field: int, text: str, limit: int | None = None) -> list[Sentence]:
    """The sentences of one field, with offsets into it (up to ``limit`` characters)."""
    out: list[Sentence] = []
    source = text if limit is None else text[:limit]
    start = 0
    for match in [*_SENTENCE_END.finditer(source), None]:
        end = len(source) if match is None else match.start()
        piece = source[start:end]
        stripped = piece.strip()
        if stripped:
            lead = start + (len(piece) - len(piece.lstrip()))
            out.extend(_pieces(field, lead, stripped))
        if match is not None:
            start = match.end()
    return out


def _pieces(field: int, start: int, text: str) -> list[Sentence]:
    """A sentence, cut at spaces into runs of at most MAX_SENTENCE characters.

    Evidence is meant to be read: a 5,000-character summary with no full stop is
    not one sentence to show.
    """
    out: list[Sentence] = []
    while len(text) > MAX_SENTENCE:
        cut = text.rfind(" ", 0, MAX_SENTENCE + 1)
        if cut <= 0:
            cut = MAX_SENTENCE
        head = text[:cut].rstrip()
        out.append(Sentence(field, start, start + len(head), head))
        rest = text[cut:]
        skipped = len(rest) - len(rest.lstrip())
        start += cut + skipped
        text = rest.lstrip()
    if text:
        out.append(Sentence(field, start, start + len(text), text))
    return out


class Lead:
    """What the model reads of an item: the title, then the summary or the body's lead.

    Words come from the matching form the scanner already made of the whole item
    (``folded``), sliced by offset, so the text is folded and split once; where that
    form is not aligned with the text (a character folded to several), each sentence
    is put in matching form on its own.
    """

    __slots__ = ("_folded", "_starts", "_words", "sentences")

    def __init__(self, texts: tuple[str, str, str], folded: str | None = None) -> None:
        title, summary, body = texts
        self.sentences = _pieces(0, 0, title)
        if summary:
            self.sentences.extend(split_sentences(1, summary))
        elif body:
            self.sentences.extend(split_sentences(2, body, LEAD_CHARS))
        # Field starts in the scanner's joined text: " title<SEP>summary<SEP>body ".
        gap = len(FIELD_SEPARATOR)
        self._starts = (1, 1 + len(title) + gap, 1 + len(title) + gap + len(summary) + gap)
        aligned = folded is not None and len(folded) == self._starts[2] + len(body) + 1
        self._folded = folded if aligned else None
        self._words: list[set[str]] | None = None

    def _sentence_words(self, sentence: Sentence) -> set[str]:
        if self._folded is None:
            return words(matching_form(sentence.text))
        at = self._starts[sentence.field]
        return words(self._folded[at + sentence.start : at + sentence.end])

    def sentence_words(self) -> list[set[str]]:
        """The word features of each sentence, in order (computed once)."""
        if self._words is None:
            self._words = [self._sentence_words(s) for s in self.sentences]
        return self._words

    def words(self) -> set[str]:
        """The word features of the whole title and lead."""
        out: set[str] = set()
        for found in self.sentence_words():
            out |= found
        return out


def structured_features(
    offices: Iterable[str], lexicon: Mapping[str, float], year: int | None
) -> dict[str, float]:
    """Offices found (``o:``), lexicon topics with their strength (``l:``), the era."""
    out = {"o:" + office: 1.0 for office in offices}
    out.update(("l:" + topic, strength) for topic, strength in lexicon.items())
    if year is not None:
        out[era(year)] = 1.0
    return out


def all_features(lead: Lead, structured: Mapping[str, float]) -> dict[str, float]:
    """The feature vector: the lead's words (binary) plus the structured features."""
    out = dict.fromkeys(lead.words(), 1.0)
    out.update(structured)
    return out


def _raw(threshold: float, a: float, b: float) -> float:
    """The raw score whose calibrated probability is ``threshold``."""
    if threshold <= 0.0:
        return -math.inf
    if threshold >= 1.0:
        return math.inf
    return (math.log(threshold / (1.0 - threshold)) - b) / a


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


class TopicModelFile(BaseModel):
    """The shipped model, validated when loaded (a hand-edited file fails loudly).

    Strict and finite: no number written as a string, no ``true`` for an index, no
    infinity or NaN (a NaN weight would give every item NaN confidences).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    format: int = Field(ge=1, le=1)
    feature_version: int
    version: str = Field(min_length=1, max_length=64, pattern=VERSION_PATTERN)
    languages: list[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]] = Field(
        min_length=1, max_length=32, description="Primary language subtags, lower case."
    )
    topics: list[str] = Field(min_length=1, max_length=MAX_TOPICS)
    bias: list[Weight] = Field(max_length=MAX_TOPICS)
    weights: dict[str, list[tuple[int, Weight]]] = Field(max_length=MAX_FEATURES)
    calibration: list[tuple[Weight, Weight]] = Field(
        max_length=MAX_TOPICS, description="Per topic, Platt scaling: p = sigmoid(a*z + b)."
    )
    keep: float = Field(ge=0.01, lt=1.0, description="A lexicon topic stays when p >= keep.")
    add: float = Field(ge=0.01, lt=1.0, description="Any other topic is added when p >= add.")
    training: dict[str, object] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> TopicModelFile:
        # Training never makes a lexicon topic harder to keep than a new one to add.
        if self.keep > self.add:
            raise ValueError(f"keep ({self.keep}) must not exceed add ({self.add})")
        if len(set(self.topics)) != len(self.topics):
            raise ValueError("a topic is named twice")
        return self

    @field_validator("feature_version")
    @classmethod
    def _same_features(cls, value: int) -> int:
        if value != FEATURE_VERSION:
            raise ValueError(
                f"trained on feature version {value}; this code extracts version "
                f"{FEATURE_VERSION}: retrain with `newsflow train-topics`"
            )
        return value


@dataclass(frozen=True, slots=True)
class Prediction:
    """One topic's calibrated probability, and the sentence that carried it."""

    topic: str
    probability: float
    sentence: Sentence | None


class TopicModel:
    """Scores topics for an item; built once from :class:`TopicModelFile`."""

    def __init__(self, spec: TopicModelFile) -> None:
        if not len(spec.bias) == len(spec.calibration) == len(spec.topics):
            raise TopicModelError("bias, calibration and topics differ in length")
        for name, pairs in spec.weights.items():
            seen: set[int] = set()
            for index, _ in pairs:
                if not 0 <= index < len(spec.topics):
                    raise TopicModelError(f"feature {name!r} names topic index {index}")
                if index in seen:
                    raise TopicModelError(f"feature {name!r} names topic index {index} twice")
                seen.add(index)
        self.spec = spec
        self.version = spec.version
        self.languages = frozenset(spec.languages)
        self.topics = tuple(spec.topics)
        self.keep = spec.keep
        self.add = spec.add
        self._bias = tuple(spec.bias)
        self._weights = {k: tuple(v) for k, v in spec.weights.items()}
        self._lookup = {k: dict(v) for k, v in spec.weights.items()}  # for evidence
        self._calibration = tuple(spec.calibration)
        if any(a <= 0.0 for a, _ in self._calibration):
            raise TopicModelError("a calibration slope must be positive")
        # p >= t  <=>  z >= (logit(t) - b) / a, as the slope is positive: deciding on
        # raw scores spares a sigmoid per topic per item.
        self._keep_z = tuple(_raw(self.keep, a, b) for a, b in self._calibration)
        self._add_z = tuple(_raw(self.add, a, b) for a, b in self._calibration)

    @classmethod
    def load(cls, path: Path | None = None) -> TopicModel:
        """The packaged model, or the one at ``path``; :class:`TopicModelError` if bad.

        Every error names the file. A file over :data:`MAX_FILE_BYTES` is refused
        before it is read: the shipped one is about 0.2 MB.
        """
        where = path or DEFAULT_MODEL
        try:
            if path is None:
                raw = resources.files("newsflow.data").joinpath(DEFAULT_MODEL).read_bytes()
            else:
                size = path.stat().st_size
                if size > MAX_FILE_BYTES:
                    raise TopicModelError(f"{size:,} bytes; at most {MAX_FILE_BYTES:,}")
                raw = path.read_bytes()
            return cls(TopicModelFile.model_validate_json(raw))
        except (OSError, ValidationError, TopicModelError) as exc:
            raise TopicModelError(f"topic model {where}: {exc}") from exc

    def applies_to(self, language: str | None) -> bool:
        """Whether the model was trained on this language (None: unknown, try it).

        By the primary subtag: ``en-GB`` is English.
        """
        if language is None:
            return True
        return language.split("-", 1)[0].strip().lower() in self.languages

    def scores(self, features: Mapping[str, float]) -> list[float]:
        """Raw linear scores per topic (what calibration turns into probabilities)."""
        z = list(self._bias)
        weights = self._weights
        for name, value in features.items():
            pairs = weights.get(name)
            if pairs is None:
                continue
            if value == 1.0:  # words and offices: most features, no multiply
                for index, w in pairs:
                    z[index] += w
            else:
                for index, w in pairs:
                    z[index] += w * value
        return z

    def probability(self, index: int, score: float) -> float:
        """Calibrated probability of topic ``index``'s raw score (Platt scaling)."""
        a, b = self._calibration[index]
        return _sigmoid(a * score + b)

    def decide(
        self,
        lead: Lead,
        structured: Mapping[str, float],
        anchors: Mapping[str, Span],
        lexicon: Iterable[str],
    ) -> list[Prediction]:
        """The topics to tag: lexicon topics with p >= keep, others with p >= add.

        ``anchors`` maps a structured feature (``o:odihr``) to the span that produced
        it, so an office's or a lexicon phrase's say is credited to its sentence.
        """
        z = self.scores(all_features(lead, structured))
        found = frozenset(lexicon)
        topics, keep_z, add_z = self.topics, self._keep_z, self._add_z
        out: list[Prediction] = []
        for index, score in enumerate(z):
            if score >= (keep_z[index] if topics[index] in found else add_z[index]):
                p = self.probability(index, score)
                best = self._carrier(index, lead, structured, anchors)
                shown = min(max(round(p, 4), MIN_PROBABILITY), MAX_PROBABILITY)
                out.append(Prediction(topics[index], shown, best))
        return out

    def _carrier(
        self,
        index: int,
        lead: Lead,
        structured: Mapping[str, float],
        anchors: Mapping[str, Span],
    ) -> Sentence | None:
        """The sentence whose own features add most to topic ``index``'s score."""
        sentences = lead.sentences
        credit = [self._say(index, found, 1.0) for found in lead.sentence_words()]
        for name, value in structured.items():
            span = anchors.get(name)
            if span is None or span[0] == DECLARED or span[1] is None:
                continue
            for i, sentence in enumerate(sentences):
                if sentence.field == span[0] and sentence.start <= span[1] < sentence.end:
                    credit[i] += self._say(index, (name,), value)
                    break
        # The title when nothing in the text spoke for the topic (the era carried it).
        best = max(range(len(sentences)), key=lambda i: credit[i], default=None)
        return None if best is None else sentences[best]

    def _say(self, index: int, names: Iterable[str], value: float) -> float:
        lookup = self._lookup
        total = 0.0
        for name in names:
            found = lookup.get(name)
            if found is not None:
                total += found.get(index, 0.0) * value
        return total
