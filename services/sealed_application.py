"""What both applications share: get, decide, save — sealed, permitted, logged.

Every use case of `services/contracts.py` and `services/prevention.py` is a method of a
few lines that names its action and the domain method it calls; this base class makes
the decisions they all share, once: the agency's permission (`domain/permissions.py`),
whether the caller may know the case at all (404 otherwise), the `If-Match` version
(412), the refusal with what the caller may do instead (409/422), the access-log entry
of the view the caller is answered with, and sealing and storing the new events.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, StoredEvent

from domain.errors import DomainError
from domain.permissions import Table, may, on_the_track, who_may
from domain.policy import EventRecord, Track
from domain.rules import DEFAULT_RULES, Rules
from domain.values import Agency
from services.access import AccessEntry, AccessRecorder
from services.context import Context
from services.errors import (
    AccessDeniedError,
    CaseErasedError,
    CaseNotFoundError,
    CommandRefusedError,
    VersionMismatchError,
)
from services.group_commit import GroupCommitter
from services.keys import SubjectKeys
from services.live_cases import LiveCase, LiveCases
from services.records import record_of
from services.sealing import ErasedError, SealingMapper
from services.transcoding import register_all

# The placeholder an erased event is shown as: its envelope is kept (the chain still
# verifies), its content and time are gone.
ERASED_AT = datetime(1970, 1, 1, tzinfo=UTC)
ERASED_ACTOR = "[erased]"

# A save that conflicts means another process wrote the case since this one cached it:
# the command is run again on the current state, a few times at most.
CONFLICT_RETRIES = 3

Decide = Callable[[Any], None]  # calls one command method of the aggregate


@dataclass(frozen=True)
class CommandResult:
    case_id: str
    version: int
    position: int | None = None  # notification id of the last event saved
    view: dict[str, Any] | None = None  # the case as the commanding agency sees it now


def require(ctx: Context, action: str, table: Table) -> None:
    """Refuse (403) unless the caller's agency may perform `action` (a command or a query)."""
    if not may(ctx.agency, action, table):
        allowed = ", ".join(a.value for a in who_may(action, table)) or "nobody"
        raise AccessDeniedError(f"{ctx.agency.value} may not {action.replace('_', ' ')} (only {allowed} may)")


def require_track(agency: Agency, track: Track, *tables: Table) -> None:
    """Refuse (403) an agency that has no use case on the track at all, before anything
    else about its request is looked at (the prosecution on the preventive track)."""
    if not on_the_track(agency, *tables):
        raise AccessDeniedError(f"the {track.value} track is closed to {agency.value}")


def _version(view: dict[str, Any] | None, version: int) -> int:
    """The version a caller was shown (the case's, when it was shown nothing)."""
    return int(view["version"]) if view is not None else version


