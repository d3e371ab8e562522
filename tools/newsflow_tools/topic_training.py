"""``newsflow train-topics``: fit the statistical topic model on published labels.

Input: JSON Lines in the evaluation format (``{"item": {...}, "topics": [...]}``,
see :mod:`newsflow_tools.evaluation`). An item's topic truth is its ``topics``
override or else its published "What we do" labels, widened with their parents.
Lines whose truth is unknown (``topics: null``, or none published) teach nothing
and are skipped. Lines marked ``split: holdout`` are skipped, and a line whose
title is the title of a held-out line (of any file given) is an error: the
held-out part must stay unseen for its figures to mean anything.

What is fitted, in order (all deterministic, so the shipped file can be rebuilt):

1. Out-of-fold scores: five folds chosen by a hash of the title; each fold is
   scored by a model trained on the other four.
2. Calibration: one Platt scaling (a, b) fitted on those out-of-fold scores.
3. Thresholds: ``keep`` (for topics the lexicon found) and ``add`` (for the rest),
   the pair with the highest out-of-fold recall whose precision reaches the target.
4. The final weights, trained on every line; tiny weights are dropped.

Logistic regression by full-batch gradient descent with an L2 penalty, in numpy:
a few hundred items and a few thousand features need nothing heavier.
"""

from __future__ import annotations

import contextlib
import hashlib
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import orjson

from newsflow.domain.normalise import Rejection, normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.tagging.statistical import (
    FEATURE_VERSION,
    TopicModel,
    TopicModelFile,
)
from newsflow.domain.text import identity_key

FOLDS: Final = 5
L2: Final = 1.0
ITERATIONS: Final = 400
LEARNING_RATE: Final = 0.5
#: A feature must occur in this many training items to get a weight.
MIN_COUNT: Final = 2
#: Weights smaller than this are dropped, in every fold and in the shipped file: the
#: out-of-fold figures did not move (0.905/0.532 -> 0.904/0.534 precision/recall),
#: and scoring does a third of the work (enrichment's throughput is a target too).
PRUNE: Final = 0.05
#: The parts a line may belong to (``split``); only ``holdout`` lines are skipped.
PARTS: Final = frozenset({"train", "dev", "all", "holdout"})
#: Fewer labelled lines than this leave folds empty and the thresholds unfounded.
MIN_EXAMPLES: Final = 20
#: Topics with fewer positive training items share one calibration.
MIN_POSITIVES: Final = 8
GRID: Final = tuple(round(0.05 * i, 2) for i in range(1, 20))


class TrainingError(ValueError):
    """Unusable training input (no labelled line, a held-out line, bad JSON)."""


@dataclass(frozen=True, slots=True)
class Example:
    title: str
    features: dict[str, float]
    lexicon: frozenset[str]
    truth: frozenset[str]
    fold: int


def _fold(title: str) -> int:
    return hashlib.sha256(identity_key(title).encode()).digest()[0] % FOLDS


def _key(text: str) -> str:
    """An identity key blind to invisible characters (soft hyphens, zero-width)."""
    return identity_key("".join(ch for ch in text if unicodedata.category(ch) != "Cf"))


def _part(entry: dict[str, Any], where: str) -> str:
    """A line's ``split``, read leniently ('Holdout ' is holdout) but never guessed."""
    split = entry.get("split", "train")
    if not isinstance(split, str):
        raise TrainingError(f"{where}: 'split' must be a string")
    part = split.strip().lower()
    if part not in PARTS:
        raise TrainingError(f"{where}: unknown split {split!r} (one of {sorted(PARTS)})")
    return part


