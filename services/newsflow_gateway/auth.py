"""API-key authentication and scopes for the gateway.

Keys arrive as ``Authorization: Bearer nfk_<id>_<secret>``; the id finds the
stored hash and the secret is compared in constant time (:mod:`newsflow.runtime.keys`).
Publishing always needs a key with the ``publish`` scope; reading needs ``read``
only when ``read_requires_key`` is set; ``/metrics`` on the public port then
needs ``admin``. Publishing is rate-limited per key (:func:`rate_limit`).
"""

from __future__ import annotations

import math
import secrets
import time
from typing import Annotated

from fastapi import Depends, Request

from newsflow.runtime.keys import API_KEYS, ApiKey, parse_key, verify
from newsflow_gateway.deps import StateDep
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.state import GatewayState

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="newsflow"'}


async def authenticate(request: Request, state: StateDep) -> ApiKey | None:
    """The caller's key, None when no Authorization header was sent; 401 when bad."""
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    parsed = parse_key(token.strip()) if scheme.lower() == "bearer" else None
    if parsed is None:
        raise ProblemError(
            401, "Unauthorized", "malformed API key; send 'Bearer nfk_...'", headers=CHALLENGE
        )
    key = await key_for(state, *parsed)
    if key is None:
        raise ProblemError(401, "Unauthorized", "unknown or revoked API key", headers=CHALLENGE)
    return key


async def key_for(state: GatewayState, key_id: str, secret: str) -> ApiKey | None:
    """The stored key with this id if ``secret`` is its secret and it is not revoked."""
    return verify(await state.db[API_KEYS].find_one({"_id": key_id}), secret)


def require(scope: str) -> object:
    async def dependency(
        key: Annotated[ApiKey | None, Depends(authenticate)],
    ) -> ApiKey:
        if key is None:
            raise ProblemError(
                401,
                "Unauthorized",
                f"an API key with the '{scope}' scope is required",
                headers=CHALLENGE,
            )
        if scope not in key.scopes:
            raise ProblemError(403, "Forbidden", f"this key lacks the '{scope}' scope")
        return key

    return Depends(dependency)


async def read_access(
    state: StateDep, key: Annotated[ApiKey | None, Depends(authenticate)]
) -> None:
    """Router dependency of every read endpoint: open, or keyed by configuration."""
    if not state.settings.read_requires_key:
        return
    if key is None:
        raise ProblemError(
            401, "Unauthorized", "reading needs an API key with the 'read' scope", headers=CHALLENGE
        )
    if "read" not in key.scopes and "admin" not in key.scopes:
        raise ProblemError(403, "Forbidden", "this key lacks the 'read' scope")


async def metrics_access(
    state: StateDep, key: Annotated[ApiKey | None, Depends(authenticate)]
) -> None:
    """``/metrics`` on the public port: open while reading is, else ``admin`` only
    (request counts by route say who uses the API how much)."""
    if not state.settings.read_requires_key:
        return
    if key is None:
        raise ProblemError(
            401, "Unauthorized", "metrics need an API key with the 'admin' scope", headers=CHALLENGE
        )
    if "admin" not in key.scopes:
        raise ProblemError(403, "Forbidden", "this key lacks the 'admin' scope")


RATE_WINDOW_S = 60


async def rate_limit(
    state: GatewayState, key_id: str, *, now: float | None = None, limit: int | None = None
) -> None:
    """At most ``limit`` (by default ``rate_limit_per_minute``) requests per key in any
    60 seconds, shared by every gateway replica: a sliding-window log in a Redis sorted set.

    Fixed one-minute windows let twice the limit through across a minute boundary.
    Here each admitted request is a member scored by its time; a request is admitted
    when, counting itself, no more than the limit fall in the last 60 seconds. A
    refused request removes its own member, so refusals do not count. Two requests
    racing for the last place may both be refused: never more than the limit pass.
    """
    limit = state.settings.rate_limit_per_minute if limit is None else limit
    now = time.time() if now is None else now
    log_key = f"newsflow:rate:{key_id}"
    member = f"{now:.6f}:{secrets.token_hex(6)}"
    pipe = state.redis.pipeline(transaction=True)
    pipe.zremrangebyscore(log_key, "-inf", now - RATE_WINDOW_S)
    pipe.zadd(log_key, {member: now})
    pipe.zcard(log_key)
    pipe.zrange(log_key, 0, 0, withscores=True)
    pipe.expire(log_key, RATE_WINDOW_S + 1)
    _, _, count, oldest, _ = await pipe.execute()
    if int(count) <= limit:
        return
    await state.redis.zrem(log_key, member)
    # A place frees up when the oldest admitted request leaves the window.
    retry = math.ceil(float(oldest[0][1]) + RATE_WINDOW_S - now) if oldest else RATE_WINDOW_S
    raise ProblemError(
        429,
        "Too Many Requests",
        f"at most {limit} requests per minute",
        headers={"Retry-After": str(min(max(retry, 1), RATE_WINDOW_S))},
    )


PublisherKey = Annotated[ApiKey, require("publish")]
AdminKey = Annotated[ApiKey, require("admin")]
ReadAccess = Depends(read_access)
MetricsAccess = Depends(metrics_access)
