"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from infra.api.deps import ContainerDep
from infra.bootstrap import Container

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=None,
    responses={
        503: {
            "description": "Not ready: `checks` says what is unreachable",
            "content": {"application/json": {}},
        }
    },
)
def ready(c: ContainerDep) -> JSONResponse:
    checks: dict[str, Any] = {}
    try:
        c.contracts.notification_log.select(start=1, limit=1)
        checks["event_store"] = "ok"
    except Exception as error:  # the reason goes to the operator, not a stack trace
        checks["event_store"] = f"unreachable: {type(error).__name__}"
    checks["kafka"] = _kafka(c)
    try:
        checks["projections"] = _projections(c)
    except Exception as error:
        checks["projections"] = f"unreachable: {type(error).__name__}"
    ok = (
        checks["event_store"] == "ok"
        and checks["kafka"] in ("ok", "embedded (in-process)")
        and isinstance(checks["projections"], dict)
    )
    return JSONResponse({"ready": ok, "checks": checks}, status_code=200 if ok else 503)


_KAFKA_CHECK: dict[str, tuple[float, str]] = {}


def _kafka(c: Container) -> str:
    """Broker reachability as the service principal, cached for a few seconds: a probe of
    the broker on every `/ready` poll would itself be load."""
    if c.settings.kafka_bootstrap is None:
        return "embedded (in-process)"
    cached = _KAFKA_CHECK.get(c.settings.kafka_bootstrap)
    if cached is None or time.monotonic() - cached[0] > 5:
        from infra.kafka.clients import reachable

        cached = (time.monotonic(), reachable(c.settings))
        _KAFKA_CHECK[c.settings.kafka_bootstrap] = cached
    return cached[1]


def _projections(c: Container) -> dict[str, Any]:
    """How many notifications each read model is behind its event store."""
    assert c.read_models is not None
    lag = {}
    for app in c.apps:
        stored = app.recorder.max_notification_id() or 0
        lag[app.name] = max(0, stored - c.read_models.track_position(app.track.value))
    mode = "in-process" if c.feeder is not None else "kafka (ruskontrakt project)"
    return {"mode": mode, "lag": lag, "behind": sum(lag.values())}


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
