"""The query side: worklists and case views, answered from the read models.

The read models are written by the projector (`services/projector.py`): in Kafka mode by
`ruskontrakt project`, in embedded mode by this process, which catches up in-process
before every read. Case documents are stored sealed under the case's key and opened here
for the caller. Each query decides permission, answers only what the caller's agency may
know (404 otherwise) and logs what it shows before it answers — whichever edge asked.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from domain.calendar import local_day
from domain.deadlines import is_overdue
from domain.need_to_know import Viewer
from domain.permissions import Table
from domain.policy import Track
from projections.read_model import present
from services.access import AccessRecorder
from services.context import Context
from services.errors import CaseErasedError, CaseNotFoundError
from services.explicit_access import ExplicitAccess
from services.keys import SubjectKeys
from services.messages import open_json
from services.projector import doc_aad
from services.sealed_application import require


class StoredCaseDoc(Protocol):
    version: int
    status: str | None
    types: list[str]
    sealed: bytes


class ReadModelReader(Protocol):
    """What the queries read (`infra/db/read_models.py`)."""

    def view(self, agency: str, case_id: str, track: str) -> StoredCaseDoc | None: ...

    def rows(self, agency: str, track: str) -> list[dict[str, Any]]: ...

    def track_position(self, track: str) -> int: ...


class Freshness:
    """Makes the read models current enough to answer a query.

    Embedded mode catches up in-process before every read (immediate read-your-writes).
    With Kafka the projector is another process: a query that names a `min_position` (a
    command's answer) waits, bounded, until the read models have applied it.
    """

    def __init__(
        self, read_models: ReadModelReader, catch_up: Callable[[], object] | None, wait_seconds: float
    ) -> None:
        self.read_models = read_models
        self.catch_up = catch_up
        self.wait_seconds = wait_seconds

    def ensure(self, track: Track, min_position: int | None) -> bool:
        """False when the read models did not get there in time (the query answers anyway)."""
        if self.catch_up is not None:
            self.catch_up()
            return True
        if not min_position:
            return True
        return self.wait_for(track, min_position, self.wait_seconds)

    def wait_for(self, track: Track, position: int, timeout: float) -> bool:
        # The read models are this project's own tables, not an eventsourcing
        # TrackingRecorder, so there is no notification to wait on: poll with a backoff.
        deadline = time.monotonic() + timeout
        pause = 0.002
        while self.read_models.track_position(track.value) < position:
            if time.monotonic() >= deadline:
                return False
            time.sleep(pause)
            pause = min(pause * 2, 0.05)
        return True


class CaseQueries:
    """The worklist and case view of one track, for the caller's agency."""

    def __init__(
        self,
        track: Track,
        table: Table,
        read_models: ReadModelReader,
        keys: SubjectKeys,
        access: AccessRecorder,
        freshness: Freshness,
        explicit: ExplicitAccess | None = None,
    ) -> None:
        """`explicit`: the explicit accesses that open a case to an unrelated unit (contracts)."""
        self.explicit = explicit
        self.track = track
        self.table = table
        self.read_models = read_models
        self.keys = keys
        self.access = access
        self.freshness = freshness
        # The access log's names for these reads, kept as they were: auditors query by them.
        self._names = (
            ("worklist", "case_view")
            if track is Track.CONTRACT
            else ("prevention_worklist", "prevention_case_view")
        )

    def case_view(self, case_id: UUID, ctx: Context, min_position: int | None = None) -> dict[str, Any]:
        """The case with exactly the fields the caller's unit may see (404 otherwise: an
        unrelated unit learns nothing, not even that the case exists)."""
        require(ctx, "case_view", self.table)
        self.freshness.ensure(self.track, min_position)
        viewer = ctx.viewer(self.track)
        doc = self.stored_view(case_id, viewer) if viewer is not None else None
        if doc is None and self.explicit is not None:
            doc = self.explicit.granted_view(case_id, ctx)
        if doc is None:
            raise CaseNotFoundError(str(case_id))
        self.access.shown(ctx, self._names[1], [doc])
        return doc

    def worklist(self, ctx: Context, min_position: int | None = None) -> list[dict[str, Any]]:
        """One row per case the caller's unit may know; `overdue` is judged at `ctx.at`."""
        require(ctx, "worklist", self.table)
        self.freshness.ensure(self.track, min_position)
        viewer = ctx.viewer(self.track)
        rows = self.read_models.rows(viewer.key, self.track.value) if viewer is not None else []
        if self.track is Track.CONTRACT:
            today = local_day(ctx.at)
            for row in rows:
                row["overdue"] = is_overdue(_day(row.get("next_deadline")), row.get("status"), today)
        self.access.shown(ctx, self._names[0], rows)
        return rows

    def stored_view(self, case_id: UUID, viewer: Viewer) -> dict[str, Any] | None:
        """The read model's document of the case for `viewer`, opened; None if it may not know it.

        Not logged: for checks that show nothing (tests, benchmarks); queries log it."""
        stored = self.read_models.view(viewer.key, str(case_id), self.track.value)
        if stored is None:
            return None
        key = self.keys.key_for_case(str(case_id))
        if key is None:
            raise CaseErasedError(str(case_id))
        fold = open_json(stored.sealed, key, doc_aad(viewer.key, str(case_id)))
        return present(self.track, fold, stored.version, stored.status, stored.types, viewer.agency)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None
