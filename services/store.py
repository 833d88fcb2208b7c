"""What the two applications share: sealed storage, plain records, placeholders for erased data."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from domain.policy import EventRecord, Track
from domain.values import Agency
from services.group_commit import GroupCommitter
from services.keys import SubjectKeys
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


class SealedApplication(Application[UUID]):
    """An eventsourcing application whose events are sealed per person and hash-chained."""

    track: Track
    subject_field: str

    def __init__(self, env: dict[str, str], keys: SubjectKeys) -> None:
        self.keys = keys
        self.committer: GroupCommitter | None = None
        super().__init__(env=env)
        assert isinstance(self.mapper, SealingMapper)
        self.mapper.recorder = self.recorder

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
                track=self.track, case_id=str(stored.originator_id),
                version=stored.originator_version, type=stored.topic.rsplit(".", 1)[-1],
                at=ERASED_AT, actor="[erased]", actor_agency=Agency.AUDITOR,
                payload={"erased": True},
            )  # fmt: skip

    def save_and_record(self, aggregate: Any) -> tuple[int, list[EventRecord], int | None]:
        """(version, records, position): the position is the notification id of the last
        event saved, which read models report once they have applied it (read-your-writes)."""
        pending = list(aggregate.collect_events())
        if self.committer is not None:
            recordings = self.committer.save(str(aggregate.id), pending)
        else:
            try:
                recordings = list(self.save(*pending))
            except Exception:
                self.forget_head(str(aggregate.id))
                raise
        ids = [r.notification.id for r in recordings if r.notification is not None]
        return aggregate.version, [record_of(e, self.track) for e in pending], max(ids, default=None)

    def forget_head(self, case_id: str) -> None:
        """After a failed save the cached chain head may be one another writer replaced."""
        assert isinstance(self.mapper, SealingMapper)
        self.mapper.forget(case_id)

    def enable_group_commit(self) -> None:
        """Share transactions between concurrent commands (`services/group_commit.py`)."""
        self.committer = GroupCommitter(self.save, self.forget_head)

    def close(self) -> None:
        if self.committer is not None:
            self.committer.close()
        super().close()

    def load_aggregate(self, case_id: UUID) -> Any:
        try:
            return self.repository.get(case_id)
        except ErasedError:
            raise CaseErasedError(str(case_id)) from None
        except Exception as error:
            if type(error).__name__ == "AggregateNotFoundError":
                raise CaseNotFoundError(str(case_id)) from None
            raise
