"""The prevention application: its own store and stream, never mixed with contracts."""

from __future__ import annotations

from typing import Any

from domain.policy import Track
from domain.prevention import PreventionCase
from domain.values import Agency
from services.store import CommandResult, LogView, SealedApplication


class PreventionApplication(SealedApplication):
    name = "prevention"
    track = Track.PREVENTION
    subject_field = "person"

    def register_concern(
        self, viewer: Agency | None = None, log_view: LogView | None = None, **kwargs: Any
    ) -> CommandResult:
        return self.create(PreventionCase.register_concern(**kwargs), viewer, log_view)
