"""Enrichment with the statistical topic model on, as a real process, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from newsflow.domain.tagging import TopicModel
from newsflow.domain.taxonomy import load_taxonomy
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

TITLE = "OSCE Mission to Serbia trains judges on hate crime cases"
SUMMARY = (
    "Twenty judges from across Serbia met in Belgrade on 3 May 2021. "
    "Experts explained how bias motivation is proven in court."
)


def test_stored_topics_come_from_the_model_with_sentences_as_evidence(stack: Stack) -> None:
    stack.start("ingest-1", "ingest")
    stack.start("enrichment-1", "enrichment", NEWSFLOW_TOPIC_MODEL="true")
    stack.start("storage-1", "storage")
    item = {"title": TITLE, "summary": SUMMARY, "source": "e2e", "published_at": "2021-05-03"}
    stack.redis().xadd("news:ingest", {"item": orjson.dumps(item)})

    def stored() -> dict[str, Any] | None:
        return stack.items().find_one({"title": TITLE})

    doc = eventually(stored, timeout=30)
    version = f"{load_taxonomy().version}+{TopicModel.load().version}"
    assert doc["taxonomy_version"] == version
    topics = [t for t in doc["topics"] if t["source"] == "inferred"]
    assert topics, doc["topics"]
    texts = {"title": TITLE, "summary": SUMMARY}
    for tag in topics:
        assert 0.0 < tag["confidence"] <= 0.99
        for ev in tag["evidence"]:
            assert texts[ev["field"]][ev["start"] : ev["end"]] == ev["text"]


def test_a_bad_model_file_stops_enrichment_at_start_with_a_reason(
    stack: Stack, tmp_path: Path
) -> None:
    bad = tmp_path / "model.json"
    bad.write_text('{"format": 1}', encoding="utf-8")
    proc = stack.start(
        "enrichment-bad",
        "enrichment",
        NEWSFLOW_TOPIC_MODEL="true",
        NEWSFLOW_TOPIC_MODEL_PATH=str(bad),
    )
    assert proc.wait(timeout=30) == 78  # EX_CONFIG: restarting it would not help
    log = stack.log("enrichment-bad")
    assert "Cannot start with EnrichmentSettings: topic model" in log
    assert str(bad) in log
    assert "Traceback" not in log
