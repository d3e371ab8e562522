"""The reader's pages: search and browse."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from newsflow_gateway.web.templating import create_templates

router = APIRouter(include_in_schema=False)
templates = create_templates()


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, q: Annotated[str, Query(max_length=500)] = "") -> HTMLResponse:
    """The newsroom's front page."""
    return templates.TemplateResponse(request, "home.html", {"q": q})
