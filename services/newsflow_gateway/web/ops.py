"""The operator console, ``/ops``: streams, groups, dead letters, rejections, rates.

An admin API key is asked for once, in a login form, and a session cookie stands
for it afterwards (:mod:`newsflow_gateway.web.ops_session`). The page is rendered
on the server; ``static/ops.js`` swaps in a fresh ``/ops/panel`` every few seconds.
Replay and delete are POST forms carrying the session's CSRF token, and call
:mod:`newsflow.runtime.deadletters` as the admin API and ``newsflow dlq`` do.

Every refusal is an HTML page with a 4xx status saying why: no session (401), a
missing or wrong CSRF token, or a POST from another site, login included (403), an
unknown dead letter (404), an entry that cannot be replayed (409: not a dead
letter, or aimed outside the pipeline), a body that is too large (413), not a form
(415), not UTF-8 or with too many fields (400), too many logins (429).
"""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from newsflow.runtime import deadletters
from newsflow.runtime.codec import is_stream_id
from newsflow.runtime.keys import parse_key
from newsflow_gateway.auth import key_for, rate_limit
from newsflow_gateway.deps import StateDep, public_base
from newsflow_gateway.problems import ProblemError
from newsflow_gateway.state import GatewayState
from newsflow_gateway.web.ops_session import (
    Session,
    close_session,
    csrf_ok,
    current_session,
    is_https,
    open_session,
)
from newsflow_gateway.web.ops_view import BUCKET_S, age, read_console, sparkline
from newsflow_gateway.web.templating import create_templates

router = APIRouter(prefix="/ops", include_in_schema=False)
templates = create_templates()
templates.env.filters["age"] = age
templates.env.filters["sparkline"] = sparkline

#: A console form is a key or a token: a few hundred bytes. Anything larger is refused.
MAX_FORM_BYTES: Final = 4096
#: Fields a console form may have, at most.
MAX_FORM_FIELDS: Final = 8
#: Seconds between two refreshes of the console (``ops.js`` reads it from the page).
REFRESH_S: Final = 5
#: What the console's answers say to caches: they hold tokens and live figures.
NO_STORE: Final = {"Cache-Control": "no-store"}
#: The console's own pages: browsers then send its forms' real Origin (with the
#: default no-referrer they send "null"); other sites still get no referrer.
REFERRER: Final = {"Referrer-Policy": "same-origin"}
NOTICES: Final = {
    "replayed": "The dead letter was put back on its source stream.",
    "deleted": "The dead letter was deleted.",
}


