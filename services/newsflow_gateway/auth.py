"""API-key authentication and scopes for the gateway.

Keys arrive as ``Authorization: Bearer nfk_<id>_<secret>``; the id finds the
stored hash and the secret is compared in constant time (:mod:`newsflow.runtime.keys`).
Publishing always needs a key with the ``publish`` scope; reading needs ``read``
only when ``read_requires_key`` is set.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from newsflow.runtime.keys import API_KEYS, ApiKey, parse_key, verify
from newsflow_gateway.deps import StateDep
from newsflow_gateway.problems import ProblemError

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
    key_id, secret = parsed
    doc = await state.db[API_KEYS].find_one({"_id": key_id})
    key = verify(doc, secret)
    if key is None:
        raise ProblemError(401, "Unauthorized", "unknown or revoked API key", headers=CHALLENGE)
    return key


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


PublisherKey = Annotated[ApiKey, require("publish")]
AdminKey = Annotated[ApiKey, require("admin")]
ReadAccess = Depends(read_access)
