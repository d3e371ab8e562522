"""The statistical topic model: loading, deciding, evidence, and where it applies."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsflow.domain.tagging import Tagger, TopicModel, TopicModelError, load_tagger
from newsflow.domain.tagging.matching import matching_form
from newsflow.domain.tagging.scanning import Scanner
from newsflow.domain.tagging.statistical import (
    FEATURE_VERSION,
    Lead,
    TopicModelFile,
    split_sentences,
    words,
)
from newsflow.domain.taxonomy import load_taxonomy

TAXONOMY = load_taxonomy()
PACKAGED = Path(__file__).resolve().parents[2] / "shared" / "newsflow" / "data" / "topic-model.json"


@pytest.fixture(scope="module")
def model() -> TopicModel:
    return TopicModel.load()


@pytest.fixture(scope="module")
def with_model(model: TopicModel) -> Tagger:
    return Tagger(TAXONOMY, model)


@pytest.fixture(scope="module")
def lexicon() -> Tagger:
    return Tagger(TAXONOMY)


def _spec(**changes: Any) -> dict[str, Any]:
    """A tiny valid model: 'police' says policing, 'zorkle' (no lexicon signal) elections."""
    topics = ["policing", "elections"]
    spec: dict[str, Any] = {
        "format": 1,
        "feature_version": FEATURE_VERSION,
        "version": "test.1",
        "languages": ["en"],
        "topics": topics,
        "bias": [-3.0, -3.0],
        "weights": {"w:police": [[0, 6.0]], "w:zorkle": [[1, 6.0]], "w:weather": [[0, -2.0]]},
        "calibration": [[1.0, 0.0], [1.0, 0.0]],
        "keep": 0.5,
        "add": 0.9,
    }
    spec.update(changes)
    return spec


def _model(**changes: Any) -> TopicModel:
    return TopicModel(TopicModelFile.model_validate_json(json.dumps(_spec(**changes))))


# --------------------------------------------------------------------------- loading


def test_packaged_model_loads_and_matches_the_taxonomy(model: TopicModel) -> None:
    assert set(model.topics) <= set(TAXONOMY.topics)
    assert model.languages == frozenset({"en"})
    assert 0.0 < model.keep <= model.add < 1.0
    assert model.spec.feature_version == FEATURE_VERSION


def test_tagger_version_names_the_model(with_model: Tagger, model: TopicModel) -> None:
    assert with_model.version == f"{TAXONOMY.version}+{model.version}"
    assert Tagger(TAXONOMY).version == TAXONOMY.version


def test_load_tagger_is_lexicon_only_unless_asked() -> None:
    assert load_tagger().model is None
    assert load_tagger(model=True).model is not None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"feature_version": FEATURE_VERSION + 1}, "retrain"),
        ({"bias": [0.0]}, "differ in length"),
        ({"calibration": [[1.0, 0.0]]}, "differ in length"),
        ({"weights": {"w:police": [[7, 1.0]]}}, "topic index 7"),
        ({"calibration": [[0.0, 0.0], [1.0, 0.0]]}, "slope must be positive"),
        ({"keep": 1.5}, "less than 1"),
        ({"keep": 0.0}, "greater than or equal to 0.01"),
        ({"keep": 0.95}, "must not exceed add"),
        ({"bias": ["1", "2"]}, "valid number"),
        ({"bias": [1e400, 0.0]}, "finite number"),
        ({"format": True}, "valid integer"),
        ({"weights": {"w:police": [[True, 1.0]]}}, "valid integer"),
        ({"weights": {"w:police": [[0, 1.0], [0, 2.0]]}}, "twice"),
        ({"keep": 1e-9, "add": 1e-9}, "greater than or equal to 0.01"),
        ({"languages": ["EN"]}, "pattern"),
        ({"languages": [""]}, "pattern"),
        ({"topics": ["policing", "policing"]}, "named twice"),
        ({"weights": {"w:police": [[0, 1e308]]}}, "less than or equal to 10000"),
        ({"bias": [-1e300, 0.0]}, "greater than or equal to -10000"),
        ({"version": "has space"}, "pattern"),
        ({"unknown": 1}, "Extra inputs"),
    ],
)
def test_a_bad_model_file_is_refused_with_a_reason(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    path = tmp_path / "model.json"
    path.write_text(json.dumps(_spec(**changes)), encoding="utf-8")
    with pytest.raises(TopicModelError, match=message):
        TopicModel.load(path)


@pytest.mark.parametrize("content", [b"", b"\xff\xfe", b"[]", b'{"format": 1'])
def test_unreadable_model_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "model.json"
    path.write_bytes(content)
    with pytest.raises(TopicModelError):
        TopicModel.load(path)


def test_a_missing_model_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TopicModelError, match="No such file"):
        TopicModel.load(tmp_path / "absent.json")


def test_a_model_naming_unknown_topics_is_refused() -> None:
    with pytest.raises(TopicModelError, match="lacks"):
        Tagger(TAXONOMY, _model(topics=["policing", "astrology"]))


# --------------------------------------------------------------------------- features


def test_sentences_keep_offsets_into_their_field() -> None:
    summary = "Twenty officers took part.  ODIHR experts led it! Then they left"
    sentences = split_sentences(1, summary)
    assert [s.text for s in sentences] == [
        "Twenty officers took part.",
        "ODIHR experts led it!",
        "Then they left",
    ]
    for s in sentences:
        assert summary[s.start : s.end] == s.text


def test_the_lead_comes_from_the_body_only_without_a_summary() -> None:
    with_summary = Lead(("Title", "A summary.", "A body."))
    assert [s.field for s in with_summary.sentences] == [0, 1]
    without = Lead(("Title", "", "Body one. Body two."))
    assert [s.field for s in without.sentences] == [0, 2, 2]


def test_features_are_folded_words_without_function_words() -> None:
    assert words(matching_form("The OSCE trains Police in Priština, 2024")) == {
        "w:trains",
        "w:police",
        "w:pristina",
    }


@pytest.mark.parametrize(
    "texts",
    [
        ("OSCE trains police", "Twenty officers took part. Experts led it.", ""),
        ("Straße und Œuvre: ﬁnal", "Große Pläne. Ærø’s ﬂag!", "ignored body"),
        ("Title only", "", "A body. With two sentences. And a third one here."),
        ("Миссия ОБСЕ в Грузии", "Наблюдатели прибыли. Они работают.", ""),
        ("Ærø and Ørsted visit", "Þingvellir meeting. Ελλάδα talks.", ""),
    ],
)
def test_words_from_the_scanner_form_equal_words_from_each_sentence(
    texts: tuple[str, str, str],
) -> None:
    """Slicing the scanner's folded text (fast) gives what folding each sentence does."""
    folded = Scanner(TAXONOMY).scan(texts).folded
    fast = Lead(texts, folded)
    slow = Lead(texts)
    assert fast.sentence_words() == slow.sentence_words()
    assert all(word.isascii() for word in fast.words())


