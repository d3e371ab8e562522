"""What the gateway holds while it runs, built in the lifespan: clients, the taxonomy,
the search index and the live feed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis

from newsflow.domain.taxonomy import Taxonomy
from newsflow_gateway.index.service import IndexService
from newsflow_gateway.live import LiveHub
from newsflow_gateway.settings import GatewaySettings


@dataclass
class GatewayState:
    settings: GatewaySettings
    mongo: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    redis: Redis
    taxonomy: Taxonomy
    live: LiveHub
    search: IndexService
