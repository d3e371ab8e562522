"""Feeds: absolute URLs never come from the Host header, and story text (plain
text) reaches feed readers escaped."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from tests.unit.gateway.conftest import Gateway, Start

ATOM = "{http://www.w3.org/2005/Atom}"
SCRIPT = "<script>alert(1)</script>"


def story(**fields: Any) -> dict[str, Any]:
    when = datetime(2021, 1, 7, tzinfo=UTC)
    return {
        "_id": "a" * 32,
        "title": "Elections observed",
        "published_at": when,
        "sort_at": when,
        "topics": [],
        "_v": 1,
        **fields,
    }


async def atom_urls(gw: Gateway, **headers: str) -> tuple[str, str, str]:
    await gw.store(story())
    response = await gw.client.get("/v1/feeds/atom?limit=5", headers=headers)
    assert response.status_code == 200, response.text
    feed = ET.fromstring(response.content)
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    entry_link = feed.find(f"{ATOM}entry/{ATOM}link")
    assert self_link is not None
    assert entry_link is not None
    return feed.findtext(f"{ATOM}id") or "", self_link.get("href", ""), entry_link.get("href", "")


async def test_the_host_header_is_not_reflected(start: Start) -> None:
    async with start() as gw:
        feed_id, self_url, item_url = await atom_urls(gw, Host="evil.example")
    assert feed_id == self_url == "http://127.0.0.1:8000/v1/feeds/atom?limit=5"
    assert item_url == "http://127.0.0.1:8000/v1/items/" + "a" * 32


async def test_urls_come_from_the_public_base_url(start: Start) -> None:
    async with start(public_base_url="https://news.example.org/api/") as gw:
        feed_id, _, item_url = await atom_urls(
            gw, Host="evil.example", **{"X-Forwarded-Host": "evil.example"}
        )
    assert feed_id == "https://news.example.org/api/v1/feeds/atom?limit=5"
    assert item_url == "https://news.example.org/api/v1/items/" + "a" * 32


async def test_proxy_headers_count_only_when_trusted(start: Start) -> None:
    forwarded = {"X-Forwarded-Host": "news.example.org", "X-Forwarded-Proto": "https"}
    async with start() as gw:
        untrusted, _, _ = await atom_urls(gw, **forwarded)
    async with start(trust_proxy_headers=True) as gw:
        trusted, _, _ = await atom_urls(gw, **forwarded)
        bad = await gw.client.get("/v1/feeds/rss", headers={"X-Forwarded-Host": "evil.example/<x>"})
    assert untrusted.startswith("http://127.0.0.1:8000/")
    assert trusted == "https://news.example.org/v1/feeds/atom?limit=5"
    assert b"evil.example" not in bad.content


async def test_story_text_is_escaped_in_both_feeds(start: Start) -> None:
    async with start() as gw:
        await gw.store(story(title=SCRIPT, summary=SCRIPT))
        atom = await gw.client.get("/v1/feeds/atom")
        rss = await gw.client.get("/v1/feeds/rss")
    for response in (atom, rss):
        assert b"<script" not in response.content
    entry = ET.fromstring(atom.content).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}title") == SCRIPT  # plain text, as stored
    summary = entry.find(f"{ATOM}summary")
    assert summary is not None
    assert summary.get("type") == "text"
    item = ET.fromstring(rss.content).find("channel/item")
    assert item is not None
    assert item.findtext("title") == SCRIPT
    # Readers take an RSS description as HTML: it must decode to inert text.
    assert item.findtext("description") == "&lt;script&gt;alert(1)&lt;/script&gt;"


async def test_control_characters_in_the_query_leave_the_feeds_well_formed(start: Start) -> None:
    async with start() as gw:
        await gw.store(story())
        for route in ("/v1/feeds/atom", "/v1/feeds/rss"):
            for q in ("\x01serbia", "\x0belections", "\x1b[31m", "\ufffe x"):
                response = await gw.client.get(route, params={"q": q})
                assert response.status_code == 200
                ET.fromstring(response.content)  # raises if not well-formed
