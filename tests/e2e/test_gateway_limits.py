"""A strictly configured gateway: rate limits, backpressure, keyed reading, CORS.

Its own module, so that no other module's running stack shares its Redis.
"""

from __future__ import annotations

import httpx
import orjson
import pytest

from newsflow.runtime.keys import API_KEYS, create
from tests.e2e.conftest import Stack
from tests.e2e.test_publishing import GOOD, post, problem

pytestmark = pytest.mark.e2e


def test_rate_limit_backpressure_and_keyed_reading(stack: Stack) -> None:
    """A gateway configured strictly, with no ingest service draining the stream."""
    stack.start(
        "gateway-strict",
        "gateway",
        NEWSFLOW_RATE_LIMIT_PER_MINUTE="4",
        NEWSFLOW_INGEST_MAX_LAG="2",
        NEWSFLOW_READ_REQUIRES_KEY="true",
        NEWSFLOW_CORS_ORIGINS='["https://app.example.org"]',
    )
    col = stack.items().database[API_KEYS]
    key, reader = create(col, "Busy Wire", ["publish"]), create(col, "Reader", ["read"])
    redis = stack.redis()
    redis.xgroup_create("news:ingest", "ingest", id="0", mkstream=True)
    for n in range(3):  # three items waiting, none read: lag 3 > 2
        redis.xadd("news:ingest", {"item": orjson.dumps({**GOOD, "title": f"Waiting {n}"})})
    redis.close()
    lagging = post(stack, key, GOOD)
    assert problem(lagging, 503)["detail"] == "the pipeline is 3 items behind; retry later"
    assert lagging.headers["retry-after"] == "10"
    for _ in range(3):
        assert post(stack, key, GOOD).status_code == 503
    busy = post(stack, key, GOOD)  # the fifth request this minute
    problem(busy, 429)
    assert 1 <= int(busy.headers["retry-after"]) <= 60

    problem(stack.get("/v1/items"), 401)
    problem(stack.get("/metrics"), 401)  # as closed as reading, and admin only
    read_metrics = httpx.get(
        f"{stack.gateway}/metrics", headers={"Authorization": f"Bearer {reader}"}
    )
    problem(read_metrics, 403)
    preflight = httpx.options(
        f"{stack.gateway}/v1/items",
        headers={
            "Origin": "https://app.example.org",
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "Authorization",
        },
    )
    assert preflight.headers["access-control-allow-origin"] == "https://app.example.org"
    other = httpx.options(
        f"{stack.gateway}/v1/items",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in other.headers
    keyed = httpx.get(f"{stack.gateway}/v1/items", headers={"Authorization": f"Bearer {reader}"})
    assert keyed.status_code == 200


def test_forwarded_headers_are_ignored_unless_trusted(stack: Stack) -> None:
    """Without NEWSFLOW_TRUST_PROXY_HEADERS, X-Forwarded-For does not change who the
    client is: the login limit (2 a minute here) holds whatever address is claimed,
    and X-Forwarded-Proto: https does not make the session cookie Secure."""
    stack.start("gateway-direct", "gateway", NEWSFLOW_OPS_LOGIN_PER_MINUTE="2")
    admin = create(stack.items().database[API_KEYS], "Ops desk", ["admin"])
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    answers = [
        httpx.post(
            f"{stack.gateway}/ops/login",
            content="key=nfk_0000000000000000_" + "x" * 43,
            headers={**form, "X-Forwarded-For": f"203.0.113.{n}"},
            timeout=30,
        ).status_code
        for n in range(4)
    ]
    assert answers == [401, 401, 429, 429]
    stack.stop("gateway-direct")
    stack.start("gateway-direct-2", "gateway")
    login = httpx.post(
        f"{stack.gateway}/ops/login",
        content=f"key={admin}",
        headers={**form, "X-Forwarded-Proto": "https"},
        timeout=30,
    )
    assert login.status_code == 303
    assert "secure" not in login.headers["set-cookie"].lower()
