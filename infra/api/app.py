"""The FastAPI application: routers, problem handlers, request metrics."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import Counter, Histogram

from infra.api import openapi, problems
from infra.api.deps import RETURN_MINIMAL, prefers_minimal
from infra.api.routers import (
    access_log,
    audit,
    contract_queries,
    contracts,
    ops,
    prevention,
    streams,
)
from infra.bootstrap import Container

REQUESTS = Counter("ruskontrakt_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("ruskontrakt_http_request_seconds", "HTTP request latency", ["method", "route"])


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        title="ruskontrakt",
        version="0.1.0",
        description="Case management for youth drug contracts (ruskontrakter) and the "
        "preventive track. Every response is redacted through the access policy for the "
        "caller's agency.",
    )
    app.state.container = container
    problems.install(app)
    openapi.install(app)
    for module in (contracts, contract_queries, audit, access_log, streams, prevention, ops):
        app.include_router(module.router)

    @app.middleware("http")
    async def measure(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        start = time.perf_counter()
        RETURN_MINIMAL.set(prefers_minimal(request.headers.get("prefer")))
        response = await call_next(request)
        route = getattr(request.scope.get("route"), "path", "unmatched")
        REQUESTS.labels(request.method, route, str(response.status_code)).inc()
        LATENCY.labels(request.method, route).observe(time.perf_counter() - start)
        return response

    return app
