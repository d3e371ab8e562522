"""Evaluation against the labelled set, and the cores of `newsflow tag` and `newsflow evaluate`."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsflow.domain.tagging import Tagger
from newsflow.domain.taxonomy import load_taxonomy

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")

from newsflow_tools.evaluation import (
    Score,
    evaluate,
    evaluate_numbered,
    format_report,
    run_evaluate,
    run_tag,
)

pytestmark = pytest.mark.tools

EVALUATION = Path(__file__).resolve().parents[1] / "data" / "evaluation.jsonl"
NOW = datetime(2026, 11, 26, tzinfo=UTC)
HELD_OUT_FROM = 75  # lines written after the signals were tuned; never used for tuning


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy())


def _lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in EVALUATION.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------- the labelled set


def test_evaluation_set_shape() -> None:
    lines = _lines()
    assert len(lines) >= 67
    titles = [line["item"]["title"] for line in lines]
    assert titles[0] == titles[1]  # the cross-posted seed story, both copies
    no_metadata = [line for line in lines if "offices" not in line["item"]]
    assert len(no_metadata) >= 8
    assert all("countries" in line for line in lines)


def test_evaluation_set_meets_the_targets(tagger: Tagger) -> None:
    report = evaluate(_lines(), tagger, now=NOW)
    assert report.errors == []
    assert report.items == len(_lines())
    offices, topics, countries = (report.scores[k] for k in ("offices", "topics", "countries"))
    assert offices.f1 >= 0.95
    assert topics.precision >= 0.85
    assert topics.recall >= 0.85
    assert countries.precision >= 0.95
    assert report.unknown_truth == [(64, "offices", "Women Police Officers Network")]


def test_held_out_lines_meet_the_precision_targets(tagger: Tagger) -> None:
    held_out = [(n, line) for n, line in enumerate(_lines(), start=1) if n >= HELD_OUT_FROM]
    report = evaluate_numbered(held_out, tagger, now=NOW)
    assert report.items == len(held_out) >= 15
    assert report.scores["offices"].f1 >= 0.95
    assert report.scores["topics"].precision >= 0.85


# --------------------------------------------------------------------------- scoring rules


def _item(title: str, **fields: Any) -> dict[str, Any]:
    return {"title": title, "published_at": "2021-01-07", **fields}


def test_declared_labels_are_hidden_from_the_tagger(tagger: Tagger) -> None:
    entry = {
        "item": _item(
            "Training course concludes",
            offices=["OSCE Mission to Serbia"],
            topics=["Policing"],
        ),
        "countries": [],
    }
    report = evaluate([entry], tagger, now=NOW)
    assert (report.scores["offices"].fn, report.scores["offices"].tp) == (1, 0)
    assert [(m.kind, m.id, m.what) for m in report.misses] == [
        ("offices", "mission-serbia", "missed"),
        ("topics", "policing", "missed"),
    ]
    assert report.declared_offices == 1
    assert report.declared_offices_found == 0


def test_truth_overrides_and_spurious_tags(tagger: Tagger) -> None:
    entry = {
        "item": _item("ODIHR opens election observation mission in Moldova"),
        "offices": [],
        "topics": ["elections"],
        "countries": ["md"],
        "note": "no office should be found",
    }
    report = evaluate([entry], tagger, now=NOW)
    assert report.scores["offices"].fp == 1
    assert report.scores["topics"].tp == 1
    assert report.scores["countries"].tp == 1
    assert [(m.line, m.id, m.what) for m in report.misses] == [(1, "odihr", "spurious")]


def test_subtopic_truth_includes_its_field_of_work(tagger: Tagger) -> None:
    entry = {"item": _item("Ministers discuss climate change"), "topics": ["climate-change"]}
    report = evaluate([entry], tagger, now=NOW)
    assert (report.scores["topics"].tp, report.scores["topics"].fp) == (2, 0)


def test_bare_items_and_unknown_labels(tagger: Tagger) -> None:
    bare = _item("ODIHR statement", offices=["ODIHR", "Ministry of Magic"])
    report = evaluate([bare], tagger, now=NOW)
    assert report.scores["countries"].items == 0  # no country truth on a bare item
    assert report.scores["offices"].tp == 1
    assert report.unknown_truth == [(1, "offices", "Ministry of Magic")]


def test_bad_items_and_bad_truth_are_reported(tagger: Tagger) -> None:
    lines = [
        {"item": {"title": ""}},
        {"item": _item("ODIHR"), "offices": ["no-such-office"]},
        {"item": _item("ODIHR"), "countries": "al"},
    ]
    report = evaluate(lines, tagger, now=NOW)
    assert report.items == 0
    assert [n for n, _ in report.errors] == [1, 2, 3]
    assert "unknown offices ids ['no-such-office']" in report.errors[1][1]


def test_score_arithmetic() -> None:
    score = Score(items=3, tp=8, fp=2, fn=8)
    assert score.precision == pytest.approx(0.8)
    assert score.recall == pytest.approx(0.5)
    assert score.f1 == pytest.approx(2 * 0.8 * 0.5 / 1.3)
    assert Score().precision == Score().recall == 1.0


def test_format_report(tagger: Tagger) -> None:
    entry = {"item": _item("OSCE Mission to Serbia", offices=["ODIHR"]), "countries": ["rs"]}
    text = format_report(evaluate([entry], tagger, now=NOW))
    assert text.splitlines()[0] == f"Evaluated 1 items with taxonomy {tagger.version}"
    assert "offices" in text.splitlines()[2]
    assert "line   1 offices   missed   odihr" in text
    assert "line   1 offices   spurious mission-serbia" in text


# --------------------------------------------------------------------------- CLI cores


def test_run_tag_writes_items_and_tags_and_reports_bad_lines(tagger: Tagger) -> None:
    good = json.dumps(_item("ODIHR calls for restraint", offices=["ODIHR"], source="osce.org"))
    stdin = io.StringIO(
        "\n".join([good, "{not json", "", json.dumps({"title": "x", "colour": "red"}), good]) + "\n"
    )
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_tag(stdin, stdout, stderr, tagger, NOW) == 1
    records = [json.loads(line) for line in stdout.getvalue().splitlines()]
    assert len(records) == 2
    assert records[0]["item"]["title"] == "ODIHR calls for restraint"
    assert records[0]["tags"]["taxonomy_version"] == tagger.version  # pinned in test_taxonomy
    assert records[0]["tags"]["offices"][0]["id"] == "odihr"
    errors = stderr.getvalue().splitlines()
    assert [e.split(":")[0] for e in errors] == ["line 2", "line 4"]
    assert "not valid JSON" in errors[0]
    assert "colour: unknown field" in errors[1]


def test_run_tag_all_good_exits_zero(tagger: Tagger) -> None:
    stdin = io.StringIO(json.dumps(_item("OSCE Mission to Moldova")) + "\n")
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_tag(stdin, stdout, stderr, tagger, NOW) == 0
    assert stderr.getvalue() == ""
    assert json.loads(stdout.getvalue())["tags"]["offices"][0]["id"] == "mission-moldova"


def test_run_evaluate_on_the_labelled_set(tagger: Tagger) -> None:
    out = io.StringIO()
    assert run_evaluate(EVALUATION, tagger, out) == 0
    assert out.getvalue().startswith(f"Evaluated {len(_lines())} items")


def test_run_evaluate_reports_bad_lines_and_missing_files(tagger: Tagger, tmp_path: Path) -> None:
    path = tmp_path / "eval.jsonl"
    good = json.dumps({"item": _item("ODIHR statement", offices=["ODIHR"]), "countries": []})
    path.write_text(f"{good}\n[1, 2]\n{{oops\n{good}\n", encoding="utf-8")
    out = io.StringIO()
    assert run_evaluate(path, tagger, out) == 1
    text = out.getvalue()
    assert "Evaluated 2 items" in text
    assert "line 2: must be a JSON object" in text
    assert "line 3: not valid JSON" in text
    missing = io.StringIO()
    assert run_evaluate(tmp_path / "absent.jsonl", tagger, missing) == 2
    assert "cannot read" in missing.getvalue()


# ------------------------------------------------------------------- the real development set

OSCE_DEV = EVALUATION.parent / "osce-dev.jsonl"


def _dev_lines() -> list[dict[str, Any]]:
    return [json.loads(line) for line in OSCE_DEV.read_text(encoding="utf-8").splitlines()]


def test_osce_dev_set_shape_and_split_rule(tagger: Tagger) -> None:
    import hashlib

    lines = _dev_lines()
    assert len(lines) >= 150
    titles = [line["item"]["title"] for line in lines]
    assert len(set(titles)) == len(titles)  # one story, one line
    for line in lines:
        # The part was fixed by the title's hash before tuning; moving a line is a change
        # of the rule, not of the line.
        first = hashlib.sha256(line["item"]["title"].encode("utf-8")).digest()[0]
        assert line["split"] == ("holdout" if first % 3 == 0 else "dev")
        assert line["listings"]
        assert all(u.startswith("http") for u in line["listings"])
        assert isinstance(line["countries"], list)
    holdout = sum(1 for line in lines if line["split"] == "holdout")
    assert 0.25 <= holdout / len(lines) <= 0.4
    years = {line["item"]["published_at"][-4:] for line in lines}
    assert len(years) >= 15
    offices = {o for line in lines for o in line["item"].get("offices", [])}
    assert len({tagger.resolve_office(o) for o in offices} - {None}) >= 25
    # Unknown labels are marked, not empty.
    assert any(line.get("topics", []) is None for line in lines)
    assert all(line["item"].get("topics") or "topics" in line for line in lines)


def test_unknown_truth_is_not_scored(tagger: Tagger) -> None:
    item = _item("OSCE Mission to Serbia holds a training", topics=["Elections"])
    unknown = evaluate([{"item": item, "topics": None, "offices": None}], tagger, now=NOW)
    assert unknown.scores["topics"].items == 0
    assert unknown.scores["offices"].items == 0
    scored = evaluate([{"item": item}], tagger, now=NOW)
    assert scored.scores["topics"].fn == 1


def test_run_evaluate_scores_each_part(tagger: Tagger, tmp_path: Path) -> None:
    lines = [
        {"item": _item("OSCE Mission to Serbia trains police"), "split": "dev", "offices": []},
        {"item": _item("ODIHR observes elections in Serbia"), "split": "holdout"},
        {"item": _item("ODIHR observes elections in Serbia again"), "split": 3},
    ]
    path = tmp_path / "parts.jsonl"
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    out = io.StringIO()
    assert run_evaluate(path, tagger, out) == 1  # the bad split is reported
    text = out.getvalue()
    assert text.splitlines()[0].split() == ["part", "kind", "items", "precision", "recall", "f1"]
    assert "dev      offices        1     0.000" in text  # found the Mission, truth says none
    assert "== part holdout ==" in text
    assert "line 3: 'split' must be a non-empty string" in text


def test_run_evaluate_on_the_development_set(tagger: Tagger) -> None:
    out = io.StringIO()
    assert run_evaluate(OSCE_DEV, tagger, out) == 0
    text = out.getvalue()
    assert "== part dev ==" in text
    assert "== part holdout ==" in text


OSCE_DEV_RU = EVALUATION.parent / "osce-dev-ru.jsonl"


def test_russian_dev_set_shape_and_split_rule(tagger: Tagger) -> None:
    import hashlib

    lines = [json.loads(line) for line in OSCE_DEV_RU.read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 30
    titles = [line["item"]["title"] for line in lines]
    assert len(set(titles)) == len(titles)
    for line in lines:
        first = hashlib.sha256(line["item"]["title"].encode("utf-8")).digest()[0]
        assert line["split"] == ("holdout" if first % 3 == 0 else "dev")
        assert line["item"]["language"] == "ru"
        assert all(u.startswith("http") for u in line["listings"])
        assert set(line["offices"]) <= set(tagger.taxonomy.offices)
        assert set(line["countries"]) <= set(tagger.taxonomy.countries)
    holdout = sum(1 for line in lines if line["split"] == "holdout")
    assert 0.25 <= holdout / len(lines) <= 0.4


def test_russian_dev_part_keeps_office_and_country_f1_of_0_9(tagger: Tagger) -> None:
    """A regression guard for the Russian names and titles (README figures come from the CLI)."""
    lines = [json.loads(line) for line in OSCE_DEV_RU.read_text(encoding="utf-8").splitlines()]
    report = evaluate([line for line in lines if line["split"] == "dev"], tagger, now=NOW)
    assert report.errors == []
    assert report.scores["offices"].f1 >= 0.9
    assert report.scores["countries"].f1 >= 0.9
