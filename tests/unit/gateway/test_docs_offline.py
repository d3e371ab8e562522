"""/docs and /redoc load every file from the gateway, under the page CSP."""

from __future__ import annotations

import re

from newsflow_gateway.web.security import PAGE_CSP
from tests.unit.gateway.conftest import Start


async def test_docs_pages_load_only_the_gateways_files_and_no_inline_script(
    start: Start,
) -> None:
    async with start() as gw:
        for path in ("/docs", "/redoc"):
            page = await gw.client.get(path)
            assert page.status_code == 200
            assert "cdn" not in page.text.lower()
            assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None, "inline script"
            assert "<style" not in page.text
            assert "style=" not in page.text
            urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
            assets = [u for u in urls if u.endswith((".js", ".css", ".svg"))]
            assert len(assets) >= 3, urls
            for url in assets:
                assert url.startswith("/"), url
                response = await gw.client.get(url)
                assert response.status_code == 200, url
        assert (await gw.client.get("/docs")).headers["content-security-policy"] == PAGE_CSP


async def test_redoc_admits_only_its_own_nonce_and_its_bundle_names_no_cdn(
    start: Start,
) -> None:
    async with start() as gw:
        nonces = []
        for _ in range(2):
            page = await gw.client.get("/redoc")
            (nonce,) = re.findall(r'data-nonce="([^"]+)"', page.text)
            policy = page.headers["content-security-policy"]
            assert f"'nonce-{nonce}'" in policy
            assert "unsafe-inline" not in policy
            assert "script-src 'self';" in policy
            nonces.append(nonce)
        assert nonces[0] != nonces[1]
        bundle = await gw.client.get("/docs-assets/redoc.standalone.js")
        assert bundle.status_code == 200
        assert b"cdn.redoc.ly" not in bundle.content
        assert bundle.headers["content-type"].startswith("text/javascript")


async def test_the_default_cdn_pages_are_gone(start: Start) -> None:
    async with start() as gw:
        schema = (await gw.client.get("/openapi.json")).json()
        assert "/docs" not in schema["paths"]
        assert "/redoc" not in schema["paths"]
        redirect = await gw.client.get("/docs/oauth2-redirect")
        assert redirect.status_code == 404
