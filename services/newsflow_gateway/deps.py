"""FastAPI dependency aliases: what route functions may ask for."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo.asynchronous.collection import AsyncCollection

from newsflow.domain.taxonomy import Taxonomy
from newsflow.runtime.mongo import ITEMS
from newsflow_gateway.search.backend import StorySearch
from newsflow_gateway.settings import GatewaySettings
from newsflow_gateway.state import GatewayState


def _state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


# Dependencies are coroutines on purpose: FastAPI runs plain functions in a thread
# pool, which costs a context switch per dependency per request.
async def get_state(request: Request) -> GatewayState:
    return _state(request)


async def get_items(request: Request) -> AsyncCollection[dict[str, Any]]:
    return _state(request).db[ITEMS]


async def get_search(request: Request) -> StorySearch:
    return _state(request).search


async def get_taxonomy(request: Request) -> Taxonomy:
    return _state(request).taxonomy


async def get_settings(request: Request) -> GatewaySettings:
    return _state(request).settings


_FORWARDED_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$")


def public_base(request: Request, settings: GatewaySettings) -> str:
    """The absolute URL clients reach the gateway at, without a trailing slash.

    Never taken from the Host header, which any client sets at will (a feed's
    ``<id>`` and self link would then name a host of the caller's choosing): the
    configured ``public_base_url`` first; then, only when the operator says a proxy
    sets them, ``X-Forwarded-Proto``/``X-Forwarded-Host``; else the listening address.
    """
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/")
    if settings.trust_proxy_headers:
        host = request.headers.get("x-forwarded-host", "").split(",")[0].strip()
        proto = request.headers.get("x-forwarded-proto", "http").split(",")[0].strip().lower()
        if _FORWARDED_HOST.match(host) and proto in ("http", "https"):
            return f"{proto}://{host}"
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}"


async def get_public_base(request: Request) -> str:
    return public_base(request, _state(request).settings)


StateDep = Annotated[GatewayState, Depends(get_state)]
ItemsDep = Annotated[AsyncCollection[dict[str, Any]], Depends(get_items)]
SearchDep = Annotated[StorySearch, Depends(get_search)]
TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]
SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
PublicBaseDep = Annotated[str, Depends(get_public_base)]
