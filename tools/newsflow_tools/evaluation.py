"""Measure the tagger against labelled items, and the CLI cores of ``newsflow tag``/``evaluate``.

Evaluation file format (JSON Lines), one labelled item per line::

    {"item": {<publisher contract item>}, "countries": ["al"]}

- ``item`` is exactly what a publisher sends (see :mod:`newsflow.domain.contract`, which
  forbids unknown fields, hence the wrapper). Its declared ``offices`` and
  ``topics`` are the truth; they are hidden from the tagger, which tags from the
  title, summary and body alone.
- ``countries`` (lowercase ISO 3166-1 alpha-2 ids) is the country truth. Without
  it, countries are not scored for that line.
- ``offices`` / ``topics`` (canonical ids) optionally replace the declared truth,
  for items whose metadata is missing, or names an office the text never mentions
  ("offices named in the text" is what inference can be held to). An empty list
  is a real truth: nothing should be found. ``null`` says the truth is unknown
  (the publisher gave no such labels), so that kind is not scored for the line:
  an item the OSCE never gave topics is no evidence that the tagger's are wrong.
- ``split`` names the part of the set a line belongs to (``dev``: tuned against;
  ``holdout``: set aside before any tuning). Each part is scored on its own.
- ``note`` and ``listings`` (where the item was published) are ignored.
- A line without the wrapper is taken as a bare publisher item.

Topic truth is widened with each topic's parents (a sub-topic implies its field
of work), as the tagger does. Declared labels the taxonomy does not know are left
out of the truth and listed in the report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, TextIO

import orjson

from newsflow.domain.normalise import Rejection, normalise
from newsflow.domain.tagging import Tagger
from newsflow.domain.tags import Tags

Kind = Literal["offices", "topics", "countries"]
KINDS: Final[tuple[Kind, ...]] = ("offices", "topics", "countries")


@dataclass(slots=True)
class Score:
    """Micro-averaged counts for one kind of tag."""

    items: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class Miss:
    """A wrong call: a truth the tagger missed, or a tag that is not in the truth."""

    line: int
    kind: Kind
    id: str
    what: Literal["missed", "spurious"]
    title: str


@dataclass(slots=True)
class EvaluationReport:
    taxonomy_version: str
    items: int = 0
    scores: dict[Kind, Score] = field(default_factory=lambda: {k: Score() for k in KINDS})
    misses: list[Miss] = field(default_factory=list)
    unknown_truth: list[tuple[int, Kind, str]] = field(default_factory=list)
    errors: list[tuple[int, str]] = field(default_factory=list)
    declared_offices: int = 0  # every declared office, named in the text or not
    declared_offices_found: int = 0
    #: (confidence, right?) of every inferred topic tag on a line with topic truth
    topic_confidences: list[tuple[float, bool]] = field(default_factory=list)


def _ids(values: Any, line: int, what: str) -> set[str]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"line {line}: '{what}' must be a list of ids")
    return set(values)


def _split(entry: Mapping[str, Any]) -> tuple[Mapping[str, Any], Mapping[str, Any]]:
    """(publisher item, truth overrides) from a line with or without the wrapper."""
    inner = entry.get("item")
    if isinstance(inner, Mapping):
        return inner, entry
    return entry, {}


def _topic_closure(tagger: Tagger, ids: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for topic_id in ids:
        out.add(topic_id)
        if topic_id in tagger.taxonomy.topics:
            out.update(tagger.taxonomy.topic_ancestors(topic_id))
    return out


def evaluate_numbered(
    lines: Iterable[tuple[int, Mapping[str, Any]]],
    tagger: Tagger,
    *,
    now: datetime | None = None,
) -> EvaluationReport:
    """Like :func:`evaluate`, with the caller's line numbers (for files with bad lines)."""
    now = now or datetime.now(UTC)
    report = EvaluationReport(taxonomy_version=tagger.version)
    for line, entry in lines:
        raw, overrides = _split(entry)
        try:
            item = normalise(dict(raw), now=now)
        except Rejection as exc:
            report.errors.append((line, exc.reason))
            continue
        try:
            truth = _truth(tagger, line, item.offices, item.topics, overrides, report)
        except ValueError as exc:
            report.errors.append((line, str(exc)))
            continue
        report.items += 1
        tags = tagger.tag_fields(
            title=item.title,
            summary=item.summary,
            body=item.body,
            content_type=item.content_type,
            published_at=item.published_at,
        )
        found = _found(tagger, tags)
        declared_offices = {o for o in map(tagger.resolve_office, item.offices) if o}
        report.declared_offices += len(declared_offices)
        report.declared_offices_found += len(declared_offices & found["offices"])
        for kind in KINDS:
            expected = truth.get(kind)
            if expected is None:
                continue
            _score(report, kind, line, item.title, expected, found[kind])
        expected_topics = truth.get("topics")
        if expected_topics is not None:
            report.topic_confidences.extend(
                (t.confidence, t.id in expected_topics)
                for t in tags.topics
                if t.id and t.source == "inferred"
            )
    return report


