"""Builds the gateway: ``create_app(settings)``. Nothing connects at import.

The clients come from ``connect`` (the real Redis and MongoDB by default); tests
pass a function that returns fakes, so every route runs in-process.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import start_http_server
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from redis.asyncio import Redis
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import Scope

from newsflow import __version__
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.runtime.mongo import ITEMS, create_mongo_client
from newsflow.runtime.redis_factory import create_redis
from newsflow_gateway import problems
from newsflow_gateway.auth import MetricsAccess, ReadAccess
from newsflow_gateway.head import ENDLESS, HeadAsGet
from newsflow_gateway.index.service import IndexService
from newsflow_gateway.live import LiveHub
from newsflow_gateway.metrics import GatewayMetrics
from newsflow_gateway.routes import admin, contracts, facets, feeds, health, items, publish, stream
from newsflow_gateway.settings import GatewaySettings
from newsflow_gateway.state import GatewayState
from newsflow_gateway.web import docs, ops, pages
from newsflow_gateway.web.security import secure
from newsflow_gateway.web.templating import create_static

log = logging.getLogger("newsflow.gateway")


@dataclass
class GatewayClients:
    """The connections the gateway holds while it runs."""

    mongo: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    redis: Redis


def connect(settings: GatewaySettings) -> GatewayClients:
    """The real clients. They connect lazily, on first use."""
    mongo: AsyncMongoClient[dict[str, Any]] = create_mongo_client(settings.mongodb_url)
    return GatewayClients(mongo, mongo[settings.mongodb_database], create_redis(settings.redis_url))


def create_app(
    settings: GatewaySettings,
    *,
    clients: Callable[[GatewaySettings], GatewayClients] = connect,
) -> FastAPI:
    """The gateway app; ``clients`` is called in the lifespan to open its connections."""
    taxonomy = load_taxonomy(settings.taxonomy_path)
    metrics = GatewayMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        opened = clients(settings)
        mongo, db, redis = opened.mongo, opened.db, opened.redis
        metrics_server = None
        if settings.metrics_port is not None:
            metrics_server, _ = start_http_server(
                settings.metrics_port, settings.metrics_host, registry=metrics.registry
            )
            app.state.metrics_port = metrics_server.server_port
        live_hub: list[LiveHub] = []
        search = IndexService(
            settings, redis, db[ITEMS], on_commit=lambda a, p: live_hub[0].committed(a, p)
        )
        live = LiveHub(redis, search)
        live_hub.append(live)
        await search.start()
        await live.start()
        app.state.gateway = GatewayState(
            settings=settings,
            mongo=mongo,
            db=db,
            redis=redis,
            taxonomy=taxonomy,
            live=live,
            search=search,
        )
        try:
            yield
        finally:
            publish.PARSERS.stop()
            if metrics_server is not None:
                metrics_server.shutdown()
                metrics_server.server_close()
            await live.stop()
            await search.stop()
            await mongo.close()
            await redis.aclose()

    app = FastAPI(
        title="Newsflow query gateway",
        version=__version__,
        description=(
            "Search, filter and follow news items enriched against the OSCE taxonomy. "
            "Errors are RFC 9457 problem details."
        ),
        lifespan=lifespan,
        docs_url=None,  # our own /docs and /redoc, offline: newsflow_gateway.web.docs
        redoc_url=None,
    )
    problems.install(app)
    problems.document(app)
    # After install: no route for a page path is a page for a browser (web.pages).
    app.add_exception_handler(StarletteHTTPException, pages.http_error)  # type: ignore[arg-type]
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "Idempotency-Key"],
            expose_headers=["Retry-After"],
        )

    @app.middleware("http")
    async def allow(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """``Allow`` names every method of the path, not only those of the first
        route matching it (``/v1/items`` is a GET route and a POST route): on 405,
        and on ``OPTIONS``, which answers 204 unless it is a CORS preflight."""
        preflight = bool(settings.cors_origins) and "origin" in request.headers
        if request.method == "OPTIONS" and not preflight:
            methods = _methods(app, request.scope)
            if methods:
                return Response(status_code=204, headers={"Allow": ", ".join(methods)})
        response = await call_next(request)
        if response.status_code == 405:
            methods = _methods(app, request.scope)
            if methods:
                response.headers["Allow"] = ", ".join(methods)
        return response

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Count every answer with its status. An exception that escapes the routes
        is answered 500 by the outermost handler, after this middleware: count it
        here as the 500 it becomes."""
        started = time.perf_counter()

        def observe(status: int) -> None:
            path = getattr(request.scope.get("route"), "path", "unmatched")
            metrics.observe(request.method, path, status, time.perf_counter() - started)

        try:
            response = await call_next(request)
        except Exception:
            observe(500)
            raise
        observe(response.status_code)
        return response

    if settings.metrics_port is None:

        @app.get("/metrics", include_in_schema=False, dependencies=[MetricsAccess])
        async def prometheus() -> Response:
            """Prometheus metrics: requests and latency by route and status."""
            return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        secure(response.headers)
        return response

    app.include_router(health.router)
    app.include_router(contracts.router)
    for read_router in (items.router, facets.router, feeds.router, stream.router):
        app.include_router(read_router, dependencies=[ReadAccess])
    app.include_router(publish.router)
    app.include_router(admin.router)
    app.include_router(pages.router)
    app.include_router(ops.router)
    docs.install(app)
    app.mount("/static", create_static(), name="static")
    # Outermost, so every middleware above sees HEAD as the GET it is answered as.
    app.add_middleware(HeadAsGet)
    return app


_PROBED = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")


def _methods(app: FastAPI, scope: Scope) -> list[str]:
    """The methods the app answers at the scope's path, OPTIONS included when any:
    each method is asked of every route, through Starlette's own matching."""
    found = {
        method
        for method in _PROBED
        if any(
            route.matches({**scope, "method": method})[0] is Match.FULL
            for route in app.router.routes
        )
    }
    if "GET" in found and scope["path"] not in ENDLESS:
        found.add("HEAD")
    return sorted(found | {"OPTIONS"}) if found else []
