"""Operator-console sessions: an admin key is checked once, then a cookie stands for it.

The key itself never leaves the login POST: it is not put in a URL, a log line or
a cookie. After it is verified the browser gets an opaque random session id in a
cookie that scripts cannot read (HttpOnly), that no other site's request carries
(SameSite=Strict) and that travels only over TLS when the page came over TLS.
Redis holds, under the id's SHA-256 (so a copy of Redis holds no usable id), the
key's id and the session's CSRF token, with a TTL renewed on use: every gateway
replica sees the same sessions.

Every form posts the session's CSRF token (a synchronizer token); a POST without
it, or with another, is refused. Each request checks that the key is still an
unrevoked admin key, so revoking the key ends its sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Final

from fastapi import Request, Response

from newsflow.runtime.codec import text
from newsflow.runtime.keys import API_KEYS
from newsflow_gateway.state import GatewayState

COOKIE: Final = "newsflow_ops"
#: The cookie is sent only to the console's own paths.
COOKIE_PATH: Final = "/ops"
_PREFIX: Final = "newsflow:ops:session:"


@dataclass(frozen=True)
class Session:
    """A logged-in operator: the admin key's id and the token its forms carry."""

    key_id: str
    csrf: str


def _redis_key(session_id: str) -> str:
    return _PREFIX + hashlib.sha256(session_id.encode()).hexdigest()


def is_https(request: Request, state: GatewayState) -> bool:
    """Whether the browser reached us over TLS: directly, or through a trusted proxy."""
    if request.url.scheme == "https":
        return True
    if state.settings.trust_proxy_headers:
        proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
        return proto == "https"
    return False


async def open_session(
    state: GatewayState, response: Response, request: Request, key_id: str
) -> None:
    """Start a session for the admin key ``key_id`` and set its cookie on ``response``."""
    session_id = secrets.token_urlsafe(32)
    ttl = state.settings.ops_session_ttl_s
    redis_key = _redis_key(session_id)
    pipe = state.redis.pipeline(transaction=True)
    pipe.hset(redis_key, mapping={"key_id": key_id, "csrf": secrets.token_urlsafe(32)})
    pipe.expire(redis_key, ttl)
    await pipe.execute()
    response.set_cookie(
        COOKIE,
        session_id,
        max_age=ttl,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=is_https(request, state),
    )


async def current_session(state: GatewayState, request: Request) -> Session | None:
    """The request's session, None when there is none, it expired, or its key was
    revoked or lost the admin scope. A live session's TTL starts again."""
    session_id = request.cookies.get(COOKIE)
    if not session_id or len(session_id) > 100:
        return None
    redis_key = _redis_key(session_id)
    stored = await state.redis.hgetall(redis_key)
    if not stored:
        return None
    fields = {text(k): text(v) for k, v in stored.items()}
    doc = await state.db[API_KEYS].find_one({"_id": fields.get("key_id", "")})
    if not doc or doc.get("revoked_at") or "admin" not in doc.get("scopes", []):
        await state.redis.delete(redis_key)
        return None
    await state.redis.expire(redis_key, state.settings.ops_session_ttl_s)
    return Session(fields["key_id"], fields.get("csrf", ""))


async def close_session(state: GatewayState, request: Request, response: Response) -> None:
    """End the request's session, in Redis and in the browser."""
    session_id = request.cookies.get(COOKIE)
    if session_id:
        await state.redis.delete(_redis_key(session_id))
    response.delete_cookie(COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def csrf_ok(session: Session, presented: str | None) -> bool:
    """Whether a form's token is the session's, compared in constant time."""
    if not presented or not session.csrf:
        return False
    return hmac.compare_digest(presented.encode(), session.csrf.encode())
