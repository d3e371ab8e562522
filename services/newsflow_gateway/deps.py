"""FastAPI dependency aliases: what route functions may ask for."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from pymongo.asynchronous.collection import AsyncCollection

from newsflow.mongo import ITEMS
from newsflow.taxonomy import Taxonomy
from newsflow_gateway.settings import GatewaySettings
from newsflow_gateway.state import GatewayState


def get_state(request: Request) -> GatewayState:
    state: GatewayState = request.app.state.gateway
    return state


def get_items(request: Request) -> AsyncCollection[dict[str, Any]]:
    return get_state(request).db[ITEMS]


def get_taxonomy(request: Request) -> Taxonomy:
    return get_state(request).taxonomy


def get_settings(request: Request) -> GatewaySettings:
    return get_state(request).settings


StateDep = Annotated[GatewayState, Depends(get_state)]
ItemsDep = Annotated[AsyncCollection[dict[str, Any]], Depends(get_items)]
TaxonomyDep = Annotated[Taxonomy, Depends(get_taxonomy)]
SettingsDep = Annotated[GatewaySettings, Depends(get_settings)]
