"""FastAPI dependencies as `Annotated` aliases: the container, the caller, request headers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

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
