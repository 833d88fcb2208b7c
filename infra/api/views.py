"""Case views and worklists for one agency, read from the read models only.

The read models are written by the projector (services/projector.py): in Kafka mode by
`ruskontrakt project`, in embedded mode by this process itself, which catches up
in-process before every read (`sync`). Case documents are stored sealed under the
case's key and opened here for the caller.
"""

from __future__ import annotations

import time
from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.consent import local_day
from domain.policy import Track
from domain.values import Agency
from infra.auth import Principal
from infra.bootstrap import Container
from infra.db.access_log import AccessEntry
from infra.db.read_models import ReadModels
from projections.read_model import present
from projections.worklist import is_overdue
from services.contracts import CaseErasedError, CaseNotFoundError
from services.messages import open_json
from services.projector import doc_aad


def _models(container: Container) -> ReadModels:
    assert container.read_models is not None, "infra.bootstrap.build wires the read models"
    return container.read_models


def sync(container: Container, track: Track, min_position: int | None = None) -> bool:
    """Make the read models current enough to answer; False if they did not get there in time.

    Embedded mode catches up in-process before every read (immediate read-your-writes).
    With Kafka the projector is another process: wait, bounded, until it has applied
    `min_position`.
    """
    if container.feeder is not None:
        container.feeder.catch_up()
        return True
    if not min_position:
        return True
    return wait_for(container, track, min_position, container.settings.read_wait_seconds)


def wait_for(container: Container, track: Track, position: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    pause = 0.002
    while _models(container).track_position(track.value) < position:
        if time.monotonic() >= deadline:
            return False
        time.sleep(pause)  # polling the position itself, with a short backoff
        pause = min(pause * 2, 0.05)
    return True


def case_view(container: Container, track: Track, case_id: UUID, agency: Agency) -> dict[str, Any] | None:
    """The case as `agency` may see it, or None when it may not know the case exists."""
    stored = _models(container).view(agency.value, str(case_id), track.value)
    if stored is None:
        return None
    key = container.keys.key_for_case(str(case_id))
    if key is None:
        raise CaseErasedError(str(case_id))
    fold = open_json(stored.sealed, key, doc_aad(agency.value, str(case_id)))
    return present(track, fold, stored.version, stored.status, stored.types, agency)


def case_view_or_404(container: Container, track: Track, case_id: UUID, agency: Agency) -> dict[str, Any]:
    doc = case_view(container, track, case_id, agency)
    if doc is None:
        raise CaseNotFoundError(str(case_id))
    return doc


def contract_view_or_404(container: Container, case_id: UUID, agency: Agency) -> dict[str, Any]:
    return case_view_or_404(container, Track.CONTRACT, case_id, agency)


def worklist(container: Container, agency: Agency, now: datetime) -> list[dict[str, Any]]:
    """The agency's contract worklist; `overdue` is judged now, not when the row was written."""
    today = local_day(now)
    rows = _models(container).rows(agency.value, Track.CONTRACT.value)
    for row in rows:
        deadline = date.fromisoformat(row["next_deadline"]) if row.get("next_deadline") else None
        row["overdue"] = is_overdue(deadline, row.get("status"), today)
    return rows


def prevention_worklist(container: Container, agency: Agency) -> list[dict[str, Any]]:
    return _models(container).rows(agency.value, Track.PREVENTION.value)


def log_reads(container: Container, principal: Principal, action: str, docs: list[dict[str, Any]]) -> None:
    """Append one access-log entry per case document returned to the caller."""
    container.access_log.record(access_entries(container, principal, action, docs))


def access_entries(
    container: Container, principal: Principal, action: str, docs: list[dict[str, Any]]
) -> list[AccessEntry]:
    """One access-log entry per case document shown to the caller."""
    at = container.clock()
    return [
        AccessEntry(
            at,
            principal.sub,
            principal.agency.value,
            container.keys.subject_of_case(doc["id"]),
            doc["id"],
            action,
            list(doc.get("categories", [])),
            dict(doc.get("basis", {})),
        )
        for doc in docs
    ]
