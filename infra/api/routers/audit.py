"""Auditor and data-subject routes: history, time travel, verification, export, erasure.

Each route calls one use case of `c.audit` or `c.subjects`, which decide permission and
write the access log (the same use cases serve the CLI).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import AwareDatetime

from domain.values import Agency
from infra.api.deps import ContainerDep, NationalIdPath, PrincipalDep, export_rate
from infra.api.responses import CaseResponse
from infra.export_html import render

router = APIRouter(tags=["audit"])


@router.get("/contracts/{case_id}/history", response_model=None)
def contract_history(
    case_id: UUID,
    c: ContainerDep,
    user: PrincipalDep,
    as_of: AwareDatetime | None = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> CaseResponse:
    """Every event of the case in order, unredacted; or the state at a time or version."""
    return CaseResponse(c.audit.history(case_id, c.context(user), as_of, version))


@router.get("/contracts/{case_id}/views/{agency}", response_model=None)
def agency_view(
    case_id: UUID,
    agency: Agency,
    c: ContainerDep,
    user: PrincipalDep,
    as_of: AwareDatetime | None = None,
    unit: Annotated[
        str | None, Query(max_length=40, description="the agency's unit (default: the first related)")
    ] = None,
) -> CaseResponse:
    """What a unit of `agency` could see of the case at `as_of`, under the consents, relations
    and policy then."""
    return CaseResponse(c.audit.agency_view(case_id, agency, c.context(user), as_of, unit))


@router.get("/contracts/{case_id}/verify")
def verify_contract(case_id: UUID, c: ContainerDep, user: PrincipalDep) -> dict[str, object]:
    """Recompute the hash chain; name the first bad version."""
    return c.audit.verify(case_id, c.context(user)).as_dict()


@router.get(
    "/subjects/{national_id}/export",
    response_model=None,
    responses={200: {"content": {"text/html": {}}}},  # with ?format=html
    dependencies=[Depends(export_rate)],
)
def export_subject(
    national_id: NationalIdPath,
    c: ContainerDep,
    user: PrincipalDep,
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
) -> JSONResponse | HTMLResponse:
    """Everything stored about a person (subject-access request), as JSON or HTML."""
    export = c.subjects.export(national_id, c.context(user))
    return HTMLResponse(render(export)) if format == "html" else CaseResponse(export)


@router.post("/subjects/{national_id}/erase")
def erase_subject(national_id: NationalIdPath, c: ContainerDep, user: PrincipalDep) -> dict[str, Any]:
    """Crypto-shred the person's personal data; the history stays verifiable."""
    return {"erased_cases": c.subjects.erase(national_id, c.context(user))}
