"""The contracts application: load a contract, call one command, save.

Methods return plain data (ids, versions, records), never aggregates, so the edges
cannot mutate domain objects behind the store's back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder

from domain.contract import Contract
from domain.policy import EventRecord, Track
from domain.rules import DEFAULT_RULES, Rules
from services.records import record_of
from services.transcoding import register_all


class VersionMismatchError(Exception):
    """The case has changed since the version the client last saw (`If-Match`)."""

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"expected version {expected}, the case is at version {actual}")
        self.expected = expected
        self.actual = actual


class CaseNotFoundError(Exception):
    """No case with this id."""


@dataclass(frozen=True)
class CommandResult:
    case_id: str
    version: int
    records: list[EventRecord]


class ContractsApplication(Application[UUID]):
    name = "contracts"
    rules: Rules = DEFAULT_RULES

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        register_all(transcoder)

    def offer(self, **kwargs: Any) -> CommandResult:
        contract = Contract.offer(rules=self.rules, **kwargs)
        return self._save(contract)

    def command(
        self, case_id: UUID, action: Callable[[Contract], None], expected_version: int | None = None
    ) -> CommandResult:
        """Run one command method (`lambda c: c.give_consent(...)`) and save what it recorded."""
        contract = self.load(case_id)
        if expected_version is not None and expected_version != contract.version:
            raise VersionMismatchError(expected_version, contract.version)
        action(contract)
        return self._save(contract)

    def load(self, case_id: UUID, version: int | None = None) -> Contract:
        try:
            contract = self.repository.get(case_id, version=version)
        except Exception as error:  # AggregateNotFoundError and friends
            if type(error).__name__ == "AggregateNotFoundError":
                raise CaseNotFoundError(str(case_id)) from None
            raise
        assert isinstance(contract, Contract)
        return contract

    def records(self, case_id: UUID, until: datetime | None = None) -> list[EventRecord]:
        """Every event of the case as plain records, in order (optionally up to a time)."""
        events = self.repository.event_store.get(case_id)
        out = [record_of(e, Track.CONTRACT) for e in events]
        if not out:
            raise CaseNotFoundError(str(case_id))
        return [r for r in out if until is None or r.at <= until]

    def _save(self, contract: Contract) -> CommandResult:
        pending = list(contract.pending_events)
        self.save(contract)
        return CommandResult(str(contract.id), contract.version,
                             [record_of(e, Track.CONTRACT) for e in pending])  # fmt: skip