def holdout_titles(paths: Iterable[Path], now: datetime | None = None) -> set[str]:
    """Keys of the titles and summaries of every held-out line of these files.

    Keyed as the normaliser leaves the text ('&amp;' read as '&') and blind to case,
    punctuation and invisible characters, as training keys its own lines, so no
    such spelling of a held-out title gets through, nor its summary under another
    title.
    """
    now = now or datetime.now(UTC)
    keys: set[str] = set()
    for path in paths:
        for number, entry in _lines(path):
            if _part(entry, f"{path}:{number}") != "holdout":
                continue
            raw = entry.get("item", entry)
            if not isinstance(raw, dict):
                continue
            texts = [raw.get("title"), raw.get("summary")]
            with contextlib.suppress(Rejection):  # the raw texts are kept anyway
                item = normalise(dict(raw), now=now)
                texts += [item.title, item.summary]
            keys.update(_key(t) for t in texts if isinstance(t, str) and t.strip())
    return keys


def _lines(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    """The JSON objects of a JSON Lines file, numbered; :class:`TrainingError` if bad.

    Lines end at '\\n' only (a U+2028 inside a string is text), and one leading
    byte-order mark is dropped, as ingest does.
    """
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrainingError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except OSError as exc:
        raise TrainingError(f"{path}: {exc.strerror or exc}") from exc
    text = text.removeprefix("\ufeff")
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise TrainingError(f"{path}:{number}: not valid JSON: {exc}") from exc
        if not isinstance(entry, dict):
            raise TrainingError(f"{path}:{number}: must be a JSON object")
        yield number, entry


def _topic_ids(given: Any, known: Iterable[str], where: str) -> set[str] | None:
    """A line's ``topics`` override: null (unknown) or a list of known topic ids."""
    if given is None:
        return None
    if not isinstance(given, list) or not all(isinstance(t, str) for t in given):
        raise TrainingError(f"{where}: 'topics' must be null or a list of topic ids")
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TrainingError(f"{where}: unknown topic ids {unknown} (ids, not labels)")
    return set(given)


def examples(
    paths: Sequence[Path], tagger: Tagger, excluded: set[str], now: datetime | None = None
) -> tuple[list[Example], dict[str, int]]:
    """Training examples from the files, and counts of what was skipped and why."""
    now = now or datetime.now(UTC)
    out: list[Example] = []
    counts = {"lines": 0, "holdout": 0, "no_topics": 0, "rejected": 0, "duplicate": 0}
    seen: set[str] = set()
    taxonomy = tagger.taxonomy
    for path in paths:
        for number, entry in _lines(path):
            counts["lines"] += 1
            if _part(entry, f"{path}:{number}") == "holdout":
                counts["holdout"] += 1
                continue
            raw = entry.get("item", entry)
            if not isinstance(raw, dict):
                raise TrainingError(f"{path}:{number}: 'item' must be a JSON object")
            try:
                item = normalise(dict(raw), now=now)
            except Rejection:
                counts["rejected"] += 1
                continue
            key = _key(item.title)
            if key in excluded:
                raise TrainingError(f"{path}:{number}: title of a held-out line: {item.title!r}")
            if item.summary and _key(item.summary) in excluded:
                raise TrainingError(f"{path}:{number}: summary of a held-out line")
            if key in seen:
                counts["duplicate"] += 1
                continue
            seen.add(key)
            if "topics" in entry:
                ids = _topic_ids(entry["topics"], taxonomy.topics, f"{path}:{number}")
            else:
                ids = {t for t in map(taxonomy.resolve_topic, item.topics) if t} or None
            if not ids:
                counts["no_topics"] += 1
                continue
            truth = set(ids)
            for topic in ids:
                truth.update(taxonomy.topic_ancestors(topic))
            features = tagger.model_features(
                title=item.title,
                summary=item.summary,
                body=item.body,
                published_at=item.published_at,
            )
            lexicon = frozenset(k[2:] for k in features if k.startswith("l:"))
            out.append(Example(item.title, features, lexicon, frozenset(truth), _fold(item.title)))
    counts["examples"] = len(out)
    if len(out) < MIN_EXAMPLES:
        raise TrainingError(
            f"{len(out)} lines with known topics; at least {MIN_EXAMPLES} are needed "
            f"for {FOLDS} folds of out-of-fold scores"
        )
    return out, counts


def _fit(examples: Sequence[Example], topics: Sequence[str]) -> tuple[dict[str, Any], Any]:
    """Vocabulary, weight matrix and biases of one logistic regression per topic.

    Weights below PRUNE are zeroed here, so what is calibrated and thresholded
    out of fold is what will ship.
    """
    import numpy as np

    counts: dict[str, int] = {}
    for ex in examples:
        for name in ex.features:
            counts[name] = counts.get(name, 0) + 1
    kept = sorted(n for n, c in counts.items() if c >= MIN_COUNT)
    vocab = {name: i for i, name in enumerate(kept)}
    x = _matrix(examples, vocab)
    y = np.array([[1.0 if t in ex.truth else 0.0 for t in topics] for ex in examples])
    n = len(examples)
    w = np.zeros((len(vocab), len(topics)))
    b = np.zeros(len(topics))
    for _ in range(ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        g = (p - y) / n
        w -= LEARNING_RATE * (x.T @ g + L2 * w / n)
        b -= LEARNING_RATE * g.sum(axis=0)
    w[np.abs(w) < PRUNE] = 0.0
    return vocab, (w, b)


def _matrix(examples: Sequence[Example], vocab: dict[str, int]) -> Any:
    import numpy as np

    x = np.zeros((len(examples), len(vocab)))
    for i, ex in enumerate(examples):
        for name, value in ex.features.items():
            j = vocab.get(name)
            if j is not None:
                x[i, j] = value
    return x


def _platt(scores: Sequence[float], labels: Sequence[float]) -> tuple[float, float]:
    """(a, b) minimising log loss of sigmoid(a*s + b), by Newton's method."""
    import numpy as np

    s = np.asarray(scores)
    t = np.asarray(labels)
    a, b = 1.0, 0.0
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(a * s + b, -30.0, 30.0)))
        d = p * (1 - p) + 1e-9
        ga, gb = float(((p - t) * s).sum()), float((p - t).sum())
        haa, hab, hbb = float((d * s * s).sum()), float((d * s).sum()), float(d.sum())
        det = haa * hbb - hab * hab
        if det <= 0:
            break
        a -= (hbb * ga - hab * gb) / det
        b -= (haa * gb - hab * ga) / det
    return round(a, 6), round(b, 6)


