"""Liveness and readiness."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from newsflow_gateway.deps import StateDep

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]


class Readiness(BaseModel):
    status: Literal["ready", "not ready"]
    failing: dict[str, str]


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers.")
async def healthz() -> Health:
    """Liveness: answers 200 while the process is running."""
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Readiness,
    summary="Readiness: MongoDB and Redis reachable.",
    responses={503: {"model": Readiness, "description": "A dependency is unreachable."}},
)
async def readyz(state: StateDep) -> JSONResponse:
    """Readiness: 200 when MongoDB and Redis answer a ping, else 503 naming what failed."""
    failing: dict[str, str] = {}
    try:
        await state.mongo.admin.command("ping")
    except Exception as exc:
        failing["mongodb"] = str(exc)[:200] or type(exc).__name__
    try:
        await state.redis.ping()
    except Exception as exc:
        failing["redis"] = str(exc)[:200] or type(exc).__name__
    body = Readiness(status="not ready" if failing else "ready", failing=failing)
    return JSONResponse(body.model_dump(), status_code=503 if failing else 200)
