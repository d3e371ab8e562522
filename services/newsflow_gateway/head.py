"""``HEAD`` for every ``GET`` route: the GET answer's status and headers, no body.

FastAPI registers only the methods a route names, so ``curl -I``, link checkers and
feed readers that probe with HEAD got 405. Answering HEAD through the GET route keeps
one code path, so headers (``Content-Type``, ``ETag``, ``Content-Length``) are the
same as GET's. The live feed is the exception: its GET never ends, so HEAD there
stays a 405.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

#: Paths whose GET answer never ends; HEAD there is refused by the router.
ENDLESS = frozenset({"/v1/stream"})


class HeadAsGet:
    """ASGI middleware: run HEAD as GET and drop the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD" or scope["path"] in ENDLESS:
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        await self.app({**scope, "method": "GET"}, receive, headers_only)
