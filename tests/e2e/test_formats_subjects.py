"""IPTC subject codes end to end: a NewsML-G2 message over HTTP to the stored story's topics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from newsflow.domain.taxonomy import load_taxonomy
from newsflow.runtime.keys import API_KEYS, create
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = pytest.mark.e2e

NS = "http://iptc.org/std/nar/2006-10-01/"
GUID = "urn:newsml:example.com:20261129:abc123"


HEADLINE = "Observers publish their preliminary statement"


def wire(version: int, created: str, headline: str = HEADLINE) -> str:
    """A news message with one item of ``version``, written for this test."""
    return f"""<newsMessage xmlns="{NS}"><itemSet>
<newsItem guid="{GUID}" version="{version}">
  <itemMeta><itemClass qcode="ninat:text"/><firstCreated>2026-11-29T09:00:00Z</firstCreated>
    <versionCreated>{created}</versionCreated></itemMeta>
  <contentMeta><headline>{headline}</headline>
    <located qcode="geo:tbilisi"><name>Tbilisi</name></located>
    <subject qcode="medtop:20000574"><name>election</name></subject>
    <subject uri="http://cv.iptc.org/newscodes/subjectcode/11025000"/>
    <subject qcode="medtop:11000000"><name>politics</name></subject></contentMeta>
  <contentSet><inlineData>The statement was presented at a press conference.</inlineData>
  </contentSet></newsItem></itemSet></newsMessage>"""


def post(stack: Stack, key: str, body: str) -> httpx.Response:
    return httpx.post(
        f"{stack.gateway}/v1/items",
        content=body,
        headers={
            "Content-Type": "application/vnd.iptc.g2.newsmessage+xml",
            "Authorization": f"Bearer {key}",
        },
        timeout=60,
    )


def test_codes_become_declared_topics_and_versions_of_a_urn_item_one_story(
    module_stack: Stack,
) -> None:
    stack = module_stack
    key = create(stack.items().database[API_KEYS], "Example Wire", ["publish"])
    first = post(stack, key, wire(1, "2026-11-29T10:00:00Z"))
    assert first.status_code == 202, first.text
    story_id = first.json()["items"][0]["id"]

    def detail() -> dict[str, Any] | None:
        response = stack.get(f"/v1/items/{story_id}")
        found: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        return found

    story = eventually(detail)
    assert story["taxonomy_version"] == load_taxonomy().version
    topics = {t["id"]: t for t in story["topics"]}
    assert topics["elections"]["source"] == "declared"
    assert topics["elections"]["labels"] == ["election (medtop:20000574)"]
    assert topics["media-freedom"]["labels"] == ["subj:11025000"]
    assert topics[None]["name"] == "politics (medtop:11000000)"
    assert topics[None]["resolved"] is False

    # Version 2 of the same URN item corrects the headline: the same story, revised.
    corrected = f"{HEADLINE} (corrected)"
    second = post(stack, key, wire(2, "2026-11-29T15:30:00Z", corrected))
    assert second.status_code == 202, second.text
    assert second.json()["items"][0]["id"] == story_id

    def at_version_2() -> dict[str, Any] | None:
        found = detail()
        return found if found is not None and found["copies"][0]["revision"] == 2 else None

    revised = eventually(at_version_2)
    assert len(revised["copies"]) == 1  # one publisher, one copy, now at version 2
    assert revised["title"] == corrected
