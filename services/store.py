"""What the two applications share: sealed storage, plain records, placeholders for erased data."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, StoredEvent

from domain.policy import EventRecord, Track
from domain.rules import DEFAULT_RULES, Rules
from domain.values import Agency
from services.group_commit import GroupCommitter
from services.keys import SubjectKeys
from services.live_cases import LiveCase, LiveCases
from services.records import record_of
from services.sealing import ErasedError, SealingMapper
from services.transcoding import register_all

ERASED_AT = datetime(1970, 1, 1, tzinfo=UTC)


class CaseNotFoundError(Exception):
    """No case with this id."""


class VersionMismatchError(Exception):
    """The case has changed since the version the client last saw (`If-Match`)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, the case is at version {actual}")
        self.expected = expected
        self.actual = actual


class CaseErasedError(Exception):
    """This case's personal data was erased; it can be verified but no longer changed or read."""


@dataclass(frozen=True)
class CommandResult:
    case_id: str
    version: int
    position: int | None = None  # notification id of the last event saved
    view: dict[str, Any] | None = None  # the case as the commanding agency sees it now


# Given the view a command's caller is about to be shown: the access-log entries of that.
LogView = Callable[[dict[str, Any]], Sequence[Any]]


def _no_access_log(entries: Sequence[Any]) -> None:
    raise RuntimeError("access-log entries given, but no access log wired (infra/bootstrap.py)")


# A save that conflicts means another process wrote the case since this one cached it:
# the command is run again on the current state, a few times at most.
CONFLICT_RETRIES = 3


