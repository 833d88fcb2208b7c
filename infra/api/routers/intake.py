"""The intake register (docs/api.md "Need to know, intake and relations"): `POST /intake`."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import AfterValidator, Field

from domain.intake import MAX_REASON, AgeBand, IntakeDecision
from domain.permissions import INTAKE_COMMANDS
from infra.api.deps import ContainerDep, PrincipalDep, permitted
from infra.api.schemas import Body, Day, Municipality, NationalId, plain_text

router = APIRouter(tags=["intake"])


class IntakeBody(Body):
    national_id: NationalId = Field(description="the youth; stored only as the key store's keyed reference")
    birth_date: Day | None = Field(None, description="when given, the age band is checked against it")
    municipality: Municipality = Field(description="the youth's municipality (residence)")
    offence_date: Day
    age_band: AgeBand = Field(description="the youth's age on the offence date")
    decision: IntakeDecision
    decided_on: Day | None = Field(None, description="the day of the decision (default: today)")
    reason: Annotated[str, Field(max_length=MAX_REASON), AfterValidator(plain_text)] = Field(
        "", description="why this decision (never in any statistics)"
    )
    contract_id: UUID | None = Field(None, description="the contract offered (decision contract_offered)")


@router.post("/intake", status_code=201, dependencies=[permitted("record_intake", INTAKE_COMMANDS)])
def record_intake(body: IntakeBody, c: ContainerDep, user: PrincipalDep) -> dict[str, Any]:
    """IntakeRecorded: one U18 drug case and the prosecutor's decision (prosecution). Its
    content is sealed under the youth's key: an erasure of the youth shreds it."""
    return c.intake.record(
        c.context(user),
        body.national_id,
        body.municipality,
        body.offence_date,
        body.age_band.value,
        body.decision.value,
        body.reason,
        body.contract_id,
        body.decided_on,
        body.birth_date,
    )
