"""What an auditor asks: the full history, the state at an earlier point, what an agency
could see then, and whether the stored history is intact."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from domain.policy import EventRecord
from domain.values import Agency
from projections.access import views_for
from projections.case_view import fold_case
from projections.prevention_view import fold_prevention_case
from services.checkpoints import CheckpointLog
from services.store import SealedApplication
from services.verification import Checkpoint, Verification, verify_chain


def record_dict(record: EventRecord) -> dict[str, Any]:
    return {
        "version": record.version,
        "type": record.type,
        "at": record.at.isoformat(),
        "actor": record.actor,
        "actor_agency": record.actor_agency.value,
        "status": record.status,
        "payload": dict(record.payload),
    }


def _fold(records: list[EventRecord], agency: Agency, as_of: datetime | None) -> dict[str, Any] | None:
    views = views_for(records, agency, as_of)
    if records and records[0].track.value == "prevention":
        return fold_prevention_case(records[0].case_id, views)
    return fold_case(records[0].case_id, views) if records else None


def history(
    app: SealedApplication, case_id: UUID, as_of: datetime | None = None, version: int | None = None
) -> dict[str, Any]:
    """Every event up to the point asked for, unredacted, and the case's state there."""
    records = [
        r
        for r in app.records(case_id)
        if (as_of is None or r.at <= as_of) and (version is None or r.version <= version)
    ]
    state = _fold(records, Agency.AUDITOR, None) if records else None
    if state is not None and records:
        state["status"] = records[-1].status
        state["version"] = records[-1].version
    return {
        "id": str(case_id),
        "as_of": as_of.isoformat() if as_of else None,
        "version": version,
        "events": [record_dict(r) for r in records],
        "state": state,
    }


def agency_view(
    app: SealedApplication, case_id: UUID, agency: Agency, as_of: datetime | None = None
) -> dict[str, Any]:
    """What `agency` could see of the case at `as_of`, under the consents and policy then."""
    doc = _fold(app.records(case_id), agency, as_of)
    return {
        "id": str(case_id),
        "agency": agency.value,
        "as_of": as_of.isoformat() if as_of else None,
        "known": doc is not None,
        "view": doc,
    }


def verify(app: SealedApplication, case_id: UUID, checkpoints: CheckpointLog | None = None) -> Verification:
    checkpoint = checkpoints.latest(str(case_id)) if checkpoints else None
    return verify_chain(str(case_id), app.stored_events(case_id), checkpoint)


def heads(app: SealedApplication, case_ids: list[UUID]) -> list[Checkpoint]:
    """The current chain head of each intact case, for publishing as checkpoints."""
    out = []
    for case_id in case_ids:
        result = verify(app, case_id)
        if result.valid and result.head:
            out.append(Checkpoint(str(case_id), result.events, result.head))
    return out
