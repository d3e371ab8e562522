"""The API documentation pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), offline.

FastAPI's own pages load Swagger UI and ReDoc from a CDN and start Swagger UI with
an inline script, so on a machine without internet they are blank, and the page
CSP would block them anyway. Here the files come from the ``fastapi-offline``
package (MIT; it vendors the swagger-ui-dist and redoc bundles) and are served by
the gateway at ``/docs-assets``; the pages are our own templates, and Swagger UI is
started by ``static/docs.js``. Both pages then run under the same CSP as every
other page: nothing but the gateway's own files.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path
from typing import Final

import fastapi_offline
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles

from newsflow_gateway.web.security import PAGE_CSP
from newsflow_gateway.web.templating import create_templates

#: Where the vendored Swagger UI and ReDoc bundles are served from.
ASSETS_URL: Final = "/docs-assets"
ASSETS_DIR: Final = Path(fastapi_offline.__file__).parent / "static"

#: ReDoc's footer shows a logo fetched from Redocly's CDN: a request leaving the host.
#: Our copy of the bundle shows an empty image instead (the text link stays).
REDOC_LOGO: Final = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
EMPTY_IMAGE: Final = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg'/%3E"
#: Two ``<style>`` elements the ReDoc bundle adds as it loads, before any nonce is
#: known: one empty, one with fixed content. Allowed by their SHA-256, so a change
#: of bundle that adds others shows up as CSP errors in tests/e2e/browser/test_docs.py.
REDOC_STYLE_HASHES: Final = (
    "'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
    "'sha256-QMIg+bpjm3JdElJ388KYke01izlUW0UoNOeKjpMxdgc='",
)

router = APIRouter(include_in_schema=False)
templates = create_templates()


@cache
def _redoc_bundle() -> bytes:
    bundle = (ASSETS_DIR / "redoc.standalone.js").read_bytes()
    return bundle.replace(REDOC_LOGO, EMPTY_IMAGE)


def _context(request: Request) -> dict[str, str]:
    app: FastAPI = request.app
    return {"title": app.title, "openapi_url": app.openapi_url or "", "assets": ASSETS_URL}


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    """The OpenAPI document in Swagger UI, every file served by the gateway."""
    return templates.TemplateResponse(request, "docs.html", _context(request))


@router.get("/redoc", response_class=HTMLResponse)
async def redoc(request: Request) -> HTMLResponse:
    """The OpenAPI document in ReDoc, every file served by the gateway.

    ReDoc styles itself with ``<style>`` elements it makes at run time
    (styled-components), which ``style-src 'self'`` refuses. It puts a nonce on
    each when given one, so this page's policy allows styles carrying a fresh
    per-answer nonce, and nothing else is loosened.
    """
    nonce = secrets.token_urlsafe(18)
    return templates.TemplateResponse(
        request,
        "docs_redoc.html",
        {**_context(request), "nonce": nonce},
        headers={"Content-Security-Policy": redoc_policy(nonce)},
    )


@router.get(f"{ASSETS_URL}/redoc.standalone.js")
async def redoc_bundle() -> Response:
    """The ReDoc bundle, its CDN logo replaced (see :data:`REDOC_LOGO`)."""
    return Response(
        _redoc_bundle(),
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=3600"},
    )


def redoc_policy(nonce: str) -> str:
    """The page CSP, its ``style-src`` also admitting styles that carry ``nonce`` and
    the bundle's own two (:data:`REDOC_STYLE_HASHES`)."""
    allowed = " ".join(("'self'", f"'nonce-{nonce}'", *REDOC_STYLE_HASHES))
    policy = PAGE_CSP.replace("style-src 'self'", f"style-src {allowed}")
    if policy == PAGE_CSP:  # the page policy changed shape: fail loudly, never loosen more
        raise RuntimeError("PAGE_CSP has no \"style-src 'self'\" to extend")
    return policy


def install(app: FastAPI) -> None:
    """Add the two pages and the bundles they load to ``app`` (built with
    ``docs_url=None, redoc_url=None``)."""
    app.include_router(router)
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