#: Confidence bins of the calibration table: [low, high).
CALIBRATION_BINS: Final = ((0.0, 0.5), (0.5, 0.7), (0.7, 0.8), (0.8, 0.9), (0.9, 1.01))


def calibration_rows(pairs: Iterable[tuple[float, bool]]) -> list[tuple[str, int, float, float]]:
    """Per confidence bin: (bin, tags, mean confidence, share right). Empty bins left out.

    A calibrated tagger's mean confidence matches its share right in every bin.
    """
    rows = []
    pairs = list(pairs)
    for low, high in CALIBRATION_BINS:
        inside = [(c, ok) for c, ok in pairs if low <= c < high]
        if inside:
            mean = sum(c for c, _ in inside) / len(inside)
            right = sum(1 for _, ok in inside if ok) / len(inside)
            rows.append((f"{low:.1f}-{min(high, 1.0):.1f}", len(inside), mean, right))
    return rows


def evaluate(
    items: Iterable[Mapping[str, Any]], tagger: Tagger, *, now: datetime | None = None
) -> EvaluationReport:
    """Tag each item from its text alone and compare with its declared (or given) truth."""
    return evaluate_numbered(enumerate(items, start=1), tagger, now=now)


def _truth(
    tagger: Tagger,
    line: int,
    offices: list[str],
    topics: list[str],
    overrides: Mapping[str, Any],
    report: EvaluationReport,
) -> dict[Kind, set[str]]:
    truth: dict[Kind, set[str]] = {}
    if "offices" in overrides:
        if overrides["offices"] is not None:
            truth["offices"] = _ids(overrides["offices"], line, "offices")
    elif offices:
        truth["offices"] = _resolved(tagger.resolve_office, offices, line, "offices", report)
    if "topics" in overrides:
        if overrides["topics"] is not None:
            truth["topics"] = _ids(overrides["topics"], line, "topics")
    elif topics:
        truth["topics"] = _resolved(tagger.resolve_topic, topics, line, "topics", report)
    if overrides.get("countries") is not None:
        truth["countries"] = _ids(overrides["countries"], line, "countries")
    if "topics" in truth:
        truth["topics"] = _topic_closure(tagger, truth["topics"])
    known = {
        "offices": tagger.taxonomy.offices,
        "topics": tagger.taxonomy.topics,
        "countries": tagger.taxonomy.countries,
    }
    for kind, ids in truth.items():
        unknown = sorted(ids - set(known[kind]))
        if unknown:
            raise ValueError(f"line {line}: unknown {kind} ids {unknown}")
    return truth


def _resolved(
    resolve: Callable[[str], str | None],
    labels: list[str],
    line: int,
    kind: Kind,
    report: EvaluationReport,
) -> set[str]:
    out: set[str] = set()
    for label in labels:
        resolved = resolve(label)
        if resolved is None:
            report.unknown_truth.append((line, kind, label))
        else:
            out.add(resolved)
    return out


