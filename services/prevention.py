"""The prevention application: its own store and stream, never mixed with contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from domain.policy import EventRecord, Track
from domain.prevention import PreventionCase
from services.contracts import CaseNotFoundError, CommandResult, VersionMismatchError
from services.records import record_of
from services.transcoding import register_all


class PreventionApplication(Application[UUID]):
    name = "prevention"

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    def register_concern(self, **kwargs: Any) -> CommandResult:
        return self._save(PreventionCase.register_concern(**kwargs))

    def command(self, case_id: UUID, action: Callable[[PreventionCase], None],
                expected_version: int | None = None) -> CommandResult:  # fmt: skip
        case = self.load(case_id)
        if expected_version is not None and expected_version != case.version:
            raise VersionMismatchError(expected_version, case.version)
        action(case)
        return self._save(case)

    def load(self, case_id: UUID) -> PreventionCase:
        try:
            case = self.repository.get(case_id)
        except Exception as error:
            if type(error).__name__ == "AggregateNotFoundError":
                raise CaseNotFoundError(str(case_id)) from None
            raise
        assert isinstance(case, PreventionCase)
        return case

    def records(self, case_id: UUID) -> list[EventRecord]:
        out = [record_of(e, Track.PREVENTION) for e in self.repository.event_store.get(case_id)]
        if not out:
            raise CaseNotFoundError(str(case_id))
        return out

    def _save(self, case: PreventionCase) -> CommandResult:
        pending = list(case.pending_events)
        self.save(case)
        return CommandResult(str(case.id), case.version,
                             [record_of(e, Track.PREVENTION) for e in pending])  # fmt: skip
