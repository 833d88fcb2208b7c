"""The access log (Normen) for the auditor: who read what about whom, when, on which basis."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from domain.values import Agency
from infra.api.deps import ContainerDep, PrincipalDep
from infra.api.problems import ProblemError
from infra.db.access_log import AccessEntry

router = APIRouter(tags=["audit"])


@router.get("/access-log")
def access_log(
    c: ContainerDep,
    user: PrincipalDep,
    subject: Annotated[str | None, Query(pattern=r"^\d{11}$", description="National id")] = None,
    agency: Annotated[Agency | None, Query(description="The reading agency")] = None,
    since: Annotated[datetime | None, Query(description="Entries from this time on")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> list[dict[str, Any]]:
    """Every logged read matching the filters, oldest first (auditor only)."""
    if user.agency is not Agency.AUDITOR:
        raise ProblemError(403, "Not permitted", "Only the auditor may read the access log.")
    ref = c.keys.subject_ref(subject) if subject is not None else None
    entries = c.access_log.query(ref, agency.value if agency else None, since, limit)
    # Every auditor read is itself logged (domain.md §3), this one included.
    c.access_log.record(
        [
            AccessEntry(
                c.clock(), user.sub, user.agency.value, ref, None, "access_log", [], {"all": "role:auditor"}
            )
        ]
    )
    return entries
