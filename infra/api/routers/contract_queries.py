"""Contract queries: the caller's worklist and the case as the caller's agency may see it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from infra.api.deps import ContainerDep, MinPosition, PrincipalDep
from infra.api.responses import CaseResponse

router = APIRouter(tags=["contract queries"])


@router.get("/contracts")
def list_contracts(
    c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
) -> list[dict[str, Any]]:
    """The caller's worklist: only cases the agency may know."""
    return c.contract_queries.worklist(c.context(user), min_position)


@router.get("/contracts/{case_id}", response_model=None)
def get_contract(
    case_id: UUID, c: ContainerDep, user: PrincipalDep, min_position: MinPosition = None
) -> JSONResponse:
    """The case with exactly the fields the caller's agency may see."""
    doc = c.contract_queries.case_view(case_id, c.context(user), min_position)
    return CaseResponse(doc, headers={"ETag": f'"{doc["version"]}"'})