def _found(tagger: Tagger, tags: Tags) -> dict[Kind, set[str]]:
    return {
        "offices": {t.id for t in tags.offices if t.id},
        "topics": _topic_closure(tagger, (t.id for t in tags.topics if t.id)),
        "countries": {t.id for t in tags.countries if t.id},
    }


def _score(
    report: EvaluationReport,
    kind: Kind,
    line: int,
    title: str,
    expected: set[str],
    found: set[str],
) -> None:
    score = report.scores[kind]
    score.items += 1
    score.tp += len(expected & found)
    score.fn += len(expected - found)
    score.fp += len(found - expected)
    report.misses.extend(Miss(line, kind, i, "missed", title) for i in sorted(expected - found))
    report.misses.extend(Miss(line, kind, i, "spurious", title) for i in sorted(found - expected))


def format_report(report: EvaluationReport) -> str:
    """A plain-text summary: P/R/F1 per kind, then every miss."""
    out = [
        f"Evaluated {report.items} items with taxonomy {report.taxonomy_version}",
        f"{'kind':<10} {'items':>5} {'tp':>5} {'fp':>5} {'fn':>5} "
        f"{'precision':>9} {'recall':>7} {'f1':>6}",
    ]
    for kind in KINDS:
        s = report.scores[kind]
        out.append(
            f"{kind:<10} {s.items:>5} {s.tp:>5} {s.fp:>5} {s.fn:>5} "
            f"{s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}"
        )
    if report.declared_offices:
        share = report.declared_offices_found / report.declared_offices
        out.append(
            f"declared offices recovered from text alone: {report.declared_offices_found}/"
            f"{report.declared_offices} ({share:.3f}; includes offices the text never names)"
        )
    rows = calibration_rows(report.topic_confidences)
    if rows:
        out.append("inferred topic tags by confidence (calibrated: mean confidence ~ share right):")
        out.append(f"  {'confidence':<10} {'tags':>5} {'mean':>6} {'right':>6}")
        for label, count, mean, right in rows:
            out.append(f"  {label:<10} {count:>5} {mean:>6.3f} {right:>6.3f}")
    for line, kind, label in report.unknown_truth:
        out.append(f"line {line}: unknown declared {kind} label {label!r} (not scored)")
    for line, message in report.errors:
        out.append(f"line {line}: {message}")
    if report.misses:
        out.append("misses (missed: in the truth, not found; spurious: found, not in the truth):")
        for m in report.misses:
            out.append(f"  line {m.line:>3} {m.kind:<9} {m.what:<8} {m.id:<28} {m.title[:60]}")
    return "\n".join(out)


# --------------------------------------------------------------------------- CLI cores


#: A UTF-16 byte-order mark (FF FE or FE FF) as text decoded with surrogateescape.
_UTF16_MARKS: Final = ("\udcff\udcfe", "\udcfe\udcff")
#: What to say about input that is UTF-16 (PowerShell's ``>`` writes it).
_UTF16: Final = (
    "newsflow tag: the input is UTF-16; it reads UTF-8 JSON Lines "
    "(convert it first, e.g. iconv -f UTF-16 -t UTF-8)"
)