def _calibrate(
    scored: Sequence[tuple[Example, list[float]]], topics: Sequence[str]
) -> list[tuple[float, float]]:
    """Platt (a, b) per topic from out-of-fold scores; shared below MIN_POSITIVES.

    One scaling for all topics drowned the rare ones: a correct lexicon find of
    arms control came out improbable because most items are about something else.
    """
    labels = [[1.0 if t in ex.truth else 0.0 for t in topics] for ex, _ in scored]
    shared = _platt([s for _, z in scored for s in z], [y for row in labels for y in row])
    if shared[0] <= 0.0:
        raise TrainingError(
            "out of fold, higher scores are not more often right: the labels carry "
            "nothing these features can learn"
        )
    out: list[tuple[float, float]] = []
    for j in range(len(topics)):
        ys = [row[j] for row in labels]
        own = _platt([z[j] for _, z in scored], ys) if sum(ys) >= MIN_POSITIVES else shared
        # A topic whose own scaling points the wrong way has no signal of its own.
        out.append(own if own[0] > 0.0 else shared)
    return out


@dataclass(frozen=True, slots=True)
class Choice:
    keep: float
    add: float
    precision: float
    recall: float


def _closure(tagger: Tagger, ids: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for topic in ids:
        out.add(topic)
        out.update(tagger.taxonomy.topic_ancestors(topic))
    return out


def choose_thresholds(
    tagger: Tagger,
    examples: Sequence[Example],
    probabilities: Sequence[dict[str, float]],
    precision: float,
) -> Choice:
    """The (keep, add) pair with the best recall at or above the target precision.

    Scored like ``newsflow evaluate``: predicted and true topics both widened with
    their parents. Among ties, the higher thresholds (fewer, surer tags).
    """
    best: Choice | None = None
    fallback: Choice | None = None
    for keep in reversed(GRID):  # high to low, so a tie in recall keeps the higher pair
        for add in reversed(GRID):
            if add < keep:
                continue
            tp = fp = fn = 0
            for ex, probs in zip(examples, probabilities, strict=True):
                chosen = {t for t, p in probs.items() if p >= (keep if t in ex.lexicon else add)}
                found = _closure(tagger, chosen)
                tp += len(found & ex.truth)
                fp += len(found - ex.truth)
                fn += len(ex.truth - found)
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else 1.0
            choice = Choice(keep, add, round(p, 4), round(r, 4))
            if tp == 0:  # tags nothing right: precise only by saying nothing
                continue
            if p >= precision and (best is None or r > best.recall):
                best = choice
            if fallback is None or p > fallback.precision:
                fallback = choice
    pick = best or fallback
    if pick is None:
        raise TrainingError("no thresholds tag a single topic right out of fold")
    return pick


def _spec(vocab: dict[str, int], wb: Any, topics: Sequence[str], **fields: Any) -> TopicModelFile:
    w, b = wb
    weights: dict[str, list[tuple[int, float]]] = {}
    for name, row in vocab.items():
        pairs = [(j, round(float(v), 4)) for j, v in enumerate(w[row]) if abs(v) >= PRUNE]
        if pairs:
            weights[name] = pairs
    return TopicModelFile(
        format=1,
        feature_version=FEATURE_VERSION,
        topics=list(topics),
        bias=[round(float(v), 4) for v in b],
        weights=dict(sorted(weights.items())),
        **fields,
    )


def train(
    tagger: Tagger,
    paths: Sequence[Path],
    *,
    version: str,
    precision: float = 0.90,
    exclude: Sequence[Path] = (),
) -> tuple[TopicModelFile, dict[str, Any]]:
    """The model file, and a report of what the training saw and chose."""
    if tagger.model is not None:
        raise TrainingError("train with a lexicon-only tagger: features come from the lexicon")
    examples_, counts = examples(paths, tagger, holdout_titles([*paths, *exclude]))
    topics = sorted(tagger.taxonomy.topics)
    # 1. out-of-fold raw scores
    oof: list[list[float]] = [[] for _ in examples_]
    for k in range(FOLDS):
        train_part = [ex for ex in examples_ if ex.fold != k]
        test_idx = [i for i, ex in enumerate(examples_) if ex.fold == k]
        if not train_part or not test_idx:
            continue
        vocab, (w, b) = _fit(train_part, topics)
        z = _matrix([examples_[i] for i in test_idx], vocab) @ w + b
        for row, i in enumerate(test_idx):
            oof[i] = [float(v) for v in z[row]]
    scored = [(ex, z) for ex, z in zip(examples_, oof, strict=True) if z]
    # 2. calibration: per topic, or shared where a topic has too few examples
    calibration = _calibrate(scored, topics)
    spec_probe = TopicModel(
        TopicModelFile(
            format=1,
            feature_version=FEATURE_VERSION,
            version=version,
            languages=["en"],
            topics=topics,
            bias=[0.0] * len(topics),
            weights={},
            calibration=calibration,
            keep=0.5,
            add=0.5,
        )
    )
    probabilities = [
        {t: spec_probe.probability(i, s) for i, (t, s) in enumerate(zip(topics, z, strict=True))}
        for _, z in scored
    ]
    # 3. thresholds
    choice = choose_thresholds(tagger, [ex for ex, _ in scored], probabilities, precision)
    # 4. final weights on everything
    vocab, wb = _fit(examples_, topics)
    report: dict[str, Any] = {
        "files": [p.name for p in paths],
        **counts,
        "target_precision": precision,
        "target_reached": choice.precision >= precision,
        "out_of_fold_precision": choice.precision,
        "out_of_fold_recall": choice.recall,
        "features": len(vocab),
    }
    spec = _spec(
        vocab,
        wb,
        topics,
        version=version,
        languages=["en"],
        calibration=calibration,
        keep=choice.keep,
        add=choice.add,
        training=report,
    )
    return spec, report


def write(spec: TopicModelFile, path: Path) -> None:
    """Write the model as JSON with sorted keys (the same bytes when retrained)."""
    data = spec.model_dump(mode="json")
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS) + b"\n")