# --------------------------------------------------------------------------- deciding


def test_a_strong_word_adds_its_topic_with_the_sentence_as_evidence() -> None:
    tagger = Tagger(TAXONOMY, _model())
    title = "Officials meet in Vienna"
    summary = "The weather was mild. New zorkle boxes were shown to the press."
    tags = tagger.tag_fields(title=title, summary=summary)
    topics = {t.id: t for t in tags.topics}
    assert "elections" in topics
    tag = topics["elections"]
    assert tag.source == "inferred"
    # sigmoid(-3 + 6) calibrated with a=1, b=0
    assert tag.confidence == pytest.approx(0.9526, abs=1e-4)
    (evidence,) = tag.evidence
    assert evidence.field == "summary"
    assert evidence.text == "New zorkle boxes were shown to the press."
    assert summary[evidence.start : evidence.end] == evidence.text


def test_the_model_drops_a_lexicon_topic_it_does_not_believe() -> None:
    # Policing is likely (bias +3) unless 'weather' is in the text.
    lexicon_only = Tagger(TAXONOMY).tag_fields(title="Community policing and weather")
    assert "policing" in {t.id for t in lexicon_only.topics}
    tagger = Tagger(TAXONOMY, _model(bias=[3.0, -3.0], weights={"w:weather": [[0, -9.0]]}))
    kept = tagger.tag_fields(title="Community policing in Skopje")
    assert "policing" in {t.id for t in kept.topics}
    dropped = tagger.tag_fields(title="Community policing and weather")
    assert "policing" not in {t.id for t in dropped.topics}


def test_a_kept_lexicon_topic_keeps_its_phrase_as_evidence() -> None:
    tags = Tagger(TAXONOMY, _model()).tag_fields(
        title="Training for police officers in Skopje", summary="It lasted a week."
    )
    policing = next(t for t in tags.topics if t.id == "policing")
    assert policing.evidence[0].text.lower().startswith("police")
    assert policing.confidence == pytest.approx(0.9526, abs=1e-4)


def test_declared_topics_are_never_touched_by_the_model() -> None:
    model = _model(weights={"w:weather": [[1, -9.0]]}, keep=0.01, add=0.01)
    tags = Tagger(TAXONOMY, model).tag_fields(
        title="Weather report", topics=["Elections"], language="en"
    )
    elections = next(t for t in tags.topics if t.id == "elections")
    assert elections.source == "declared"
    assert elections.confidence == 1.0


