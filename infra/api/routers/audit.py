"""Auditor and data-subject routes: history, time travel, verification, export, erasure.

Every route here reads personal data and is itself written to the access log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import HTMLResponse, JSONResponse

from domain.values import Agency
from infra.api.deps import ContainerDep, get_principal
from infra.api.problems import ProblemError
from infra.auth import Principal
from infra.bootstrap import Container
from infra.db.access_log import AccessEntry
from infra.erasure import erase_person
from infra.export_html import render
from services import audit
from services.subject_access import subject_export

router = APIRouter(tags=["audit"])
NationalId = Annotated[str, Path(pattern=r"^\d{11}$")]


def _only(*agencies: Agency) -> Any:
    def check(principal: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if principal.agency not in agencies:
            names = ", ".join(a.value for a in agencies)
            raise ProblemError(403, "Not permitted", f"Only {names} may use this route.")
        return principal

    return Depends(check)


Auditor = Annotated[Principal, _only(Agency.AUDITOR)]
AuditorOrCoordinator = Annotated[Principal, _only(Agency.AUDITOR, Agency.KONFLIKTRAD)]


def _log(
    c: Container,
    user: Principal,
    action: str,
    case_id: str | None,
    subject_ref: str | None,
    categories: list[str],
) -> None:
    c.access_log.record(
        [
            AccessEntry(
                c.clock(),
                user.sub,
                user.agency.value,
                subject_ref,
                case_id,
                action,
                categories,
                {"all": f"role:{user.agency.value}"},
            )
        ]
    )


def _subject(c: Container, case_id: UUID) -> str | None:
    return c.keys.subject_of_case(str(case_id))


@router.get("/contracts/{case_id}/history")
def contract_history(
    case_id: UUID,
    c: ContainerDep,
    user: Auditor,
    as_of: datetime | None = None,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> dict[str, Any]:
    """Every event of the case in order, unredacted; or the state at a time or version."""
    result = audit.history(c.contracts, case_id, as_of, version)
    _log(c, user, "history", str(case_id), _subject(c, case_id), ["all"])
    return result


@router.get("/contracts/{case_id}/views/{agency}")
def agency_view(
    case_id: UUID, agency: Agency, c: ContainerDep, user: Auditor, as_of: datetime | None = None
) -> dict[str, Any]:
    """What `agency` could see of the case at `as_of`, under the consents and policy then."""
    result = audit.agency_view(c.contracts, case_id, agency, as_of)
    view = result["view"] or {}
    _log(
        c,
        user,
        f"agency_view:{agency.value}",
        str(case_id),
        _subject(c, case_id),
        list(view.get("categories", [])),
    )
    return result


@router.get("/contracts/{case_id}/verify")
def verify_contract(case_id: UUID, c: ContainerDep, user: Auditor) -> dict[str, object]:
    """Recompute the hash chain; name the first bad version."""
    if not c.contracts.stored_events(case_id):
        raise ProblemError(404, "Case not found")
    return audit.verify(c.contracts, case_id, c.checkpoints).as_dict()


@router.get(
    "/subjects/{national_id}/export", response_model=None, responses={200: {"content": {"text/html": {}}}}
)  # with ?format=html
def export_subject(
    national_id: NationalId,
    c: ContainerDep,
    user: AuditorOrCoordinator,
    format: Annotated[str, Query(pattern="^(json|html)$")] = "json",
) -> JSONResponse | HTMLResponse:
    """Everything stored about a person (subject-access request), as JSON or HTML."""
    ref = c.keys.subject_ref(national_id)
    export = subject_export(
        national_id, c.contracts, c.prevention, c.keys, c.access_log.query(subject_ref=ref), c.clock()
    )
    _log(c, user, "subject_export", None, ref, ["all"])
    if format == "html":
        return HTMLResponse(render(export))
    return JSONResponse(export)


@router.post("/subjects/{national_id}/erase")
def erase_subject(national_id: NationalId, c: ContainerDep, user: Auditor) -> dict[str, Any]:
    """Crypto-shred the person's personal data; the history stays verifiable."""
    cases = erase_person(c, national_id)
    _log(c, user, "erase", None, c.keys.subject_ref(national_id), [])
    return {"erased_cases": cases}
