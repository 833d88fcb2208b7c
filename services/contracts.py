"""The contracts application: load a contract, call one command, save.

Methods return plain data (ids, versions, records), never aggregates, so the edges
cannot mutate domain objects behind the store's back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from domain.contract import Contract
from domain.policy import EventRecord, Track
from domain.rules import DEFAULT_RULES, Rules
from services.store import (
    CaseErasedError,
    CaseNotFoundError,
    SealedApplication,
    VersionMismatchError,
)

__all__ = ["CaseErasedError", "CaseNotFoundError", "CommandResult", "ContractsApplication",
           "VersionMismatchError"]  # fmt: skip


@dataclass(frozen=True)
class CommandResult:
    case_id: str
    version: int
    records: list[EventRecord]
    position: int | None = None  # notification id of the last event saved


class ContractsApplication(SealedApplication):
    name = "contracts"
    track = Track.CONTRACT
    subject_field = "youth"
    rules: Rules = DEFAULT_RULES

    def offer(self, **kwargs: Any) -> CommandResult:
        contract = Contract.offer(rules=self.rules, **kwargs)
        return CommandResult(str(contract.id), *self.save_and_record(contract))

    def command(
        self, case_id: UUID, action: Callable[[Contract], None], expected_version: int | None = None
    ) -> CommandResult:
        """Run one command method (`lambda c: c.give_consent(...)`) and save what it recorded."""
        contract = self.load(case_id)
        if expected_version is not None and expected_version != contract.version:
            raise VersionMismatchError(expected_version, contract.version)
        action(contract)
        return CommandResult(str(case_id), *self.save_and_record(contract))

    def load(self, case_id: UUID) -> Contract:
        contract = self.load_aggregate(case_id)
        assert isinstance(contract, Contract)
        return contract
