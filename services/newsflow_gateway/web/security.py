"""Content-Security-Policy for each kind of answer.

The JSON API gets the strictest policy (nothing may load). Pages may load scripts,
styles, images and connections from the gateway itself and nothing else: no inline
script or style and no inline event handlers, so escaped publisher text can never
become code even if an escape were missed.
"""

from __future__ import annotations

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