class SealedApplication(Application[UUID]):
    """An eventsourcing application whose events are sealed per person and hash-chained."""

    track: Track
    subject_field: str
    commands: Table

    def __init__(
        self,
        env: dict[str, str],
        keys: SubjectKeys,
        access: AccessRecorder,
        rules: Rules = DEFAULT_RULES,
        live_cases: int = 1000,
        group_commit: bool = False,
        on_saved: Callable[[], None] | None = None,
    ) -> None:
        self.keys = keys
        self.access = access
        self.rules = rules
        # Called after every durable commit (embedded mode wakes its projector); never blocks.
        self.on_saved = on_saved
        super().__init__(env=env)
        assert isinstance(self.mapper, SealingMapper)
        self.mapper.recorder = self.recorder
        self.live = LiveCases(
            self.track, rules, self._events_of, live_cases, scrub=keys.scrub, events_after=self._events_after
        )
        # Whether the event store writes a command's access-log entries in the events'
        # transaction (PostgreSQL); otherwise they are written right after the commit.
        self.stores_access_entries = bool(getattr(self.recorder, "stores_access_entries", False))
        # Concurrent commands on different cases share a transaction (`services/group_commit.py`).
        self.committer = (
            GroupCommitter(self.recorder.insert_events, self.forget_head) if group_commit else None
        )

    # --- the shape of every command ---------------------------------------------------------

    def _create(self, action: str, ctx: Context, build: Callable[[], Any]) -> CommandResult:
        """Save a new case built by `build()`; answer with the caller's view of it."""
        require(ctx, action, self.commands)
        aggregate = build()
        pending = list(aggregate.collect_events())
        case = self.live.new(aggregate, [record_of(e, self.track) for e in pending])
        seen = self._seen(case, ctx)
        view = seen if ctx.shows_view else None
        position = self._commit(str(aggregate.id), pending, ctx, action, view)
        self.live.keep(case)
        return CommandResult(str(aggregate.id), _version(seen, aggregate.version), position, view)

    def _command(
        self, action: str, case_id: UUID, ctx: Context, expected_version: int | None, decide: Decide
    ) -> CommandResult:
        """Run one command of `ctx`'s agency on the case's current state and save it."""
        require(ctx, action, self.commands)
        return self.command(case_id, decide, expected_version, ctx, action)

    def command(
        self,
        case_id: UUID,
        decide: Decide,
        expected_version: int | None = None,
        ctx: Context | None = None,
        action: str = "command",
    ) -> CommandResult:
        """Get the case, let `decide` call one command method on it, save what it recorded.

        With a `ctx`, the case is unknown (`CaseNotFoundError`) unless the caller's unit is
        related to it and may know it (docs/domain.md §9); `expected_version` and the
        result's version are the version the caller has seen (never counting events it may
        not know of), and the result carries its view after the command, logged as shown.
        Without one (set-up in tests and benchmarks) nobody is shown anything.
        """
        for attempt in range(CONFLICT_RETRIES + 1):
            with self.live.checkout(case_id) as case:
                try:
                    return self._run(case, decide, expected_version, ctx, action)
                except IntegrityError:
                    case.discard()
                    if attempt == CONFLICT_RETRIES:
                        raise
                except Exception as error:
                    if case.fresh or attempt == CONFLICT_RETRIES or self._is_current(case):
                        # Refused on the current state (or on the newest we could get).
                        if isinstance(error, DomainError) and ctx is not None:
                            raise self._refused(error, case, ctx) from error
                        raise
                    case.discard()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _run(
        self, case: LiveCase, decide: Decide, expected_version: int | None, ctx: Context | None, action: str
    ) -> CommandResult:
        viewer = ctx.viewer(self.track) if ctx is not None else None
        seen = case.seen_version(viewer) if viewer is not None else None
        if ctx is not None and seen is None:
            raise CaseNotFoundError(str(case.aggregate.id))
        if ctx is not None and not self._related_now(case, ctx):
            # It knows the case (it saw it), so a 403 tells it nothing new.
            raise AccessDeniedError("your unit is no longer related to this case: it keeps what it saw")
        seen = case.version if seen is None else seen
        if expected_version is not None and expected_version != seen:
            raise VersionMismatchError(expected_version, seen)
        decide(case.aggregate)
        pending = list(case.aggregate.collect_events())
        try:
            # Advanced before the commit: a checked-out case is seen by no one else, and
            # it is discarded if the commit fails.
            case.advance([record_of(e, self.track) for e in pending])
            after = self._seen(case, ctx) if ctx is not None else None
            view = after if ctx is not None and ctx.shows_view else None
            position = self._commit(str(case.aggregate.id), pending, ctx, action, view)
        except BaseException:
            case.discard()
            raise
        return CommandResult(str(case.aggregate.id), _version(after, case.version), position, view)

    def _seen(self, case: LiveCase, ctx: Context) -> dict[str, Any] | None:
        """The case as the caller's unit sees it now; None when it may not know the case."""
        viewer = ctx.viewer(self.track)
        return case.view(viewer, ctx.at) if viewer is not None else None

    def _related_now(self, case: LiveCase, ctx: Context) -> bool:
        viewer = ctx.viewer(self.track)
        return viewer is not None and case.related(viewer, ctx.at)

    def _refused(self, error: DomainError, case: LiveCase, ctx: Context) -> CommandRefusedError:
        """The refusal with what the caller's view says may be done instead, and, while the
        offer waits on signatories, whose consent is missing."""
        view = self._seen(case, ctx)
        if view is None:
            return CommandRefusedError(error, None)
        missing = view.get("consents_missing")
        return CommandRefusedError(
            error, list(view.get("allowed_actions", [])), list(missing) if missing else None
        )

    def _is_current(self, case: LiveCase) -> bool:
        latest = self.recorder.select_events(case.aggregate.id, desc=True, limit=1)
        return bool(latest) and latest[0].originator_version == case.version

    def _events_of(self, case_id: UUID) -> list[Any]:
        stored = self.stored_events(case_id)
        if not stored:
            raise CaseNotFoundError(str(case_id))
        return self._opened(case_id, stored)

    def _events_after(self, case_id: UUID, version: int) -> list[Any]:
        return self._opened(case_id, self.recorder.select_events(case_id, gt=version))

    def _opened(self, case_id: UUID, stored: Sequence[StoredEvent]) -> list[Any]:
        """The case's stored events as domain events (`CaseErasedError` once its key is gone)."""
        try:
            return [self.mapper.to_domain_event(s) for s in stored]
        except ErasedError:
            raise CaseErasedError(str(case_id)) from None

    def _commit(
        self,
        case_id: str,
        pending: list[Any],
        ctx: Context | None = None,
        action: str = "",
        view: dict[str, Any] | None = None,
    ) -> int | None:
        """Store the case's new events durably, with the access-log entry of the `view` the
        caller is shown; the position is the notification id of the last event saved,
        which read models report once they have applied it (read-your-writes)."""
        try:
            # Sealed here, under the case's lock: this also links a new case to its person,
            # which the access-log entry names (so the entry is built after sealing).
            stored = [self.mapper.to_stored_event(e) for e in pending]
            entries: list[AccessEntry] = (
                self.access.entries(ctx, f"command:{action}", [view]) if ctx is not None and view else []
            )
            together = entries if self.stores_access_entries else []
            ids: Sequence[int]
            if self.committer is not None:
                ids = self.committer.save(case_id, stored, together)
            else:
                ids = self.recorder.insert_events(stored, access_entries=together) or []
        except Exception:
            self.forget_head(case_id)
            raise
        if entries and not together:
            self.access.record(entries)
        if self.on_saved is not None:
            self.on_saved()
        return max(ids, default=None)

    # --- reading the store ------------------------------------------------------------------

    def construct_mapper(self) -> Mapper[UUID]:
        return SealingMapper(self.construct_transcoder(), self.keys, self.subject_field)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    def stored_events(self, case_id: UUID) -> list[StoredEvent]:
        return list(self.recorder.select_events(case_id))

    def records(self, case_id: UUID, until: datetime | None = None) -> list[EventRecord]:
        """Every event of the case as plain records, in order; erased ones as placeholders."""
        out = [self.record_or_placeholder(s) for s in self.stored_events(case_id)]
        if not out:
            raise CaseNotFoundError(str(case_id))
        return [r for r in out if until is None or r.at <= until]

    def record_or_placeholder(self, stored: StoredEvent) -> EventRecord:
        try:
            return record_of(self.mapper.to_domain_event(stored), self.track)
        except ErasedError:
            return EventRecord(
                track=self.track,
                case_id=str(stored.originator_id),
                version=stored.originator_version,
                type=stored.topic.rsplit(".", 1)[-1],
                at=ERASED_AT,
                actor=ERASED_ACTOR,
                actor_agency=Agency.AUDITOR,
                payload={"erased": True},
            )

    def save_and_record(self, aggregate: Any) -> tuple[int, list[EventRecord], int | None]:
        """Save an aggregate built outside a command (benchmarks' and tests' set-up)."""
        pending = list(aggregate.collect_events())
        position = self._commit(str(aggregate.id), pending)
        return aggregate.version, [record_of(e, self.track) for e in pending], position

    def forget_head(self, case_id: str) -> None:
        """After a failed save the cached chain head may be one another writer replaced."""
        assert isinstance(self.mapper, SealingMapper)
        self.mapper.forget(case_id)

    def load_aggregate(self, case_id: UUID) -> Any:
        try:
            return self.repository.get(case_id)
        except ErasedError:
            raise CaseErasedError(str(case_id)) from None
        except AggregateNotFoundError:
            raise CaseNotFoundError(str(case_id)) from None
