"""The operator console in a real browser, on the real stack: a poison item becomes a
dead letter on /ops, and once the fault is gone, replaying it from there stores it."""

from __future__ import annotations

import os
import re

import orjson
import pytest
from playwright.sync_api import Browser, Page

from newsflow.runtime.keys import API_KEYS, create
from tests.e2e.browser.conftest import SCREENSHOTS, Watch, open_page
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: Long enough for the console's own refresh (every 5 s) to bring a new dead letter.
SEEN_MS = 40_000


def stories(stack: Stack, query: str) -> int:
    return int(stack.get("/v1/items", q=query).json()["total"])


def screenshots(page: Page, name: str) -> None:
    """The page at desktop and phone width, for the README, when NEWSFLOW_SCREENSHOTS is set."""
    if not os.environ.get("NEWSFLOW_SCREENSHOTS"):
        return
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, width in (("desktop", 1280), ("phone", 375)):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=SCREENSHOTS / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_poison_item_is_replayed_from_the_console_after_the_fix(
    browser: Browser, stack: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    stack.start_with_poisoned_enrichment()
    key = create(stack.items().database[API_KEYS], "Ops desk", ["admin"])

    page, watch = open_page(browser, stack)
    watched.append((page, watch))
    visited: list[str] = []
    page.on("request", lambda request: visited.append(request.url))
    page.goto("/ops")
    page.get_by_label("Admin API key").fill(key)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/ops")
    page.get_by_role("heading", name="Dead letters").wait_for()

    # The session cookie: HttpOnly (scripts cannot read it), SameSite=Strict, no key in it.
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "newsflow_ops"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert key not in cookie["value"]
    assert "newsflow_ops" not in page.evaluate("document.cookie")

    redis = stack.redis()
    redis.xadd("news:ingest", {"item": orjson.dumps({"title": "POISON pill story"})})
    redis.xadd("news:ingest", {"item": orjson.dumps({"title": "A healthy story"})})
    # No reload: the console refreshes by itself and shows the letter with its reason.
    page.get_by_text("Reason: injected failure (fault fail_on)").wait_for(timeout=SEEN_MS)
    screenshots(page, "ops")
    assert stories(stack, "poison pill") == 0

    # The fix: an enrichment without the fault. Replaying from the console stores the story.
    stack.stop("enrichment-bad")
    stack.start("enrichment-2", "enrichment")
    page.get_by_role("button", name=re.compile(r"^Replay dead letter ")).click()
    page.wait_for_url("**/ops?notice=replayed*")
    assert page.get_by_role("status").inner_text() == (
        "The dead letter was put back on its source stream."
    )
    eventually(lambda: stories(stack, "poison pill") == 1, timeout=30)
    assert redis.xlen("news:dead") == 0
    page.get_by_text("No dead letters.").wait_for(timeout=SEEN_MS)

    page.get_by_role("button", name="Log out").click()
    page.get_by_label("Admin API key").wait_for()
    assert [c for c in page.context.cookies() if c["name"] == "newsflow_ops"] == []
    assert visited
    assert [url for url in visited if key in url or key.split("_", 2)[2] in url] == []
    assert key not in stack.log("gateway-1")
    redis.close()


def test_a_wrong_key_gets_the_form_again_with_the_reason(
    browser: Browser, module_stack: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    page, watch = open_page(browser, module_stack)
    watched.append((page, watch))
    page.goto("/ops")
    page.get_by_label("Admin API key").fill("nfk_0123456789abcdef_" + "x" * 43)
    response_status: list[int] = []
    page.on(
        "response", lambda r: response_status.append(r.status) if "/ops/login" in r.url else None
    )
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("alert").wait_for()
    assert page.get_by_role("alert").inner_text() == "Unknown or revoked API key."
    assert response_status == [401]
    # Chromium logs the 401 it was answered as a failed load: the one console error
    # this page may show, and the only one it showed.
    assert watch.errors == [
        "Failed to load resource: the server responded with a status of 401 (Unauthorized)"
    ]
    watch.errors.clear()
    assert page.context.cookies() == []


def test_the_console_works_with_javascript_off(
    browser: Browser, module_stack: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    key = create(module_stack.items().database[API_KEYS], "Ops desk", ["admin"])
    page, watch = open_page(browser, module_stack, java_script_enabled=False)
    watched.append((page, watch))
    page.goto("/ops")
    page.get_by_label("Admin API key").fill(key)
    page.get_by_label("Admin API key").press("Enter")
    page.wait_for_url("**/ops")
    page.get_by_role("heading", name="Streams").wait_for()
    assert page.get_by_role("link", name="reload").is_visible()
    page.get_by_role("button", name="Log out").press("Enter")
    page.get_by_label("Admin API key").wait_for()
    assert page.context.cookies() == []
