"""FastAPI dependencies as `Annotated` aliases: the container, the caller, request headers."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated

from fastapi import Depends, Header, Query, Request

from infra.auth import AuthenticationError, Principal
from infra.bootstrap import Container


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def get_principal(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> Principal:
    if not authorization or not authorization.lower().startswith("bearer "):
        raise AuthenticationError("an 'Authorization: Bearer <token>' header is required")
    principal = get_container(request).tokens.verify(authorization[7:].strip())
    request.state.principal = principal
    return principal


ContainerDep = Annotated[Container, Depends(get_container)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
IfMatch = Annotated[str | None, Header(alias="If-Match")]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def get_min_position(
    min_position: Annotated[int | None, Query(ge=0, description="Wait (bounded) until the read "
                                              "models have applied this position (a command's "
                                              "`position`)")] = None,
    header: Annotated[int | None, Header(alias="X-Min-Position", ge=0)] = None,
) -> int | None:
    return min_position if min_position is not None else header


MinPosition = Annotated[int | None, Depends(get_min_position)]


# `Prefer: return=minimal` (RFC 7240): a command answers with id, version and position only,
# without waiting for its read model. Set per request by the app's middleware.
RETURN_MINIMAL: ContextVar[bool] = ContextVar("return_minimal", default=False)


def prefers_minimal(prefer: str | None) -> bool:
    return "return=minimal" in (prefer or "").replace(" ", "").lower()
