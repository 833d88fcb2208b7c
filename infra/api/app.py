"""The FastAPI application: routers, problem handlers, request metrics."""

from __future__ import annotations

from fastapi import FastAPI

from infra.api import openapi, problems
from infra.api.body_limit import BodyLimit
from infra.api.request_metrics import RequestMetrics
from infra.api.responses import CaseResponse
from infra.api.routers import (
    access_log,
    audit,
    contract_queries,
    contracts,
    intake,
    ops,
    prevention,
    register,
    relations,
    statistics,
    streams,
)
from infra.bootstrap import Container
from infra.web import install as install_web


def create_app(container: Container) -> FastAPI:
    app = FastAPI(
        default_response_class=CaseResponse,
        title="ruskontrakt",
        version="0.1.0",
        description="Case management for youth drug contracts (ruskontrakter) and the "
        "preventive track. Every response is redacted through the access policy for the "
        "caller's agency.",
        docs_url=None,  # Swagger UI from the service's own assets (infra/web): /docs works offline
        redoc_url=None,
    )
    app.state.container = container
    problems.install(app)
    openapi.install(app)
    for module in (
        contracts,
        relations,
        contract_queries,
        audit,
        access_log,
        streams,
        prevention,
        register,
        statistics,
        intake,
        ops,
    ):
        app.include_router(module.router)
    install_web(app)  # the caseworker pages under /ui/, their assets and /docs

    app.add_middleware(BodyLimit, max_bytes=container.settings.max_body_bytes)  # 413 before reading it
    app.add_middleware(RequestMetrics)
    return app
