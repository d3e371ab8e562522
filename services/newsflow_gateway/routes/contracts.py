"""The event streams' contract: the AsyncAPI 3.0 document and a page that shows it.

Both are built once, from :func:`newsflow.contracts.asyncapi.asyncapi_document`
(the same function that writes ``docs/asyncapi.json``). The page is plain HTML made
here, with no script and nothing fetched from a CDN. Like ``/openapi.json`` they are
open: a contract says what the API is, not what is in it.
"""

from __future__ import annotations

import html
import json
from functools import cache

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from newsflow.contracts.asyncapi import asyncapi_document

router = APIRouter(tags=["contracts"])

#: The page's own policy: its inline style, nothing else (no scripts, no fetches).
PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
    "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3rem .5rem;"
    "text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.5rem;overflow:auto}"
    "code{font-size:.95em}"
)


@cache
def _document_bytes() -> bytes:
    return json.dumps(asyncapi_document(), ensure_ascii=False).encode()


@router.get(
    "/asyncapi.json",
    summary="The AsyncAPI 3.0 document of every event stream.",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
async def asyncapi_json() -> Response:
    """Every Redis stream of the pipeline: its entry layout, message schema, producers
    and consumer groups. Generated from the code; ``docs/asyncapi.json`` is a copy."""
    return Response(_document_bytes(), media_type="application/json")


@router.get(
    "/asyncapi",
    summary="The AsyncAPI document as a page (no scripts, no CDN).",
    response_class=HTMLResponse,
)
async def asyncapi_page() -> HTMLResponse:
    """The same document, readable in a browser."""
    return HTMLResponse(_page(), headers={"Content-Security-Policy": PAGE_CSP})


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


@cache
def _page() -> str:
    doc = asyncapi_document()
    info, components = doc["info"], doc["components"]
    rows = []
    for channel_id, channel in doc["channels"].items():
        (message,) = channel["messages"]
        field = components["messages"][message]["x-newsflow-entry"]["field"]
        readers = [
            op["summary"]
            for op in doc["operations"].values()
            if op["action"] == "receive" and op["channel"]["$ref"] == f"#/channels/{channel_id}"
        ]
        rows.append(
            "<tr>"
            f"<td><code>{_e(channel['address'])}</code></td>"
            f'<td><a href="#{_e(message)}">{_e(message)}</a> in field <code>{_e(field)}</code></td>'
            f"<td>{_e(', '.join(channel['x-newsflow-producers']))}</td>"
            f"<td>{_e(' '.join(readers))}</td>"
            "</tr>"
        )
    sections = []
    for name, message in components["messages"].items():
        schema = components["schemas"][name]
        sections.append(
            f'<h3 id="{_e(name)}">{_e(name)}</h3><p>{_e(message["summary"])}</p>'
            f"<p>Schema file: <code>{_e(message['x-newsflow-schema'])}</code></p>"
            f"<pre>{_e(json.dumps(schema, indent=2, ensure_ascii=False))}</pre>"
        )
    shared = [
        f'<h3 id="{_e(name)}">{_e(name)}</h3>'
        f"<pre>{_e(json.dumps(schema, indent=2, ensure_ascii=False))}</pre>"
        for name, schema in components["schemas"].items()
        if name not in components["messages"]
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(info['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{_e(info['title'])} <small>{_e(info['version'])}</small></h1>"
        f"<p>AsyncAPI {_e(doc['asyncapi'])}. The document: "
        '<a href="/asyncapi.json">/asyncapi.json</a>.</p>'
        "<h2>Streams</h2><table><tr><th>stream</th><th>message</th><th>written by</th>"
        f"<th>read by</th></tr>{''.join(rows)}</table>"
        f"<h2>Messages</h2>{''.join(sections)}"
        f"<h2>Shared schemas</h2>{''.join(shared)}"
        "</body></html>"
    )
