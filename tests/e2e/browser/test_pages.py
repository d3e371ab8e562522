"""The reader's pages in a real browser, on the real stack: the sample newsroom plus
a few stories written here, loaded once for the module.

Every page opened through ``watched`` fails its test on a console error or on a
request to anything but the gateway.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson
import pytest
from playwright.sync_api import Browser, Page, expect

from newsflow.domain.formats.newsroom import parse_newsroom
from tests.conftest import SAMPLE
from tests.e2e.browser.axe import violations
from tests.e2e.browser.conftest import SCREENSHOTS, Watch, open_page
from tests.e2e.conftest import Stack
from tests.helpers import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
#: Ingest strips markup from titles (the bare HOSTILE title is rejected as blank), so
#: it is published entity-escaped: ingest decodes it and stores "Hostile " + HOSTILE.
HOSTILE_PUBLISHED = "Hostile " + HOSTILE.replace("<", "&lt;").replace(">", "&gt;")
MOLDOVA = "OSCE Mission to Moldova"
#: Stories of one office: more than a page (20) of them.
PAGED = 25


def written() -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = [
        {
            "title": f"Border training number {n} for officers from Albania",
            "summary": f"Course {n}: border officers discussed elections and the rule of law.",
            "published_at": f"2022-03-{1 + n:02d}T09:00:00Z",
            "offices": [MOLDOVA],
            "content_type": "News",
            "language": "en",
        }
        for n in range(PAGED)
    ]
    items.append(
        {
            "title": HOSTILE_PUBLISHED,
            "summary": "Hostile onerror text " + HOSTILE_PUBLISHED,
            "published_at": "2022-01-05T00:00:00Z",
            "offices": ["OSCE Secretariat"],
            "language": "en",
        }
    )
    return items


def push(stack: Stack, items: list[dict[str, Any]]) -> None:
    redis = stack.redis()
    for item in items:
        redis.xadd("news:ingest", {"item": orjson.dumps(item)})
    redis.close()


@pytest.fixture(scope="module")
def newsroom(module_stack: Stack) -> Stack:
    """The stack with the sample newsroom (7 items, 6 stories) and the written ones."""
    sample = [p.item for p in parse_newsroom(SAMPLE.read_text(encoding="utf-8")).items]
    items = sample + written()
    push(module_stack, items)
    expected = len(items) - 1  # one sample story is published twice
    totals: list[int] = []

    def loaded() -> bool:
        totals.append(module_stack.get("/v1/items").json()["total"])
        return totals[-1] == expected

    try:
        eventually(loaded, timeout=90)
    except AssertionError:
        redis = module_stack.redis()
        rejected = redis.xrange("news:rejected")
        redis.close()
        raise AssertionError(f"stored {totals[-1:]} of {expected}; rejected: {rejected}") from None
    return module_stack


@pytest.fixture
def page(browser: Browser, newsroom: Stack, watched: list[tuple[Page, Watch]]) -> Page:
    opened, watch = open_page(browser, newsroom)
    watched.append((opened, watch))
    return opened


def result_titles(page: Page) -> list[str]:
    return page.locator(".result h3").all_inner_texts()


def test_search_toggle_a_facet_page_on_and_open_a_story(page: Page) -> None:
    response = page.goto("/")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator("#result-count")).to_have_text(f"{PAGED + 7} stories")
    # toggling a facet swaps the results in place and puts the filter in the URL
    page.get_by_label(f"{MOLDOVA} ({PAGED})").check()
    page.wait_for_url("**/?sort=newest&office=mission-moldova")
    expect(page.locator("#result-count")).to_have_text(f"{PAGED} stories")
    expect(page.locator(".chip")).to_have_text([f"Office: {MOLDOVA} ×"])
    # the office counts are as if no office were checked: the others can still be added
    expect(page.get_by_label(f"{MOLDOVA} ({PAGED})")).to_be_checked()
    expect(page.locator("#f-office-secretariat")).not_to_be_checked()
    first = result_titles(page)
    assert len(first) == 20
    page.get_by_role("link", name="Older stories").click()
    page.wait_for_url("**cursor=*")
    older = result_titles(page)
    assert len(older) == PAGED - 20
    assert not set(first) & set(older)
    # the story: its inferred country is marked in the title, with a tooltip on focus
    page.get_by_role("link", name=older[0]).click()
    page.wait_for_url("**/stories/*")
    mark = page.locator("h1 mark.evidence").first
    expect(mark).to_have_text("Albania", use_inner_text=True)
    tip = mark.locator(".tip")
    expect(tip).to_be_hidden()
    mark.focus()
    expect(tip).to_be_visible()
    expect(tip).to_contain_text("Country: Albania · inferred · confidence")
    expect(page.locator(".copies tbody tr")).to_have_count(1)
    expect(page.locator(".copies")).to_contain_text(MOLDOVA)


def test_a_matching_story_arriving_shows_the_banner(
    page: Page, browser: Browser, newsroom: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    office, watch = open_page(browser, newsroom)  # the office's page follows it live too
    watched.append((office, watch))
    for opened, path in (
        (page, "/?office=mission-moldova&q=zanzibar"),
        (office, "/offices/mission-moldova"),
    ):
        with opened.expect_response(lambda r: "/v1/stream" in r.url) as stream:
            opened.goto(path)
        assert stream.value.status == 200
    expect(page.locator("#result-count")).to_have_text("0 stories")
    push(newsroom, [{"title": "Zanzibar delegation visits Chisinau", "offices": [MOLDOVA]}])
    for opened in (page, office):
        banner = opened.locator("#live-button")
        expect(banner).to_have_text("1 new story — show them", timeout=30_000)
        banner.click()
        expect(opened.locator(".result h3").first).to_have_text(
            "Zanzibar delegation visits Chisinau"
        )
        expect(banner).to_be_hidden()
    expect(page.locator(".result h3")).to_have_count(1)


def test_search_with_the_keyboard_only(page: Page) -> None:
    page.goto("/")

    def tab_to(check: str, limit: int = 60) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate(check):
                return
        raise AssertionError(f"Tab never reached {check}")

    tab_to("document.activeElement.id === 'q'")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.type("asset recovery")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=asset+recovery&sort=newest")
    expect(page.locator(".result mark").first).to_be_visible()
    # a filter toggled with the space bar: the results change, the focus stays put
    tab_to("document.activeElement.type === 'checkbox'")
    toggled = page.evaluate("document.activeElement.id")
    page.keyboard.press("Space")
    page.wait_for_url("**&topic=*")
    assert page.evaluate("document.activeElement.id") == toggled
    expect(page.locator(".chip")).to_have_count(2)
    tab_to("document.activeElement.matches('.result h3 a')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/stories/*")
    expect(page.locator("h1")).to_contain_text("asset recovery")


def test_search_filters_and_paging_work_without_javascript(
    browser: Browser, newsroom: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    page, watch = open_page(browser, newsroom, java_script_enabled=False)
    watched.append((page, watch))
    page.goto("/?q=border")
    expect(page.locator("#result-count")).to_have_text(f"{PAGED} stories")
    expect(page.locator("#live-button")).to_be_hidden()
    page.get_by_label("News (").check()
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url("**content_type=news*")
    expect(page.locator(".chip")).to_have_count(2)
    page.get_by_role("link", name="Older stories").click()
    page.wait_for_url("**cursor=*")
    assert len(result_titles(page)) == PAGED - 20
    page.get_by_role("link", name="Remove Content type: News").click()
    expect(page.locator(".chip")).to_have_count(1)


def test_publisher_text_stays_text(page: Page) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto("/?q=onerror")
    expect(page.locator(".result h3")).to_have_text(["Hostile " + HOSTILE])
    page.locator(".result h3 a").click()
    page.wait_for_url("**/stories/*")
    expect(page.locator("h1")).to_have_text("Hostile " + HOSTILE)
    assert page.locator("img").count() == 0
    assert dialogs == []


def test_bad_input_is_a_page_with_a_4xx(browser: Browser, newsroom: Stack) -> None:
    """Chromium logs every 4xx document as a console error, so this page is not
    watched; it checks that those are the only errors."""
    page, watch = open_page(browser, newsroom)
    try:
        for path, status in (
            ("/?q=elections%20OR", 422),
            ("/?topic=nope", 422),
            ("/stories/" + "0" * 32, 404),
            ("/offices/nope", 404),
        ):
            response = page.goto(path)
            assert response is not None
            assert response.status == status
            expect(page.locator("[role=alert]")).to_be_visible()
    finally:
        page.context.close()
    assert [e for e in watch.errors if not e.startswith("Failed to load resource")] == []
    assert watch.foreign == []


def pages_to_check(newsroom: Stack) -> dict[str, str]:
    story = newsroom.get("/v1/items", q="asset recovery").json()["items"][0]["id"]
    return {
        "search": "/",
        "search-filtered": "/?q=training&office=mission-moldova&sort=relevance",
        "story": f"/stories/{story}",
        "offices": "/offices",
        "office": "/offices/odihr",
        "topics": "/topics",
        "topic": "/topics/elections",
        "countries": "/countries",
        "country": "/countries/al",
    }


def test_every_page_passes_axe(browser: Browser, newsroom: Stack) -> None:
    page, _ = open_page(browser, newsroom, bypass_csp=True)
    found = {}
    try:
        # an error page too: its 404 is logged by Chromium, so it is not watched here
        for name, path in {**pages_to_check(newsroom), "not-found": "/offices/nope"}.items():
            page.goto(path)
            found[name] = violations(page)
    finally:
        page.context.close()
    assert {k: v for k, v in found.items() if v} == {}


@pytest.mark.parametrize(
    ("width", "height", "label"), [(1280, 800, "desktop"), (390, 844, "phone")]
)
def test_every_page_fits_the_screen(
    browser: Browser,
    newsroom: Stack,
    watched: list[tuple[Page, Watch]],
    tmp_path: Path,
    width: int,
    height: int,
    label: str,
) -> None:
    """No page scrolls sideways at phone or desktop width. With NEWSFLOW_SCREENSHOTS=1
    the screenshots land in docs/screenshots for the README."""
    page, watch = open_page(browser, newsroom, viewport={"width": width, "height": height})
    watched.append((page, watch))
    folder = SCREENSHOTS if os.environ.get("NEWSFLOW_SCREENSHOTS") == "1" else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    wide = {}
    for name, path in pages_to_check(newsroom).items():
        page.goto(path)
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            wide[name] = scroll
        page.screenshot(path=folder / f"{name}-{label}.png")
    assert wide == {}
