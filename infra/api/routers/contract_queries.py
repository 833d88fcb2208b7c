"""Contract queries: the caller's worklist and the case as the caller's agency may see it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from infra.api.deps import ContainerDep, MinPosition, PrincipalDep, WorklistParams
from infra.api.responses import CaseResponse, worklist_response

router = APIRouter(tags=["contract queries"])


@router.get("/contracts", response_model=None)
def list_contracts(
    request: Request,
    query: WorklistParams,
    c: ContainerDep,
    user: PrincipalDep,
    min_position: MinPosition = None,
) -> JSONResponse:
    """The caller's worklist: only cases the caller's unit may know, soonest deadline first,
    `{items, next_cursor}` with a `Link: rel="next"` header while there is a next page."""
    return worklist_response(c.contract_queries.worklist(c.context(user), query, min_position), request)


@router.get("/contracts/{case_id}", response_model=None)
def get_contract(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
) -> JSONResponse:
    """The case with exactly the fields the caller's agency may see."""
    doc = c.contract_queries.case_view(case_id, c.context(user), min_position)
    return CaseResponse(doc, headers={"ETag": f'"{doc["version"]}"'})
