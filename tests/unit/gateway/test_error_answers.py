"""Answers the routes did not choose: a 500 from an escaped exception, and 404/405
for paths and methods nobody serves. Each carries the security headers, and a
browser asking for a page gets a page."""

from __future__ import annotations

from newsflow_gateway.web.security import API_CSP, SECURITY_HEADERS
from tests.unit.gateway.conftest import Start, assert_problem
from tests.unit.gateway.test_metrics import add_failing_route


async def test_a_500_carries_the_security_headers(start: Start) -> None:
    async with start(setup=add_failing_route) as gw:
        response = await gw.client.get("/boom")
        assert_problem(response, 500)
        assert response.headers["content-security-policy"] == API_CSP
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
