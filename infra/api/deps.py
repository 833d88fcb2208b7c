"""FastAPI dependencies as `Annotated` aliases: the container, the caller, request headers."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Annotated, Any, Literal

from fastapi import Depends, Header, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from domain.contract import ContractStatus
from domain.permissions import Table
from infra.api.schemas import NationalId
from infra.auth import AuthenticationError, Principal
from infra.bootstrap import Container
from services.queries import MAX_PAGE, WorklistQuery
from services.sealed_application import require


# The dependencies here are `async def` although they never await: they do no I/O (tokens
# are verified in memory, once until they expire; the others only read their parameters),
# and a sync dependency costs a trip to the thread pool and back, the largest share of a
# request's CPU on two cores.
async def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


# Declares the bearer scheme in the OpenAPI document; a missing or malformed header is
# answered by us (401 as a problem document), not by FastAPI's own 403.
BEARER = HTTPBearer(
    auto_error=False,
    description="JWT with `sub`, `agency`, `unit` (every agency but auditor), `role` (police) "
    "and `exp` (`ruskontrakt token` issues one in development)",
)


async def get_principal(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
) -> Principal:
    if credentials is None or not credentials.credentials.strip():
        raise AuthenticationError("an 'Authorization: Bearer <token>' header is required")
    container: Container = request.app.state.container
    principal = container.tokens.verify(credentials.credentials.strip())
    container.rate_limit.check(principal)  # 429 beyond the user's rate (infra/api/rate_limit.py)
    request.state.principal = principal
    return principal


ContainerDep = Annotated[Container, Depends(get_container)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def worklist_query(
    status: Annotated[ContractStatus | None, Query(description="Only cases in this status")] = None,
    overdue: Annotated[bool | None, Query(description="Only (true) or no (false) overdue cases")] = None,
    due_within_days: Annotated[
        int | None, Query(ge=0, le=3650, description="Only cases with a deadline within this many days")
    ] = None,
    assigned_to: Annotated[
        Literal["me"] | None, Query(description="`me`: only cases whose team names the caller")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Rows per page")] = 50,
    cursor: Annotated[
        str | None, Query(max_length=500, description="`next_cursor` of the page before")
    ] = None,
) -> WorklistQuery:
    """The worklist's filters and page (docs/api.md `GET /contracts`)."""
    return WorklistQuery(
        None if status is None else status.value, overdue, due_within_days, assigned_to == "me", limit, cursor
    )


WorklistParams = Annotated[WorklistQuery, Depends(worklist_query)]


async def export_rate(c: ContainerDep, user: PrincipalDep) -> None:
    """Subject-access exports have a rate of their own (`RUSKONTRAKT_EXPORTS_PER_MINUTE`): an
    export is looked up by national id, so many of them are a search for people."""
    c.export_rate_limit.check(user)


# A national id in a path or query: the same definition as in a body (ASCII digits, valid
# check digits: infra/api/schemas.py).
NationalIdPath = Annotated[NationalId, Path(description="National id (fødselsnummer or D-number)")]
NationalIdQuery = Annotated[NationalId | None, Query(description="National id")]


def permitted(action: str, table: Table) -> Any:
    """A route's dependency that refuses (403) an agency that may not `action` before the
    body is validated: FastAPI solves dependencies first, so a school posting a broken body
    to a konfliktrad command hears 403, not 422. The use case checks again; both ask
    `domain/permissions.py` (through `services.sealed_application.require`)."""
    if action not in table:
        raise ValueError(f"no action {action!r} in the table")

    async def may_give_the_command(c: ContainerDep, user: PrincipalDep) -> None:
        require(c.context(user), action, table)

    return Depends(may_give_the_command)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        pattern=r'^(W/)?"?[0-9]+"?$',
        description='The case version the command expects (the `ETag` of the case), e.g. `"3"`; '
        "a mismatch is 412 and changes nothing",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="A repeat with the same key and body returns the first answer and records "
        "nothing new; the same key with another body is 422",
    ),
]


async def get_min_position(
    min_position: Annotated[
        int | None,
        Query(
            ge=0,
            description="Wait (bounded) until the read "
            "models have applied this position (a command's "
            "`position`)",
        ),
    ] = None,
    header: Annotated[int | None, Header(alias="X-Min-Position", ge=0)] = None,
) -> int | None:
    return min_position if min_position is not None else header


MinPosition = Annotated[int | None, Depends(get_min_position)]


# `Prefer: return=minimal` (RFC 7240): a command answers with id, version and position only,
# without waiting for its read model. Set per request by the app's middleware.
RETURN_MINIMAL: ContextVar[bool] = ContextVar("return_minimal", default=False)


def prefers_minimal(prefer: str | None) -> bool:
    return "return=minimal" in (prefer or "").replace(" ", "").lower()