class RefusedError(Exception):
    """A request the console refuses, answered as an error page with ``status``."""

    def __init__(
        self, status: int, title: str, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail
        self.headers = headers or {}


def _page(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(
        request,
        name,
        {"refresh_s": REFRESH_S, **context},
        status_code=status,
        headers={**NO_STORE, **REFERRER},
    )


def _refused(request: Request, exc: RefusedError) -> HTMLResponse:
    response = _page(
        request,
        "ops/error.html",
        {"status": exc.status, "title": exc.title, "detail": exc.detail},
        exc.status,
    )
    response.headers.update(exc.headers)
    return response


async def read_form(request: Request) -> dict[str, str]:
    """The request's urlencoded form, refused unless it is small, a form and UTF-8."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise RefusedError(415, "Not a form", "Send the console's own form.")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise RefusedError(413, "Form too large", f"A form is at most {MAX_FORM_BYTES} bytes.")
    if body.count(b"&") >= MAX_FORM_FIELDS:
        raise RefusedError(
            400, "Too many fields", f"A console form has at most {MAX_FORM_FIELDS} fields."
        )
    try:
        pairs = parse_qsl(
            body.decode("ascii"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError included: not ASCII, or %-bytes not UTF-8
        raise RefusedError(
            400, "Unreadable form", "The form is not valid UTF-8 form data."
        ) from None
    return dict(pairs)


def own_origins(request: Request, state: GatewayState) -> set[str]:
    """The origins the console's own pages have: the gateway's public base, and the
    host the browser addressed (which a cross-site page cannot choose for it)."""
    origins = {public_base(request, state.settings).lower()}
    host = request.headers.get("host")
    if host:
        scheme = "https" if is_https(request, state) else "http"
        origins.add(f"{scheme}://{host}".lower())
    return origins


def check_same_origin(request: Request, state: GatewayState) -> None:
    """Refuse a POST another site's page made the browser send (login CSRF included):
    an ``Origin`` that is not ours, or ``Sec-Fetch-Site: cross-site``. Clients that
    send neither header (curl, scripts) are let through to the other checks."""
    origin = request.headers.get("origin")
    fetch_site = request.headers.get("sec-fetch-site", "").lower()
    # A browser sends "Origin: null" for its own page's form when the page's referrer
    # policy is no-referrer (the gateway's default): Sec-Fetch-Site, which no page can
    # set, then says whether it was our own page.
    if origin is not None and origin.lower() == "null" and fetch_site == "same-origin":
        origin = None
    if fetch_site == "cross-site" or (
        origin is not None and origin.lower() not in own_origins(request, state)
    ):
        raise RefusedError(
            403, "Cross-site request refused", "Use the console's own forms, at /ops."
        )


async def _session(state: GatewayState, request: Request) -> Session:
    session = await current_session(state, request)
    if session is None:
        raise RefusedError(401, "Log in first", "Your console session has ended; log in again.")
    return session


async def _checked(state: GatewayState, request: Request) -> Session:
    """The session of a same-origin POST whose form carries the session's CSRF token."""
    check_same_origin(request, state)
    session = await _session(state, request)
    form = await read_form(request)
    if not csrf_ok(session, form.get("csrf")):
        raise RefusedError(
            403, "Form expired", "The form's token is missing or wrong; reload /ops."
        )
    return session


def _letter_id(entry_id: str) -> str:
    if not is_stream_id(entry_id):
        raise RefusedError(404, "No such dead letter", "That is not a dead-letter id.")
    return entry_id


def _gone() -> RefusedError:
    """An id of the right form that is not (or no longer) on news:dead."""
    return RefusedError(
        404, "No such dead letter", "It is not on news:dead (replayed or deleted meanwhile?)."
    )


@router.get("", response_class=HTMLResponse)
async def console(request: Request, state: StateDep, notice: str | None = None) -> HTMLResponse:
    """The console when logged in, else the login form."""
    session = await current_session(state, request)
    if session is None:
        return _page(request, "ops/login.html", {"error": None})
    view = await read_console(state.redis)
    return _page(
        request,
        "ops/console.html",
        {
            "view": view,
            "csrf": session.csrf,
            "bucket_s": BUCKET_S,
            "notice": NOTICES.get(notice or ""),
        },
    )


@router.get("/panel", response_class=HTMLResponse)
async def panel(request: Request, state: StateDep) -> HTMLResponse:
    """The console's figures alone, for ``ops.js`` to swap in."""
    try:
        session = await _session(state, request)
    except RefusedError as exc:
        return _refused(request, exc)
    view = await read_console(state.redis)
    return _page(
        request, "ops/panel.html", {"view": view, "csrf": session.csrf, "bucket_s": BUCKET_S}
    )


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, state: StateDep) -> Response:
    """Check an admin key from the form; on success start a session and show the console."""
    client = request.client.host if request.client else "unknown"
    try:
        check_same_origin(request, state)
    except RefusedError as exc:
        return _refused(request, exc)
    try:
        await rate_limit(state, f"ops-login:{client}", limit=state.settings.ops_login_per_minute)
    except ProblemError as exc:
        return _refused(
            request,
            RefusedError(429, "Too many logins", "Wait a minute and try again.", exc.headers),
        )
    try:
        form = await read_form(request)
    except RefusedError as exc:
        return _refused(request, exc)
    parsed = parse_key(form.get("key", "").strip())
    if parsed is None:
        error = "That is not an API key; a key looks like nfk_<id>_<secret>."
        return _page(request, "ops/login.html", {"error": error}, 401)
    key = await key_for(state, *parsed)
    if key is None:
        return _page(request, "ops/login.html", {"error": "Unknown or revoked API key."}, 401)
    if "admin" not in key.scopes:
        error = "This key lacks the admin scope."
        return _page(request, "ops/login.html", {"error": error}, 403)
    response = RedirectResponse("/ops", status_code=303, headers=NO_STORE)
    await open_session(state, response, request, key.key_id)
    return response


@router.post("/logout", response_class=HTMLResponse)
async def logout(request: Request, state: StateDep) -> Response:
    """End the session."""
    try:
        await _checked(state, request)
    except RefusedError as exc:
        return _refused(request, exc)
    response = RedirectResponse("/ops", status_code=303, headers=NO_STORE)
    await close_session(state, request, response)
    return response


@router.post("/dead-letters/{entry_id}/replay", response_class=HTMLResponse)
async def replay(request: Request, state: StateDep, entry_id: str) -> Response:
    """Put one dead letter back on its source stream (after the fix)."""
    try:
        await _checked(state, request)
        if await deadletters.replay_one(state.redis, _letter_id(entry_id)) is None:
            raise _gone()
    except deadletters.UnreplayableError as exc:
        return _refused(request, RefusedError(409, "Cannot replay", str(exc)))
    except RefusedError as exc:
        return _refused(request, exc)
    return RedirectResponse("/ops?notice=replayed#dead-letters", status_code=303)


@router.post("/dead-letters/{entry_id}/delete", response_class=HTMLResponse)
async def delete(request: Request, state: StateDep, entry_id: str) -> Response:
    """Drop one dead letter without replaying it."""
    try:
        await _checked(state, request)
        if not await deadletters.delete(state.redis, _letter_id(entry_id)):
            raise _gone()
    except RefusedError as exc:
        return _refused(request, exc)
    return RedirectResponse("/ops?notice=deleted#dead-letters", status_code=303)
