"""Content-Security-Policy for each kind of answer.

The JSON API gets the strictest policy (nothing may load). Pages may load scripts,
styles, images and connections from the gateway itself and nothing else: no inline
script or style and no inline event handlers, so escaped publisher text can never
become code even if an escape were missed.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders

#: Headers on every answer, whatever it is.
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-site",
    "Permissions-Policy": "interest-cohort=()",
}

#: The JSON API, feeds and anything that is not a page: nothing may load or frame it.
API_CSP = "default-src 'none'; frame-ancestors 'none'"

#: Web pages (and the offline API docs): only the gateway's own files.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def content_security_policy(content_type: str) -> str:
    """The policy for an answer: the page policy for HTML, the API policy otherwise."""
    if content_type.startswith("text/html"):
        return PAGE_CSP
    return API_CSP


def secure(headers: MutableHeaders) -> None:
    """Add the security headers and the CSP to an answer's headers (those it already
    has are kept). Called by the app's middleware, and by the 500 handler, whose
    answer Starlette sends from outside every middleware."""
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    headers.setdefault(
        "Content-Security-Policy", content_security_policy(headers.get("content-type", ""))
    )
