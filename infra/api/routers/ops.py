"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from infra.api.deps import ContainerDep
from infra.auth import AuthenticationError
from infra.bootstrap import Container
from infra.readiness import readiness

router = APIRouter(tags=["operations"])


@router.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=None,
    description='`{"ready": true}` (200) or `false` (503) for anyone, such as a load balancer\'s '
    "probe. With a valid bearer token also `checks`: the event store, Kafka (or `embedded "
    "(in-process)`) and how far each read model lags behind its event store. A missing or "
    "invalid token is no error here: the answer is then the short one.",
    responses={
        503: {
            "description": "Not ready (with a valid token, `checks` says what is unreachable)",
            "content": {"application/json": {}},
        }
    },
)
def ready(c: ContainerDep, request: Request) -> JSONResponse:
    ok, checks = readiness(c)
    body: dict[str, object] = {"ready": ok, **({"checks": checks} if _authenticated(c, request) else {})}
    return JSONResponse(body, status_code=200 if ok else 503)


def _authenticated(c: Container, request: Request) -> bool:
    """Whether the request carries a valid bearer token (of any agency). Not a dependency:
    `/ready` stays open, declares no security and counts against no user's rate."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return False
    try:
        c.tokens.verify(token.strip())
    except AuthenticationError:
        return False
    return True


@router.get("/metrics", response_class=PlainTextResponse)
def metrics(_: Request) -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
