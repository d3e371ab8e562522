"""FastAPI dependency aliases: what route functions may ask for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo.asynchronous.collection import AsyncCollection

from newsflow.domain.taxonomy import Taxonomy
from newsflow.runtime.mongo import ITEMS
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


async def get_taxonomy(request: Request) -> Taxonomy:
    return _state(request).taxonomy


async def get_settings(request: Request) -> GatewaySettings:
    return _state(request).settings


StateDep = Annotated[GatewayState, Depends(get_state)]
ItemsDep = Annotated[AsyncCollection[dict[str, Any]], Depends(get_items)]
TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]
SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
