"""The contracts application: offer a contract, run one command on it.

Methods return plain data (ids, versions, records, the caller's view), never
aggregates, so the edges cannot mutate domain objects behind the store's back.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.contract import Contract
from domain.policy import Track
from domain.values import Agency
from services.store import (
    CaseErasedError,
    CaseNotFoundError,
    CommandResult,
    LogView,
    SealedApplication,
    VersionMismatchError,
)

__all__ = [
    "CaseErasedError",
    "CaseNotFoundError",
    "CommandResult",
    "ContractsApplication",
    "LogView",
    "VersionMismatchError",
]


class ContractsApplication(SealedApplication):
    name = "contracts"
    track = Track.CONTRACT
    subject_field = "youth"

    def offer(
        self, viewer: Agency | None = None, log_view: LogView | None = None, **kwargs: Any
    ) -> CommandResult:
        return self.create(Contract.offer(rules=self.rules, **kwargs), viewer, log_view)

    def load(self, case_id: UUID) -> Contract:
        contract = self.load_aggregate(case_id)
        assert isinstance(contract, Contract)
        return contract
