"""Whom a contract relates to, and explicit access (docs/api.md "Need to know"): each route
calls one use case of `c.contracts` or `c.explicit_access`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime

from domain.permissions import CONTRACT_COMMANDS, CONTRACT_QUERIES
from infra.api.commands import Command
from infra.api.deps import ContainerDep, IdempotencyKey, IfMatch, PrincipalDep, permitted
from infra.api.responses import CaseResponse
from infra.api.schemas import AccessRequestBody, GpBody, ResidenceBody, SchoolBody, TeamMemberBody

router = APIRouter(tags=["need to know"])


@router.post(
    "/contracts/{case_id}/gp", response_model=None, dependencies=[permitted("register_gp", CONTRACT_COMMANDS)]
)
def register_gp(
    case_id: UUID,
    body: GpBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The youth's GP (GpRegistered): consent to "gp" covers this GP, and no other."""
    return Command(c, user, body, if_match, key).run(c.contracts.register_gp, case_id, body.hpr)


@router.post(
    "/contracts/{case_id}/school",
    response_model=None,
    dependencies=[permitted("register_school", CONTRACT_COMMANDS)],
)
def register_school(
    case_id: UUID,
    body: SchoolBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The youth's school (SchoolRegistered): consent to "school" covers this school only."""
    return Command(c, user, body, if_match, key).run(
        c.contracts.register_school, case_id, body.organisation_number
    )


@router.post(
    "/contracts/{case_id}/residence",
    response_model=None,
    dependencies=[permitted("change_residence", CONTRACT_COMMANDS)],
)
def change_residence(
    case_id: UUID,
    body: ResidenceBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The youth moved (ResidenceChanged): the former municipality keeps what it saw and sees
    nothing new; `moved_away` ends a running contract (ContractTerminated, moved_away)."""
    return Command(c, user, body, if_match, key).run(
        c.contracts.change_residence,
        case_id,
        body.municipality,
        body.registered_municipality,
        body.moved_away,
    )


@router.post(
    "/contracts/{case_id}/team",
    response_model=None,
    dependencies=[permitted("add_team_member", CONTRACT_COMMANDS)],
)
def add_team_member(
    case_id: UUID,
    body: TeamMemberBody,
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """A unit joins the case's team (TeamMemberAdded); it is related to the case from now on."""
    return Command(c, user, body, if_match, key).run(
        c.contracts.add_team_member, case_id, body.agency, body.unit, body.sub
    )


@router.delete(
    "/contracts/{case_id}/team/{member}",
    response_model=None,
    dependencies=[permitted("remove_team_member", CONTRACT_COMMANDS)],
)
def remove_team_member(
    case_id: UUID,
    member: Annotated[str, Path(pattern=r"^m[0-9]{1,9}$", examples=["m7"])],
    c: ContainerDep,
    user: PrincipalDep,
    if_match: IfMatch = None,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """The member leaves the team (TeamMemberRemoved); it keeps what it saw."""
    return Command(c, user, None, if_match, key).run(c.contracts.remove_team_member, case_id, member)


@router.post(
    "/contracts/{case_id}/access-requests",
    status_code=201,
    response_model=None,
    dependencies=[permitted("access_request", CONTRACT_QUERIES)],
)
def request_access(
    case_id: UUID, body: AccessRequestBody, c: ContainerDep, user: PrincipalDep
) -> CaseResponse:
    """Explicit, time-limited access for a unit with no relation to the case, for a reason
    (logged with basis `explicit`, reviewed by the auditor)."""
    return CaseResponse(c.explicit_access.request(case_id, body.reason, c.context(user)), 201)


@router.get("/access-requests")
def access_requests(
    c: ContainerDep,
    user: PrincipalDep,
    since: Annotated[AwareDatetime | None, Query(description="Granted from this time on")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """The explicit accesses granted, for the auditor's review (this read is logged)."""
    return c.explicit_access.requests(c.context(user), since, limit)
