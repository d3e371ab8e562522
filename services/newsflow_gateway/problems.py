"""RFC 9457 problem details for every error the gateway returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from pymongo.errors import ConnectionFailure, ExecutionTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from newsflow_gateway.index.index import CursorError
from newsflow_gateway.index.query import QuerySyntaxError
from newsflow_gateway.search.backend import SearchUnavailableError
from newsflow_gateway.web.security import secure

PROBLEM_JSON = "application/problem+json"
#: Field errors listed in one problem, and characters of a field name echoed back:
#: 3,000 unknown parameters, or one named with 10,000 characters, make a short answer.
MAX_FIELD_ERRORS = 20
MAX_FIELD_CHARS = 100


def _clip(name: str) -> str:
    return name if len(name) <= MAX_FIELD_CHARS else name[:MAX_FIELD_CHARS] + "..."


class FieldProblem(BaseModel):
    field: str
    message: str
    position: int | None = Field(
        default=None, description="For q: the 0-based character where the problem is."
    )


class Problem(BaseModel):
    """An RFC 9457 problem details object."""

    type: str = Field(default="about:blank", examples=["about:blank"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(examples=[422])
    detail: str | None = Field(default=None, examples=["topic: unknown id 'foo'"])
    instance: str | None = None
    errors: list[FieldProblem] | None = None


class ProblemError(Exception):
    """Raise to answer with a problem; carries status, title, detail and field errors."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or title)
        self.status, self.title, self.detail = status, title, detail
        self.errors, self.headers = errors, headers


