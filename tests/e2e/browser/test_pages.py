"""Reader pages in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page

from tests.e2e.browser.conftest import Watch, open_page
from tests.e2e.conftest import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_front_page_loads_only_from_the_gateway(
    browser: Browser, module_stack: Stack, watched: list[tuple[Page, Watch]]
) -> None:
    page, watch = open_page(browser, module_stack)
    watched.append((page, watch))
    response = page.goto("/")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.get_by_label("Search stories").fill("asset recovery")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=asset+recovery")
    assert page.get_by_label("Search stories").input_value() == "asset recovery"
