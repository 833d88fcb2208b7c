"""Explicit access (Normen's *begrunnet tilgang*, docs/domain.md §9).

A user whose agency the policy allows to see a contract, but whose unit has no relation
to it, may ask for time-limited access and must say why. The grant is logged with basis
`explicit` and its reason, and listed for the auditor's review (`GET /access-requests`).
While it lasts, the user sees the case as a unit of their agency related to it from the
start would (the same redaction, with consent at each event's time). It is never a way
into the preventive track: this use case serves contracts only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from uuid import UUID

from domain.need_to_know import Viewer
from domain.permissions import CONTRACT_QUERIES
from projections.read_model import CaseProjection
from services.access import AccessRecorder
from services.context import Context
from services.errors import CaseNotFoundError
from services.sealed_application import SealedApplication, require


@dataclass(frozen=True)
class AccessGrant:
    case_id: str
    sub: str
    agency: str
    unit: str
    reason: str
    granted_at: datetime
    until: datetime

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["granted_at"], out["until"] = self.granted_at.isoformat(), self.until.isoformat()
        return out


class GrantStore(Protocol):
    """Where grants are kept (`infra/db/access_grants.py`)."""

    def add(self, grant: AccessGrant) -> None: ...
    def active(self, case_id: str, sub: str, viewer_key: str, at: datetime) -> AccessGrant | None: ...
    def since(self, at: datetime | None, limit: int) -> list[AccessGrant]: ...


class ExplicitAccess:
    def __init__(
        self, contracts: SealedApplication, store: GrantStore, access: AccessRecorder, hours: float
    ) -> None:
        self.contracts = contracts
        self.store = store
        self.access = access
        self.duration = timedelta(hours=hours)

    def request(self, case_id: UUID, reason: str, ctx: Context) -> dict[str, Any]:
        """Grant the caller time-limited access to the contract, for the reason they give."""
        require(ctx, "access_request", CONTRACT_QUERIES)
        viewer = self._viewer(ctx)
        doc = self._view(case_id, viewer, ctx.at)
        if doc is None:
            raise CaseNotFoundError(str(case_id))  # nothing of it is ever the agency's to see
        grant = AccessGrant(
            str(case_id), ctx.sub, ctx.agency.value, viewer.unit or "", reason, ctx.at, ctx.at + self.duration
        )
        self.store.add(grant)
        basis = {"access": "explicit", "reason": reason, "until": grant.until.isoformat()}
        self.access.record([self.access.entry(ctx, "access_request", str(case_id), [], basis)])
        return grant.as_dict()

    def granted_view(self, case_id: UUID, ctx: Context) -> dict[str, Any] | None:
        """The case as the caller's explicit access shows it now; None without a grant in force."""
        viewer = ctx.viewer(self.contracts.track)
        if viewer is None or viewer.unit is None:
            return None
        grant = self.store.active(str(case_id), ctx.sub, viewer.key, ctx.at)
        if grant is None:
            return None
        doc = self._view(case_id, viewer, ctx.at)
        if doc is not None:
            doc["basis"] = {**doc.get("basis", {}), "access": ["explicit"]}
            doc["explicit_access_until"] = grant.until.isoformat()
        return doc

    def requests(
        self, ctx: Context, since: datetime | None = None, limit: int = 1000
    ) -> list[dict[str, Any]]:
        """The explicit accesses granted (since `since`), for the auditor's review; logged."""
        require(ctx, "access_requests", CONTRACT_QUERIES)
        grants = self.store.since(since, limit)
        self.access.record([self.access.entry(ctx, "access_requests", None, [], {"all": "role:auditor"})])
        return [g.as_dict() for g in grants]

    def _viewer(self, ctx: Context) -> Viewer:
        viewer = ctx.viewer(self.contracts.track)
        assert viewer is not None and viewer.unit is not None  # every agency permitted has units
        return viewer

    def _view(self, case_id: UUID, viewer: Viewer, at: datetime) -> dict[str, Any] | None:
        records = self.contracts.records(case_id)  # CaseNotFoundError when there is no such case
        projection = CaseProjection(self.contracts.track, str(case_id), self.contracts.rules, [viewer], True)
        for record in records:
            projection.apply(self.contracts.keys.scrub(record))
        return projection.present(viewer, at)
