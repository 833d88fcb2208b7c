"""Contract queries: the caller's worklist and the case as the caller's agency may see it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from domain.policy import Track
from domain.values import Agency
from infra.api.deps import ContainerDep, MinPosition, PrincipalDep
from infra.api.problems import ProblemError
from infra.api.responses import CaseResponse
from infra.api.views import contract_view_or_404, log_reads, sync, worklist

router = APIRouter(tags=["contract queries"])


def _no_county(agency: Agency) -> None:
    if agency is Agency.COUNTY:
        raise ProblemError(403, "Not permitted", "The county sees aggregated statistics only.")


@router.get("/contracts")
def list_contracts(
    c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
) -> list[dict[str, Any]]:
    """The caller's worklist: only cases the agency may know."""
    _no_county(user.agency)
    sync(c, Track.CONTRACT, min_position)
    rows = worklist(c, user.agency, c.clock())
    log_reads(c, user, "worklist", rows)
    return rows


@router.get("/contracts/{case_id}", response_model=None)
def get_contract(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
) -> JSONResponse:
    """The case with exactly the fields the caller's agency may see."""
    _no_county(user.agency)
    sync(c, Track.CONTRACT, min_position)
    doc = contract_view_or_404(c, case_id, user.agency)
    log_reads(c, user, "case_view", [doc])
    return CaseResponse(doc, headers={"ETag": f'"{doc["version"]}"'})
