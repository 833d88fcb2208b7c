"""The access log (Normen) for the auditor: who read what about whom, when, on which basis."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from domain.values import Agency
from infra.api.deps import ContainerDep, NationalIdQuery, PrincipalDep

router = APIRouter(tags=["audit"])


@router.get("/access-log")
def access_log(
    c: ContainerDep,
    user: PrincipalDep,
    subject: NationalIdQuery = None,
    agency: Annotated[Agency | None, Query(description="The reading agency")] = None,
    since: Annotated[AwareDatetime | None, Query(description="Entries from this time on")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """Every logged read matching the filters, oldest first (auditor only; this read is logged too)."""
    return c.audit.access_log(c.context(user), subject, agency, since, limit)
