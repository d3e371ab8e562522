"""The one Jinja2 environment every page renders with.

Autoescaping is on for every template (``.html``), so publisher text is escaped by
default; a template never marks publisher text ``|safe``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.templating import Jinja2Templates
from starlette.staticfiles import StaticFiles

from newsflow import __version__

WEB = Path(__file__).parent
TEMPLATES = WEB / "templates"
STATIC = WEB / "static"


def create_templates() -> Jinja2Templates:
    """Templates with the globals every page's layout needs."""
    templates = Jinja2Templates(directory=TEMPLATES)
    templates.env.globals["version"] = __version__
    return templates


def create_static() -> StaticFiles:
    """The gateway's own CSS, scripts and images, mounted at ``/static``."""
    return StaticFiles(directory=STATIC)
