"""Builds the gateway: ``create_app(settings)``. Nothing connects at import."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware

from newsflow import __version__
from newsflow.domain.taxonomy import load_taxonomy
from newsflow.runtime.mongo import ITEMS, create_mongo_client, ensure_indexes
from newsflow.runtime.redis_factory import create_redis
from newsflow_gateway import problems
from newsflow_gateway.auth import ReadAccess
from newsflow_gateway.live import LiveHub
from newsflow_gateway.metrics import GatewayMetrics
from newsflow_gateway.routes import admin, facets, feeds, health, items, publish, stream
from newsflow_gateway.settings import GatewaySettings
from newsflow_gateway.state import GatewayState

log = logging.getLogger("newsflow.gateway")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-site",
    "Permissions-Policy": "interest-cohort=()",
}
#: The API serves JSON only; the docs page needs its scripts from the CDN FastAPI uses.
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def create_app(settings: GatewaySettings) -> FastAPI:
    taxonomy = load_taxonomy(settings.taxonomy_path)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        mongo = create_mongo_client(settings.mongodb_url)
        db = mongo[settings.mongodb_database]
        redis = create_redis(settings.redis_url)
        try:
            await ensure_indexes(db)
        except Exception as exc:  # the store may come up later; readiness says so
            log.warning("could not create indexes at start-up: %s", exc)
        live = LiveHub(redis, db[ITEMS])
        await live.start()
        app.state.gateway = GatewayState(
            settings=settings,
            mongo=mongo,
            db=db,
            redis=redis,
            taxonomy=taxonomy,
            live=live,
        )
        try:
            yield
        finally:
            await live.stop()
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
    )
    problems.install(app)
    problems.document(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Last-Event-ID", "Idempotency-Key"],
            expose_headers=["Retry-After"],
        )

    metrics = GatewayMetrics()

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.observe(request.method, path, response.status_code, time.perf_counter() - started)
        return response

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        """Prometheus metrics: requests and latency by route and status."""
        return Response(metrics.render(), media_type="text/plain; version=0.0.4")

    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith(("/docs", "/redoc")):
            response.headers.setdefault("Content-Security-Policy", API_CSP)
        return response

    app.include_router(health.router)
    for read_router in (items.router, facets.router, feeds.router, stream.router):
        app.include_router(read_router, dependencies=[ReadAccess])
    app.include_router(publish.router)
    app.include_router(admin.router)
    return app
