"""Answers the routes did not choose: a 500 from an escaped exception, and 404/405
for paths and methods nobody serves. Each carries the security headers, and a
browser asking for a page gets a page."""

from __future__ import annotations

import pytest

from newsflow_gateway.web.security import API_CSP, PAGE_CSP, SECURITY_HEADERS
from tests.unit.gateway.conftest import Start, assert_problem
from tests.unit.gateway.test_metrics import add_failing_route


async def test_a_500_carries_the_security_headers(start: Start) -> None:
    async with start(setup=add_failing_route) as gw:
        response = await gw.client.get("/boom")
        assert_problem(response, 500)
        assert response.headers["content-security-policy"] == API_CSP
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value


BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/stories/", 404),
        ("GET", "/nonexistent", 404),
        ("GET", "/ops/nowhere", 404),
        ("POST", "/", 405),
        ("GET", "/ops/logout", 405),
    ],
)
async def test_a_browser_off_the_api_gets_an_error_page(
    start: Start, method: str, path: str, status: int
) -> None:
    async with start() as gw:
        page = await gw.client.request(method, path, headers=BROWSER)
        assert page.status_code == status
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == PAGE_CSP
        assert f"Error {status}" in page.text
        if status == 405:
            assert "allow" in page.headers
        # Any other client still gets the problem.
        problem = await gw.client.request(method, path, headers={"Accept": "*/*"})
        assert_problem(problem, status)
        if status == 405:
            assert problem.headers["allow"] == page.headers["allow"]


@pytest.mark.parametrize("path", ["/v1/nothing", "/v1", "/openapi.json", "/healthz"])
async def test_the_api_answers_problems_even_to_a_browser(start: Start, path: str) -> None:
    async with start() as gw:
        method = "POST" if path in ("/healthz", "/openapi.json") else "GET"
        response = await gw.client.request(method, path, headers=BROWSER)
        assert response.headers["content-type"] == "application/problem+json", path
        assert response.status_code in (404, 405)