class SealedApplication(Application[UUID]):
    """An eventsourcing application whose events are sealed per person and hash-chained."""

    track: Track
    subject_field: str

    def __init__(
        self, env: dict[str, str], keys: SubjectKeys, rules: Rules = DEFAULT_RULES, live_cases: int = 1000
    ) -> None:
        self.keys = keys
        self.rules = rules
        self.committer: GroupCommitter | None = None
        # Called after every command's durable commit (embedded mode wakes its projector).
        self.after_save: list[Callable[[], None]] = []
        super().__init__(env=env)
        assert isinstance(self.mapper, SealingMapper)
        self.mapper.recorder = self.recorder
        self.live = LiveCases(self.track, rules, self._events_of, live_cases)
        # Where the access-log entries of commands' answers go when the event store cannot
        # store them in the events' transaction (SQLite: the log is another database).
        self.stores_access_entries = bool(getattr(self.recorder, "stores_access_entries", False))
        self.log_separately: Callable[[Sequence[Any]], None] = _no_access_log

    # --- commands -------------------------------------------------------------------------

    def create(
        self, aggregate: Any, viewer: Agency | None = None, log_view: LogView | None = None
    ) -> CommandResult:
        """Save a new case; the result carries `viewer`'s view of it."""
        pending = list(aggregate.collect_events())
        case = self.live.new(aggregate, [record_of(e, self.track) for e in pending])
        view = case.view(viewer) if viewer else None
        position = self._commit(str(aggregate.id), pending, view, log_view)
        self.live.keep(case)
        return CommandResult(str(aggregate.id), aggregate.version, position, view)

    def command(
        self,
        case_id: UUID,
        action: Callable[[Any], None],
        expected_version: int | None = None,
        viewer: Agency | None = None,
        log_view: LogView | None = None,
    ) -> CommandResult:
        """Run one command method (`lambda c: c.give_consent(...)`) on the case's current
        state and save what it recorded.

        With a `viewer`, the case is unknown (`CaseNotFoundError`) unless that agency may
        know it, and the result carries the agency's view after the command;
        `log_view(view)` gives the access-log entries of showing it, stored with the events.
        """
        for attempt in range(CONFLICT_RETRIES + 1):
            with self.live.checkout(case_id) as case:
                try:
                    return self._run(case, action, expected_version, viewer, log_view)
                except IntegrityError:
                    case.discard()
                    if attempt == CONFLICT_RETRIES:
                        raise
                except Exception:
                    if case.fresh or attempt == CONFLICT_RETRIES or self._is_current(case):
                        raise  # refused on the current state (or on the newest we could get)
                    case.discard()
        raise AssertionError("unreachable: the last attempt returns or raises")

    def case_view(self, case_id: UUID, agency: Agency) -> dict[str, Any] | None:
        """`agency`'s view of the case's current state (for a refusal's `allowed_actions`)."""
        with self.live.checkout(case_id) as case:
            if not (case.fresh or self._is_current(case)):
                case.discard()
                return None
            return case.view(agency)

    def _run(
        self,
        case: LiveCase,
        action: Callable[[Any], None],
        expected_version: int | None,
        viewer: Agency | None,
        log_view: LogView | None,
    ) -> CommandResult:
        if viewer is not None and case.view(viewer) is None:
            raise CaseNotFoundError(str(case.aggregate.id))
        if expected_version is not None and expected_version != case.version:
            raise VersionMismatchError(expected_version, case.version)
        action(case.aggregate)
        pending = list(case.aggregate.collect_events())
        try:
            # Advanced before the commit: a checked-out case is seen by no one else, and
            # it is discarded if the commit fails.
            case.advance([record_of(e, self.track) for e in pending])
            view = case.view(viewer) if viewer else None
            position = self._commit(str(case.aggregate.id), pending, view, log_view)
        except BaseException:
            case.discard()
            raise
        return CommandResult(str(case.aggregate.id), case.version, position, view)

    def _is_current(self, case: LiveCase) -> bool:
        latest = self.recorder.select_events(case.aggregate.id, desc=True, limit=1)
        return bool(latest) and latest[0].originator_version == case.version

    def _events_of(self, case_id: UUID) -> list[Any]:
        stored = self.stored_events(case_id)
        if not stored:
            raise CaseNotFoundError(str(case_id))
        try:
            return [self.mapper.to_domain_event(s) for s in stored]
        except ErasedError:
            raise CaseErasedError(str(case_id)) from None

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
                actor="[erased]",
                actor_agency=Agency.AUDITOR,
                payload={"erased": True},
            )

    def _commit(
        self, case_id: str, pending: list[Any], view: dict[str, Any] | None, log_view: LogView | None
    ) -> int | None:
        """Store the case's new events durably, with the access-log entries of showing
        `view`; the position is the notification id of the last event saved, which read
        models report once they have applied it (read-your-writes)."""
        try:
            # Sealed here, under the case's lock: this also links a new case to its person,
            # which the access-log entry names.
            stored = [self.mapper.to_stored_event(e) for e in pending]
            entries = log_view(view) if log_view is not None and view is not None else ()
            together = entries if self.stores_access_entries else ()
            if self.committer is not None:
                ids = self.committer.save(case_id, stored, together)
            else:
                ids = self.recorder.insert_events(stored, access_entries=together) or []
        except Exception:
            self.forget_head(case_id)
            raise
        if entries and not together:
            self.log_separately(entries)
        for hook in self.after_save:
            hook()
        return max(ids, default=None)

    def save_and_record(self, aggregate: Any) -> tuple[int, list[EventRecord], int | None]:
        """Save an aggregate built outside a command (benchmarks' and tests' set-up)."""
        pending = list(aggregate.collect_events())
        position = self._commit(str(aggregate.id), pending, None, None)
        return aggregate.version, [record_of(e, self.track) for e in pending], position

    def forget_head(self, case_id: str) -> None:
        """After a failed save the cached chain head may be one another writer replaced."""
        assert isinstance(self.mapper, SealingMapper)
        self.mapper.forget(case_id)

    def enable_group_commit(self) -> None:
        """Share transactions between concurrent commands (`services/group_commit.py`)."""
        self.committer = GroupCommitter(self.recorder.insert_events, self.forget_head)

    def load_aggregate(self, case_id: UUID) -> Any:
        try:
            return self.repository.get(case_id)
        except ErasedError:
            raise CaseErasedError(str(case_id)) from None
        except Exception as error:
            if type(error).__name__ == "AggregateNotFoundError":
                raise CaseNotFoundError(str(case_id)) from None
            raise
