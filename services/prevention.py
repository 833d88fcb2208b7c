"""The prevention application: its own store and stream, never mixed with contracts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from domain.policy import Track
from domain.prevention import PreventionCase
from services.contracts import CommandResult
from services.store import SealedApplication, VersionMismatchError


class PreventionApplication(SealedApplication):
    name = "prevention"
    track = Track.PREVENTION
    subject_field = "person"

    def register_concern(self, **kwargs: Any) -> CommandResult:
        case = PreventionCase.register_concern(**kwargs)
        return CommandResult(str(case.id), *self.save_and_record(case))

    def command(self, case_id: UUID, action: Callable[[PreventionCase], None],
                expected_version: int | None = None) -> CommandResult:  # fmt: skip
        case = self.load(case_id)
        if expected_version is not None and expected_version != case.version:
            raise VersionMismatchError(expected_version, case.version)
        action(case)
        return CommandResult(str(case_id), *self.save_and_record(case))

    def load(self, case_id: UUID) -> PreventionCase:
        case = self.load_aggregate(case_id)
        assert isinstance(case, PreventionCase)
        return case