@pytest.mark.parametrize("language", ["ru", "fr"])
def test_the_model_does_not_apply_to_other_languages(lexicon: Tagger, language: str) -> None:
    tagger = Tagger(TAXONOMY, _model(add=0.01, keep=0.01))
    title = "zorkle police zorkle"
    got = tagger.tag_fields(title=title, language=language)
    assert got.topics == lexicon.tag_fields(title=title, language=language).topics


def test_a_russian_item_without_a_declared_language_is_left_to_the_lexicon(
    lexicon: Tagger,
) -> None:
    tagger = Tagger(TAXONOMY, _model(add=0.01, keep=0.01))
    title = "БДИПЧ ОБСЕ направит наблюдателей на выборы в Армении"
    summary = "Миссия наблюдателей начнёт работу в Ереване на следующей неделе."
    got = tagger.tag_fields(title=title, summary=summary)
    assert got.topics == lexicon.tag_fields(title=title, summary=summary).topics
    assert got.topics  # the lexicon did find something: elections


def test_inferred_topics_of_the_packaged_model_carry_spans_of_their_fields(
    with_model: Tagger,
) -> None:
    fields = {
        "title": "OSCE Mission to Serbia supports training for judges on hate crime cases",
        "summary": (
            "Twenty judges from across Serbia met in Belgrade on 3 May 2021. "
            "ODIHR experts explained how bias motivation is proven in court."
        ),
    }
    tags = with_model.tag_fields(
        **fields, published_at=datetime(2021, 5, 3, tzinfo=UTC), language="en"
    )
    inferred = [t for t in tags.topics if t.source == "inferred"]
    assert inferred
    for tag in inferred:
        assert 0.0 < tag.confidence <= 0.99
        assert tag.evidence
        for ev in tag.evidence:
            assert ev.start is not None
            assert ev.end is not None
            assert fields[ev.field][ev.start : ev.end] == ev.text


# --------------------------------------------------------------------------- hostile input


@pytest.mark.parametrize(
    ("language", "applies"),
    [("en", True), ("en-GB", True), ("EN-us", True), (None, True), ("ru", False), ("sr", False)],
)
def test_the_model_applies_by_primary_language_subtag(language: str | None, applies: bool) -> None:
    assert _model().applies_to(language) is applies


def test_an_oversized_model_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "model.json"
    with path.open("wb") as f:
        f.truncate(17 * 1024 * 1024)
    with pytest.raises(TopicModelError, match=r"model\.json: 17,825,792 bytes; at most"):
        TopicModel.load(path)


def test_a_long_run_without_full_stops_is_cut_into_readable_evidence() -> None:
    summary = " ".join(["zorkle"] + ["word"] * 2000)
    tags = Tagger(TAXONOMY, _model()).tag_fields(title="Officials meet", summary=summary)
    elections = next(t for t in tags.topics if t.id == "elections")
    (evidence,) = elections.evidence
    assert evidence.text.startswith("zorkle")
    assert len(evidence.text) <= 300
    assert summary[evidence.start : evidence.end] == evidence.text
    pieces = split_sentences(1, summary)
    assert "".join(p.text + " " for p in pieces).strip() == summary
    for piece in pieces:
        assert summary[piece.start : piece.end] == piece.text


def test_a_generic_office_phrase_is_resolved_once_per_item(
    monkeypatch: pytest.MonkeyPatch, lexicon: Tagger
) -> None:
    """A body repeating 'OSCE Office' costs one resolution, not one per occurrence."""
    calls: list[str] = []
    original = Tagger._resolve_generic

    def counted(self: Tagger, label: str, *args: Any) -> str | None:
        calls.append(label)
        return original(self, label, *args)

    monkeypatch.setattr(Tagger, "_resolve_generic", counted)
    body = "The OSCE Office and the OSCE Mission met, in Yerevan. " * 500
    lexicon.tag_fields(title="Visit", body=body)
    assert len(calls) == len(set(calls)) >= 1


def test_a_long_title_is_cut_into_readable_evidence_too() -> None:
    title = "Zorkle " + "word " * 90
    tags = Tagger(TAXONOMY, _model()).tag_fields(title=title.strip())
    elections = next(t for t in tags.topics if t.id == "elections")
    (evidence,) = elections.evidence
    assert evidence.field == "title"
    assert len(evidence.text) <= 300
    assert title[evidence.start : evidence.end] == evidence.text


def test_a_tiny_probability_is_never_shown_as_zero() -> None:
    model = _model(bias=[-20.0, -20.0], weights={}, keep=0.01, add=0.01)
    # Nothing reaches 0.01 here; the floor only matters when a threshold lets it in.
    assert Tagger(TAXONOMY, model).tag_fields(title="Anything").topics == []
    assert model.probability(0, -50.0) < 0.0001
