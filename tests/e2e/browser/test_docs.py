"""The API docs render offline: Swagger UI and ReDoc come from the gateway itself,
under the page CSP, with no console error and no request leaving the host."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser.conftest import Watch, open_page
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_swagger_ui_lists_the_operations(
    browser: Browser, module_stack: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    page, watch = open_page(browser, module_stack)
    watched.append((page, watch))
    response = page.goto("/docs")
    assert response is not None
    assert "unsafe" not in response.headers["content-security-policy"]
    search = page.locator(".opblock-summary", has_text="/v1/items").first
    search.wait_for()
    assert "Search stories" in search.inner_text()
    page.locator(".opblock-summary", has_text="/v1/admin/dead-letters").first.wait_for()


def test_redoc_renders_the_reference(
    browser: Browser, module_stack: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    page, watch = open_page(browser, module_stack)
    watched.append((page, watch))
    response = page.goto("/redoc")
    assert response is not None
    assert "unsafe" not in response.headers["content-security-policy"]
    page.get_by_role("heading", name="Search stories").first.wait_for()
    assert (
        page.get_by_role("heading", level=1).first.inner_text().startswith("Newsflow query gateway")
    )
