"""`newsflow train-topics`: what it learns, what it refuses, and the shipped model's data."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from newsflow.domain.tagging import Tagger, TopicModel
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.domain.text import identity_key

pytest.importorskip("newsflow_tools", reason="the tools package is not installed")
pytest.importorskip("numpy", reason="training needs numpy (the tools package's dependency)")

from newsflow_tools.cli import main
from newsflow_tools.topic_training import TrainingError, examples, train, write

pytestmark = pytest.mark.tools

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT / "tools" / "newsflow_tools" / "data" / "osce-train.jsonl"
DEV = ROOT / "tests" / "data" / "osce-dev.jsonl"
PACKAGED = ROOT / "shared" / "newsflow" / "data" / "topic-model.json"
FILLERS = ["meeting", "workshop", "visit", "conference", "report", "briefing", "forum", "session"]


@pytest.fixture(scope="module")
def tagger() -> Tagger:
    return Tagger(load_taxonomy())


def _line(title: str, topics: list[str] | None, split: str | None = None) -> str:
    item: dict[str, Any] = {"title": title, "source": "test", "published_at": "2020-01-01"}
    if topics is not None:
        item["topics"] = topics
    entry: dict[str, Any] = {"item": item}
    if split is not None:
        entry["split"] = split
    return json.dumps(entry)


def _synthetic(path: Path, n: int = 80, extra: Sequence[str] = ()) -> Path:
    """Made-up words the lexicon does not know: 'zorkle' items are elections ones,
    'quiblet' items policing ones; the rest is filler."""
    lines = list(extra)
    for i in range(n):
        filler = f"{FILLERS[i % len(FILLERS)]} {FILLERS[(i * 3 + 1) % len(FILLERS)]} {i}"
        if i % 2:
            lines.append(_line(f"Zorkle {filler}", ["Elections"]))
        else:
            lines.append(_line(f"Quiblet {filler}", ["Policing"]))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_training_learns_words_the_lexicon_does_not_know(tmp_path: Path, tagger: Tagger) -> None:
    spec, report = train(tagger, [_synthetic(tmp_path / "t.jsonl")], version="t.1")
    assert report["examples"] == 80
    assert report["out_of_fold_precision"] >= 0.9
    model = TopicModel(spec)
    tagged = Tagger(tagger.taxonomy, model)
    unseen = tagged.tag_fields(title="Zorkle gathering in a new town", language="en")
    assert [t.id for t in unseen.topics] == ["elections"]
    assert unseen.topics[0].evidence[0].text == "Zorkle gathering in a new town"
    other = tagged.tag_fields(title="Quiblet gathering in a new town", language="en")
    assert [t.id for t in other.topics] == ["policing"]
    neither = tagged.tag_fields(title="A gathering in a new town", language="en")
    assert neither.topics == []


def test_training_is_deterministic(tmp_path: Path, tagger: Tagger) -> None:
    data = _synthetic(tmp_path / "t.jsonl")
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    write(train(tagger, [data], version="t.1")[0], first)
    write(train(tagger, [data], version="t.1")[0], second)
    assert first.read_bytes() == second.read_bytes()
    assert TopicModel.load(first).version == "t.1"


def test_holdout_lines_are_skipped_and_their_titles_refused(tmp_path: Path, tagger: Tagger) -> None:
    held = _line("Zorkle secret held out item", ["Elections"], split="holdout")
    data = _synthetic(tmp_path / "t.jsonl", extra=[held])
    _, report = train(tagger, [data], version="t.1")
    assert report["holdout"] == 1
    assert report["examples"] == 80
    # The same title in another file given to the trainer is an error, not a skip.
    leak = tmp_path / "leak.jsonl"
    leak.write_text(_line("ZORKLE  secret held-out item", ["Elections"]) + "\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="held-out"):
        train(tagger, [data, leak], version="t.1")


def test_lines_without_topics_teach_nothing(tmp_path: Path, tagger: Tagger) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_line("No labels here", None) + "\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="0 lines with known topics; at least 20"):
        train(tagger, [path], version="t.1")


def test_training_needs_a_lexicon_only_tagger(tmp_path: Path, tagger: Tagger) -> None:
    spec, _ = train(tagger, [_synthetic(tmp_path / "t.jsonl")], version="t.1")
    with pytest.raises(TrainingError, match="lexicon-only"):
        train(Tagger(tagger.taxonomy, TopicModel(spec)), [tmp_path / "t.jsonl"], version="t.2")


def test_bad_json_names_the_line(tmp_path: Path, tagger: Tagger) -> None:
    path = tmp_path / "t.jsonl"
    path.write_text(_line("Fine", ["Elections"]) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(TrainingError, match=r"t\.jsonl:2: not valid JSON"):
        train(tagger, [path], version="t.1")


# --------------------------------------------------------------------------- the CLI


def test_cli_writes_the_model_and_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "model.json"
    data = _synthetic(tmp_path / "t.jsonl")
    assert main(["train-topics", str(data), "--out", str(out), "--version", "cli.1"]) == 0
    assert TopicModel.load(out).version == "cli.1"
    assert "examples: 80" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--precision", "0"], "--precision must be in (0, 1]"),
        (["--precision", "1.5"], "--precision must be in (0, 1]"),
        (["--version", "bad version"], "--version may hold only"),
        (["--out", "/nonexistent-dir/m.json"], "--out: no directory"),
    ],
)
def test_cli_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    data = _synthetic(tmp_path / "t.jsonl", n=20)
    argv = ["train-topics", str(data), "--out", str(tmp_path / "m.json"), "--version", "v1"]
    assert main([*argv, *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists()


def test_cli_reports_a_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train-topics", str(tmp_path / "absent.jsonl"), "--out", str(tmp_path / "m.json")]
    assert main([*argv, "--version", "v1"]) == 2
    assert "absent.jsonl" in capsys.readouterr().err


def test_evaluate_and_tag_refuse_a_bad_model_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "model.json"
    bad.write_text("{}", encoding="utf-8")
    assert main(["evaluate", str(DEV), "--topic-model-path", str(bad)]) == 2
    assert "topic model" in capsys.readouterr().err


# --------------------------------------------------------------------------- shipped data


def test_no_training_title_is_an_evaluation_title() -> None:
    """The development set (both parts) never leaks into the training file."""
    evaluation = {
        identity_key(json.loads(line)["item"]["title"])
        for line in DEV.read_text(encoding="utf-8").splitlines()
        if line.strip()
    }
    training = [
        identity_key(json.loads(line)["item"]["title"])
        for line in TRAIN.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    assert len(training) == len(set(training)) > 600
    assert not evaluation & set(training)


def test_the_packaged_model_was_trained_on_the_repository_files(tagger: Tagger) -> None:
    shipped = json.loads(PACKAGED.read_text(encoding="utf-8"))["training"]
    assert shipped["files"] == [TRAIN.name, DEV.name]
    found, counts = examples([TRAIN, DEV], tagger, set())
    assert shipped["examples"] == len(found) == counts["examples"]
    assert shipped["holdout"] == counts["holdout"] > 0


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"item": {"title": "A", "source": "s"}, "topics": ["astrology"]}', "unknown topic ids"),
        ('{"item": {"title": "A", "source": "s"}, "topics": ["Elections"]}', "ids, not labels"),
        ('{"item": {"title": "A", "source": "s"}, "topics": [3]}', "list of topic ids"),
        ('{"item": {"title": "A", "source": "s"}, "topics": "elections"}', "list of topic ids"),
        ('{"item": null}', "'item' must be a JSON object"),
        ('{"item": [1, 2]}', "'item' must be a JSON object"),
        ("[1, 2]", "must be a JSON object"),
    ],
)
def test_bad_lines_are_errors_naming_the_line(
    tmp_path: Path, tagger: Tagger, line: str, message: str
) -> None:
    data = _synthetic(tmp_path / "t.jsonl", extra=[line])
    with pytest.raises(TrainingError, match=rf"t\.jsonl:1: .*{message}"):
        train(tagger, [data], version="t.1")


def test_a_held_out_title_is_caught_in_any_spelling(tmp_path: Path, tagger: Tagger) -> None:
    held = _line("Observers &amp; elections in Zorkle", ["Elections"], split="holdout")
    data = _synthetic(tmp_path / "t.jsonl", extra=[held])
    leak = tmp_path / "leak.jsonl"
    line = _line("Observers & elections in Zorkle", ["Elections"])
    leak.write_text(line + "\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="held-out"):
        train(tagger, [data, leak], version="t.1")


def test_a_bom_and_a_line_separator_inside_a_string_are_read(
    tmp_path: Path, tagger: Tagger
) -> None:
    data = _synthetic(tmp_path / "t.jsonl")
    text = data.read_text(encoding="utf-8")
    first, rest = text.split("\n", 1)
    first = first.replace('"Quiblet ', '"Quiblet\u2028')
    data.write_text("\ufeff" + first + "\n" + rest, encoding="utf-8")
    _, report = train(tagger, [data], version="t.1")
    assert report["examples"] == 80


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path, tagger: Tagger) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"item": {"title": "Zorkle caf\xe9", "source": "s"}}\n')
    with pytest.raises(TrainingError, match=r"latin1\.jsonl: not UTF-8 text"):
        train(tagger, [path], version="t.1")


def test_too_few_labelled_lines_are_refused(tmp_path: Path, tagger: Tagger) -> None:
    data = _synthetic(tmp_path / "t.jsonl", n=19)
    with pytest.raises(TrainingError, match="19 lines with known topics; at least 20"):
        train(tagger, [data], version="t.1")


@pytest.mark.parametrize("split", ["Holdout", "HOLDOUT", " holdout "])
def test_a_holdout_line_in_any_case_is_skipped(tmp_path: Path, tagger: Tagger, split: str) -> None:
    held = json.dumps({"item": {"title": "Zorkle held", "source": "s"}, "split": split})
    _, report = train(tagger, [_synthetic(tmp_path / "t.jsonl", extra=[held])], version="t.1")
    assert report["holdout"] == 1


@pytest.mark.parametrize(
    ("split", "message"), [(["holdout"], "must be a string"), ("test", "unknown")]
)
def test_a_split_that_is_not_a_known_part_is_an_error(
    tmp_path: Path, tagger: Tagger, split: Any, message: str
) -> None:
    line = json.dumps({"item": {"title": "Zorkle x", "source": "s"}, "split": split})
    with pytest.raises(TrainingError, match=message):
        train(tagger, [_synthetic(tmp_path / "t.jsonl", extra=[line])], version="t.1")


@pytest.mark.parametrize(
    "leaked",
    [
        {"title": "Observers\u200b meet in Zorkle", "source": "s"},  # zero-width space
        {"title": "Obser\u00advers meet in Zorkle", "source": "s"},  # soft hyphen
        {"title": "A new title", "summary": "Fifty observers arrived on Monday.", "source": "s"},
    ],
)
def test_held_out_text_is_caught_through_invisible_characters_and_summaries(
    tmp_path: Path, tagger: Tagger, leaked: dict[str, Any]
) -> None:
    held = json.dumps(
        {
            "item": {
                "title": "Observers meet in Zorkle",
                "summary": "Fifty observers arrived on Monday.",
                "source": "s",
            },
            "split": "holdout",
        }
    )
    data = _synthetic(tmp_path / "t.jsonl", extra=[held])
    leak = tmp_path / "leak.jsonl"
    leak.write_text(json.dumps({"item": leaked, "topics": ["elections"]}) + "\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="held-out line"):
        train(tagger, [data, leak], version="t.1")


def test_cli_warns_when_the_precision_target_is_out_of_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [
        _line(f"Meeting {i} {FILLERS[i % 8]}", ["Elections" if i % 3 else "Policing"])
        for i in range(60)
    ]
    data = tmp_path / "noise.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    argv = ["train-topics", str(data), "--out", str(tmp_path / "m.json"), "--version", "v1"]
    code = main([*argv, "--precision", "1.0"])
    err = capsys.readouterr().err
    assert code == 0 or "carry nothing" in err
    if code == 0:
        assert "warning: no thresholds reach precision 1.0" in err


def test_reenrich_compares_with_the_version_enrichment_stamps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """NEWSFLOW_TOPIC_MODEL, read as enrichment reads it, decides reenrich's version."""
    import argparse

    from newsflow_tools.cli import _tagger
    from newsflow_tools.settings import ToolSettings

    args = argparse.Namespace(taxonomy=None, topic_model=False, topic_model_path=None)
    monkeypatch.delenv("NEWSFLOW_TOPIC_MODEL", raising=False)
    off = _tagger(args, "reenrich", ToolSettings())
    assert off is not None
    assert off.model is None
    monkeypatch.setenv("NEWSFLOW_TOPIC_MODEL", "true")
    on = _tagger(args, "reenrich", ToolSettings())
    assert on is not None
    assert on.model is not None
    assert on.version == f"{off.version}+{on.model.version}"
