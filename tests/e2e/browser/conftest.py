"""Debian's Chromium, driven by Playwright, against a running stack.

Playwright's own browser download cannot work here, so the browser is the system
one (``/usr/bin/chromium``, or ``NEWSFLOW_CHROMIUM``); ``make install`` installs it
where it can. When it is missing these tests fail and say how to install it: they
are never skipped silently.

Every page a test opens is watched: a console error, or a request to any host but
the gateway, fails the test at teardown.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright
from playwright.sync_api import Request as BrowserRequest

from tests.e2e.conftest import Stack

#: Flags that keep Chromium from calling home on a machine with a closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]

INSTALL_HINT = (
    "Chromium was not found. Install Debian's browser with "
    "`sudo apt-get install chromium chromium-driver` (make install does it when run "
    "as root), or point NEWSFLOW_CHROMIUM at a Chromium binary."
)


def chromium_path() -> str:
    """The browser binary, or a failure that says how to get one."""
    candidates = [os.environ.get("NEWSFLOW_CHROMIUM"), "/usr/bin/chromium", "chromium"]
    for candidate in candidates:
        if candidate and (found := shutil.which(candidate)):
            return found
    pytest.fail(INSTALL_HINT, pytrace=False)


# Module scope, not session: while Playwright's sync API runs, its event loop counts
# as running in this thread, and every async test collected after a browser test
# would fail with "Cannot run the event loop while another loop is running".
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    yield launched
    launched.close()


@dataclass
class Watch:
    """What a page did that no page may do: console errors and foreign requests."""

    origin: str
    errors: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(message.text)

    def request(self, request: BrowserRequest) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if f"{parts.scheme}://{parts.netloc}" != self.origin:
            self.foreign.append(request.url)


def open_page(browser: Browser, stack: Stack, **context: object) -> tuple[Page, Watch]:
    """A new page in its own context, watched; ``context`` goes to ``new_context``."""
    ctx = browser.new_context(base_url=stack.gateway, **context)  # type: ignore[arg-type]
    page = ctx.new_page()
    watch = Watch(origin=stack.gateway)
    page.on("console", watch.console)
    page.on("request", watch.request)
    page.on("pageerror", lambda exc: watch.errors.append(f"uncaught: {exc}"))
    return page, watch


@pytest.fixture
def watched(browser: Browser) -> Iterator[list[tuple[Page, Watch]]]:
    """Pages opened with :func:`open_page` and appended here are checked at teardown."""
    pages: list[tuple[Page, Watch]] = []
    yield pages
    for page, watch in pages:
        page.context.close()
        assert watch.errors == [], f"console errors on {page.url}: {watch.errors}"
        assert watch.foreign == [], f"requests outside the gateway: {watch.foreign}"


#: Screenshots for the README land here when NEWSFLOW_SCREENSHOTS is set.
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
