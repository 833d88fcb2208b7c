"""What an auditor asks: the full history, the state at an earlier point, what an agency
could see then, whether the stored history is intact, and who read what (the access log).

`Audit` is the use-case side (permission and access log, the same for HTTP and CLI);
the module functions below it are the folds themselves, which benchmarks time alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.need_to_know import AUDITOR, CaseRelations, Viewer
from domain.permissions import CONTRACT_QUERIES, SUBJECT_QUERIES
from domain.policy import EventRecord, Track
from domain.values import Agency
from projections.access import redacted_events
from projections.case_view import fold_case
from projections.prevention_view import fold_prevention_case
from services.access import AccessRecorder, by_role
from services.case_index import case_ids_of
from services.checkpoints import CheckpointLog
from services.context import Context
from services.errors import CaseNotFoundError
from services.keys import SubjectKeys
from services.sealed_application import SealedApplication, require
from services.verification import Checkpoint, Verification, verify_chain

Scrub = Callable[[EventRecord], EventRecord]  # what a record shows of persons erased since


class Audit:
    def __init__(
        self,
        contracts: SealedApplication,
        apps: Sequence[SealedApplication],
        keys: SubjectKeys,
        access: AccessRecorder,
        checkpoints: CheckpointLog,
    ) -> None:
        self.contracts = contracts
        self.apps = list(apps)
        self.keys = keys
        self.access = access
        self.checkpoints = checkpoints

    def history(
        self, case_id: UUID, ctx: Context, as_of: datetime | None = None, version: int | None = None
    ) -> dict[str, Any]:
        """Every event of the contract up to the point asked for, unredacted, and its state there."""
        require(ctx, "history", CONTRACT_QUERIES)
        result = history(self.contracts, case_id, as_of, version, scrub=self.keys.scrub)
        self._log_case(ctx, "history", case_id, ["all"])
        return result

    def agency_view(
        self,
        case_id: UUID,
        agency: Agency,
        ctx: Context,
        as_of: datetime | None = None,
        unit: str | None = None,
    ) -> dict[str, Any]:
        """What a unit of `agency` could see of the contract at `as_of`, under the consents,
        relations and policy then (no `unit`: the agency's unit related first)."""
        require(ctx, "agency_view", CONTRACT_QUERIES)
        result = agency_view(self.contracts, case_id, agency, as_of, unit, scrub=self.keys.scrub)
        categories = list((result["view"] or {}).get("categories", []))
        self._log_case(ctx, f"agency_view:{agency.value}", case_id, categories)
        return result

    def verify(self, case_id: UUID, ctx: Context, track: Track = Track.CONTRACT) -> Verification:
        """Recompute the case's hash chain against its last signed checkpoint (no personal data)."""
        require(ctx, "verify", CONTRACT_QUERIES)
        app = self._app(track)
        if not app.stored_events(case_id):
            raise CaseNotFoundError(str(case_id))
        return verify(app, case_id, self.checkpoints)

    def every_case(self, ctx: Context) -> list[tuple[Track, UUID]]:
        """Every case of both tracks, to verify one by one (the CLI shows progress)."""
        require(ctx, "verify", CONTRACT_QUERIES)
        return [(app.track, case_id) for app in self.apps for case_id in case_ids_of(app)]

    def checkpoint(self, ctx: Context) -> int:
        """Sign and append the current chain head of every intact case; how many were appended."""
        require(ctx, "checkpoint", SUBJECT_QUERIES)
        return sum(self.checkpoints.publish(heads(app, case_ids_of(app)), ctx.at) for app in self.apps)

    def access_log(
        self,
        ctx: Context,
        national_id: str | None = None,
        agency: Agency | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[dict[str, Any]]:
        """Every logged read matching the filters, oldest first; this read is logged too."""
        require(ctx, "access_log", SUBJECT_QUERIES)
        ref = self.keys.subject_ref(national_id) if national_id is not None else None
        named = dict(self.keys.cases_mentioning(national_id)) if national_id is not None else None
        entries = self.access.query(ref, agency.value if agency else None, since, limit, named)
        self.access.record([self.access.entry(ctx, "access_log", None, [], by_role(ctx), subject_ref=ref)])
        return entries

    def _app(self, track: Track) -> SealedApplication:
        return next(app for app in self.apps if app.track is track)

    def _log_case(self, ctx: Context, action: str, case_id: UUID, categories: list[str]) -> None:
        self.access.record([self.access.entry(ctx, action, str(case_id), categories, by_role(ctx))])


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


def _fold(records: list[EventRecord], viewer: Viewer, as_of: datetime | None) -> dict[str, Any] | None:
    views = redacted_events(records, viewer, as_of)
    if records and records[0].track.value == "prevention":
        return fold_prevention_case(records[0].case_id, views)
    return fold_case(records[0].case_id, views) if records else None


def _records(app: SealedApplication, case_id: UUID, scrub: Scrub | None) -> list[EventRecord]:
    """The case's records, with every erased guardian a placeholder (`SubjectKeys.scrub`)."""
    records = app.records(case_id)
    return records if scrub is None else [scrub(r) for r in records]


def history(
    app: SealedApplication,
    case_id: UUID,
    as_of: datetime | None = None,
    version: int | None = None,
    *,
    scrub: Scrub | None = None,
) -> dict[str, Any]:
    """Every event up to the point asked for, unredacted (but for erased guardians, with
    `scrub`), and the case's state there."""
    records = [
        r
        for r in _records(app, case_id, scrub)
        if (as_of is None or r.at <= as_of) and (version is None or r.version <= version)
    ]
    state = _fold(records, AUDITOR, None) if records else None
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
    app: SealedApplication,
    case_id: UUID,
    agency: Agency,
    as_of: datetime | None = None,
    unit: str | None = None,
    *,
    scrub: Scrub | None = None,
) -> dict[str, Any]:
    """What a unit of `agency` could see of the case at `as_of`, under the consents,
    relations and policy then; `units`: every unit of the agency ever related to it."""
    records = _records(app, case_id, scrub)
    relations = CaseRelations()
    for record in records:
        relations.feed(record)
    # In the order they were related (the first related first).
    units = list(dict.fromkeys(r.viewer.unit for r in relations.relations if r.viewer.agency is agency))
    units = [u for u in units if u]
    if agency is not Agency.AUDITOR and unit is None:
        unit = units[0] if units else None
    doc = _fold(records, Viewer(agency, unit), as_of) if agency is Agency.AUDITOR or unit else None
    return {
        "id": str(case_id),
        "agency": agency.value,
        "unit": unit,
        "units": units,
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
