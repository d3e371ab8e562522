"""axe-core, from the npm registry, run inside a page.

``make install`` puts it in ``.venv/npm`` (the ``axe`` step). When it is missing the
checks fail saying how to install it: an accessibility check never skips silently.

Playwright's ``add_script_tag(path=...)`` inlines the file, which the page's CSP
(``script-src 'self'``) refuses, as it should. So axe runs in a context made with
``bypass_csp=True``, used for nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[3] / ".venv" / "npm" / "node_modules" / "axe-core"
INSTALL_HINT = (
    "axe-core is not installed: run `make axe` (it runs "
    "`npm install --prefix .venv/npm axe-core@4`; install npm first if it is missing)."
)
#: What fails a page: axe's two highest impacts.
BLOCKING = ("serious", "critical")
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]


def axe_script() -> Path:
    script = AXE / "axe.min.js"
    if not script.is_file():
        pytest.fail(INSTALL_HINT, pytrace=False)
    return script


def violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(axe_script()))
    found: list[dict[str, Any]] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))})))",
        TAGS,
    )
    return [v for v in found if v["impact"] in BLOCKING]
