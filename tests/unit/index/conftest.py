"""Stories shaped like storage's MongoDB documents, and a fresh index per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsflow_gateway.index.index import SearchIndex

Story = Callable[..., dict[str, Any]]


def make_story(
    story_id: str,
    title: str = "A story",
    *,
    summary: str | None = None,
    body: str | None = None,
    language: str | None = "en",
    sort_at: datetime | None = None,
    topics: list[str] | None = None,
    offices: list[dict[str, Any]] | None = None,
    countries: list[str] | None = None,
    content_type: str | None = None,
) -> dict[str, Any]:
    office_tags = offices or []
    return {
        "_id": story_id,
        "title": title,
        "summary": summary,
        "body": body,
        "url": f"https://example.org/{story_id}",
        "language": language,
        "published_at": sort_at,
        "sort_at": sort_at or datetime(2024, 1, 1, tzinfo=UTC),
        "offices": office_tags,
        "topics": [{"id": t, "name": t.replace("-", " ").title()} for t in topics or []],
        "countries": [{"id": c, "name": c.upper()} for c in countries or []],
        "content_type": {"id": content_type, "name": content_type} if content_type else None,
        "office_ids": [o["id"] for o in office_tags],
        "topic_ids": topics or [],
        "country_ids": countries or [],
        "content_type_id": content_type,
    }


@pytest.fixture
def story() -> Story:
    return make_story


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SearchIndex]:
    ix = SearchIndex.open_or_create(tmp_path / "index")
    yield ix
    ix.close()