def problem_response(
    request: Request,
    status: int,
    title: str,
    detail: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "instance": request.url.path,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def http_title(status: int) -> str:
    return _TITLES.get(status, "Error")


async def http_problem(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """The problem for an HTTPException: no route for the path (404), not for the
    method (405), and the like."""
    title = http_title(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != title else None
    return problem_response(
        request, exc.status_code, title, detail, headers=getattr(exc, "headers", None)
    )


def install(app: FastAPI) -> None:
    """Route every error through problem details."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(request, exc.status, exc.title, exc.detail, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        found = exc.errors()
        errors = [
            {
                "field": _clip(
                    ".".join(
                        str(p) for p in e["loc"] if p not in ("query", "path", "body", "header")
                    )
                    or "request"
                ),
                "message": e["msg"],
            }
            for e in found[:MAX_FIELD_ERRORS]
        ]
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        if len(found) > MAX_FIELD_ERRORS:  # a flood of bad names is not echoed back whole
            detail += f"; and {len(found) - MAX_FIELD_ERRORS} more"
        return problem_response(request, 422, "Unprocessable Content", detail, errors)

    app.add_exception_handler(StarletteHTTPException, http_problem)  # type: ignore[arg-type]

    async def _store_unavailable(request: Request, exc: Exception) -> JSONResponse:
        detail = (
            "the query took too long; narrow it or retry"
            if isinstance(exc, ExecutionTimeout)
            else "the item store is unreachable; retry shortly"
        )
        return problem_response(
            request, 503, "Service Unavailable", detail, headers={"Retry-After": "5"}
        )

    app.add_exception_handler(ConnectionFailure, _store_unavailable)

    @app.exception_handler(SearchUnavailableError)
    async def _search_unavailable(request: Request, exc: SearchUnavailableError) -> JSONResponse:
        return problem_response(
            request,
            503,
            "Service Unavailable",
            exc.detail,
            headers={"Retry-After": str(exc.retry_after)},
        )

    @app.exception_handler(QuerySyntaxError)
    async def _query(request: Request, exc: QuerySyntaxError) -> JSONResponse:
        # Raised by the parser, or by the index when a prefix expands too far.
        return problem_response(
            request,
            422,
            "Unprocessable Content",
            f"q: {exc}",
            [{"field": "q", "message": exc.message, "position": exc.position}],
        )

    @app.exception_handler(CursorError)
    async def _cursor(request: Request, exc: CursorError) -> JSONResponse:
        return problem_response(
            request,
            422,
            "Unprocessable Content",
            f"cursor: {exc}",
            [{"field": "cursor", "message": str(exc)}],
        )

    app.add_exception_handler(ExecutionTimeout, _store_unavailable)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette answers this from ServerErrorMiddleware, outside every middleware
        # of the app: the security headers must be set here or not at all.
        response = problem_response(
            request,
            500,
            "Internal Server Error",
            "an unexpected error occurred; it has been logged",
        )
        secure(response.headers)
        return response


#: The security scheme's name in the OpenAPI document.
BEARER_KEY = "bearerKey"


def _dependency_calls(dependant: Any) -> set[Any]:
    """Every function a route depends on, its router's dependencies included."""
    calls: set[Any] = set()
    for sub in dependant.dependencies:
        if sub.call is not None:
            calls.add(sub.call)
        calls |= _dependency_calls(sub)
    return calls


def _key_use(app: FastAPI) -> dict[tuple[str, str], str]:
    """How each operation uses an API key: "required" (publishing, admin; reading and
    ``/metrics`` when ``read_requires_key``) or "optional" (reading otherwise: a key
    may be sent, and a bad one is refused), keyed by (path, lower-case method).

    ``read_requires_key`` is read from the running gateway's settings; before the
    lifespan has run there are none, and reads are documented as open."""
    from fastapi import routing

    from newsflow_gateway.auth import authenticate, metrics_access, read_access

    state = getattr(app.state, "gateway", None)
    keyed_reads = bool(state is not None and state.settings.read_requires_key)
    # Recent FastAPI (0.165 here) keeps included routers as such and walks them with
    # iter_route_contexts (each context has the router's dependencies); older ones
    # copy every route into app.routes.
    walk = getattr(routing, "iter_route_contexts", None)
    routes: list[Any] = list(walk(app.routes)) if walk is not None else list(app.routes)
    uses: dict[tuple[str, str], str] = {}
    for route in routes:
        original = getattr(route, "original_route", route)
        if not isinstance(original, routing.APIRoute) or not route.include_in_schema:
            continue
        calls = _dependency_calls(route.dependant)
        if authenticate not in calls:
            continue
        conditional = read_access in calls or metrics_access in calls
        use = "optional" if conditional and not keyed_reads else "required"
        for method in route.methods or ():
            uses[(route.path_format, method.lower())] = use
    return uses


def document(app: FastAPI) -> None:
    """Make the OpenAPI document say what the API does: every error response
    (4xx, 5xx) is ``application/problem+json`` with the :class:`Problem` schema,
    and every operation may answer 422 (bad parameters) and 503 (store down).

    It also declares the API keys (``Authorization: Bearer nfk_<id>_<secret>``) as an
    HTTP bearer security scheme, on every operation that takes one: required where a
    key is needed, optional (``[{}, {bearerKey: []}]``) where reading is open."""
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = spec.setdefault("components", {}).setdefault("schemas", {})
        for name, schema in (
            Problem.model_json_schema(ref_template="#/components/schemas/{model}")
            .pop("$defs", {})
            .items()
        ):
            schemas.setdefault(name, schema)
        schemas["Problem"] = {
            k: v
            for k, v in Problem.model_json_schema(
                ref_template="#/components/schemas/{model}"
            ).items()
            if k != "$defs"
        }
        problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        defaults = {
            "422": "Invalid parameters; the problem names each one.",
            "500": "Unexpected error (logged).",
            "503": "A dependency is unreachable; retry after the Retry-After delay.",
        }
        for path_item in spec.get("paths", {}).values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                for code, description in defaults.items():
                    responses.setdefault(code, {"description": description})
                if "requestBody" in operation:
                    responses.setdefault("400", {"description": "The body could not be parsed."})
                for code, response in responses.items():
                    if code[0] in "45":
                        response["content"] = problem
        schemas.pop("HTTPValidationError", None)
        schemas.pop("ValidationError", None)
        spec["components"]["securitySchemes"] = {
            BEARER_KEY: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "nfk_<id>_<secret>",
                "description": (
                    "An API key from `newsflow keys create`, sent as "
                    "`Authorization: Bearer nfk_...`. Scopes: publish, read, admin."
                ),
            }
        }
        for (path, method), use in _key_use(app).items():
            operation = spec.get("paths", {}).get(path, {}).get(method)
            if operation is None:
                continue
            keyed: dict[str, list[str]] = {BEARER_KEY: []}
            operation["security"] = [keyed] if use == "required" else [{}, keyed]
            responses = operation.setdefault("responses", {})
            unauthorized = responses.setdefault(
                "401", {"description": "No key, or a malformed, unknown or revoked key."}
            )
            unauthorized["content"] = problem
            if use == "required":
                responses.setdefault("403", {"description": "The key lacks the scope."})
                responses["403"]["content"] = problem
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]