def run_tag(stdin: TextIO, stdout: TextIO, stderr: TextIO, tagger: Tagger, now: datetime) -> int:
    """``newsflow tag``: publisher JSONL in, ``{"item": ..., "tags": ...}`` JSONL out.

    Each line goes through the same normaliser and tagger as the services. A bad
    line is reported on stderr as ``line N: reason`` and the rest carry on; the
    exit code is 1 if any line was bad. A line that is not UTF-8 is a bad line
    (stdin is read with surrogateescape, so it arrives as text the normaliser
    refuses by name). UTF-16 input is not a file of bad lines but a file in the
    wrong encoding: it is said once, in one line, and nothing is read. A stdin
    that raises on bad bytes stops at that line, with the same kind of report.
    """
    status = 0
    number = 0
    lines = iter(stdin)
    while True:
        try:
            line = next(lines)
        except StopIteration:
            return status
        except UnicodeDecodeError:
            print(f"line {number + 1}: not UTF-8 text; newsflow tag reads UTF-8", file=stderr)
            return 1
        number += 1
        if number == 1 and (line.startswith(_UTF16_MARKS) or "\x00" in line):
            # NULs in the first line: UTF-16 without a mark, as surely as with one.
            print(_UTF16, file=stderr)
            return 1
        if not line.strip():
            continue
        try:
            item = normalise(line, now=now)
        except Rejection as exc:
            print(f"line {number}: {exc.reason}", file=stderr)
            status = 1
            continue
        tags = tagger.tag(item)
        record = {"item": item.model_dump(mode="json"), "tags": tags.model_dump(mode="json")}
        stdout.write(orjson.dumps(record).decode() + "\n")


def split_parts(
    entries: Iterable[tuple[int, Mapping[str, Any]]],
) -> tuple[dict[str, list[tuple[int, Mapping[str, Any]]]], list[tuple[int, str]]]:
    """Lines grouped by their ``split`` (in order of first appearance), and bad splits.

    A file without any ``split`` is one part, ``all``. Lines of a split file that
    name no part are scored with the others under ``all`` too, never silently dropped.
    """
    parts: dict[str, list[tuple[int, Mapping[str, Any]]]] = {}
    bad: list[tuple[int, str]] = []
    for number, entry in entries:
        part = entry.get("split", "all")
        if not isinstance(part, str) or not part.strip():
            bad.append((number, "'split' must be a non-empty string"))
            continue
        parts.setdefault(part, []).append((number, entry))
    return parts, bad


def format_parts(reports: Mapping[str, EvaluationReport]) -> str:
    """One row per part and kind: the table the README quotes."""
    out = [
        f"{'part':<8} {'kind':<10} {'items':>5} {'precision':>9} {'recall':>7} {'f1':>6}",
    ]
    for part, report in reports.items():
        for kind in KINDS:
            s = report.scores[kind]
            scores = f"{s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f}"
            out.append(f"{part:<8} {kind:<10} {s.items:>5} {scores}")
    return "\n".join(out)


def run_evaluate(path: Path, tagger: Tagger, out: TextIO) -> int:
    """``newsflow evaluate FILE.jsonl``: print the report; 1 if any line was unusable.

    A file whose lines carry a ``split`` is scored part by part (``dev`` and
    ``holdout``): a summary table of every part first, then each part's report.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=out)
        return 2
    entries: list[tuple[int, Mapping[str, Any]]] = []
    bad: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            bad.append((number, f"not valid JSON: {exc}"))
            continue
        if not isinstance(entry, dict):
            bad.append((number, "must be a JSON object"))
            continue
        entries.append((number, entry))
    parts, bad_splits = split_parts(entries)
    bad.extend(bad_splits)
    if len(parts) <= 1:
        report = evaluate_numbered(next(iter(parts.values()), []), tagger)
        report.errors[:0] = bad
        report.errors.sort()
        print(format_report(report), file=out)
        return 1 if report.errors else 0
    reports = {part: evaluate_numbered(lines, tagger) for part, lines in parts.items()}
    print(format_parts(reports), file=out)
    if tagger.model is not None:
        files = tagger.model.spec.training.get("files")
        print(
            f"topics decided by topic model {tagger.model.version}, trained on {files} "
            "(without their holdout lines): a part it was trained on is no test of it",
            file=out,
        )
    for part, report in reports.items():
        print(f"\n== part {part} ==", file=out)
        print(format_report(report), file=out)
    errors = sorted([*bad, *(e for r in reports.values() for e in r.errors)])
    for number, message in bad:
        print(f"line {number}: {message}", file=out)
    return 1 if errors else 0
