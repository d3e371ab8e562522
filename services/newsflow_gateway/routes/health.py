"""Liveness and readiness."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from newsflow_gateway.deps import StateDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    failing: dict[str, str]
    index: dict[str, Any] = Field(
        default_factory=dict,
        description="The search index: state (starting, rebuilding, catching up, ready, "
        "failed), stories, position, and progress while rebuilding.",
    )


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers.")
async def healthz() -> Health:
    """Liveness: answers 200 while the process is running."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: MongoDB and Redis reachable, search index caught up.",
    responses={503: {"model": Readiness, "description": "A dependency is unreachable."}},
)
async def readyz(state: StateDep) -> JSONResponse:
    """Readiness: 200 when MongoDB and Redis answer a ping and the search index has
    caught up with news:stored; else 503 naming what is not ready."""
    failing: dict[str, str] = {}
    try:
        await state.mongo.admin.command("ping")
    except Exception as exc:
        failing["mongodb"] = str(exc)[:200] or type(exc).__name__
    try:
        await state.redis.ping()
    except Exception as exc:
        failing["redis"] = str(exc)[:200] or type(exc).__name__
    index = state.search.status()
    if index["state"] != "ready":
        failing["index"] = index.get("error") or f"search index is {index['state']}"
    body = Readiness(status="not ready" if failing else "ready", failing=failing, index=index)
    return JSONResponse(body.model_dump(), status_code=503 if failing else 200)
