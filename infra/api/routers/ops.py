"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from infra.api.deps import ContainerDep

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready", response_model=None)
def ready(c: ContainerDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        c.contracts.notification_log.select(start=1, limit=1)
        checks["event_store"] = "ok"
    except Exception as error:  # the reason goes to the operator, not a stack trace
        checks["event_store"] = f"unreachable: {type(error).__name__}"
    checks["kafka"] = "embedded (in-process)" if c.settings.kafka_bootstrap is None else "configured"
    checks["projections"] = {"mode": "computed on read", "lag": 0}
    ok = checks["event_store"] == "ok"
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


@router.get("/metrics")
def metrics(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
