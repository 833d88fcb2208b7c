"""The prevention application: its own store and stream, never mixed with contracts.

One method per use case, as in `services/contracts.py`; `domain/permissions.py` keeps
the prosecution out of every one of them.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from domain.need_to_know import municipal_units
from domain.permissions import PREVENTION_COMMANDS
from domain.policy import Track
from domain.prevention import ConcernSource, PreventionCase
from domain.values import Agency, Person
from services.context import Context
from services.sealed_application import CommandResult, SealedApplication


class PreventionApplication(SealedApplication):
    name = "prevention"
    track = Track.PREVENTION
    subject_field = "person"
    commands = PREVENTION_COMMANDS

    def register_concern(
        self,
        case_id: UUID,
        person: Person,
        source: ConcernSource,
        municipality: str,
        summary: str,
        ctx: Context,
    ) -> CommandResult:
        return self._create(
            "register_concern",
            ctx,
            lambda: PreventionCase.register_concern(
                case_id=case_id,
                person=person,
                source=source,
                municipality=municipality,
                summary=summary,
                actor=ctx.actor,
                at=ctx.at,
                rules=ctx.rules,
                units=municipal_units(ctx.register, municipality, also={Agency.POLICE: ctx.unit}),
                register_version=ctx.register.version,
            ),
        )

    def offer_conversation(
        self, case_id: UUID, note: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "offer_conversation",
            case_id,
            ctx,
            expected_version,
            lambda case: case.offer_conversation(note, ctx.actor, ctx.at),
        )

    def decline_conversation(
        self, case_id: UUID, note: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "decline_conversation",
            case_id,
            ctx,
            expected_version,
            lambda case: case.decline_conversation(note, ctx.actor, ctx.at),
        )

    def offer_counselling(
        self, case_id: UUID, note: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "offer_counselling",
            case_id,
            ctx,
            expected_version,
            lambda case: case.offer_counselling(note, ctx.actor, ctx.at),
        )

    def accept_counselling(
        self, case_id: UUID, note: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "accept_counselling",
            case_id,
            ctx,
            expected_version,
            lambda case: case.accept_counselling(note, ctx.actor, ctx.at),
        )

    def decline_counselling(
        self, case_id: UUID, note: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "decline_counselling",
            case_id,
            ctx,
            expected_version,
            lambda case: case.decline_counselling(note, ctx.actor, ctx.at),
        )

    def hold_conversation(
        self, case_id: UUID, held_at: datetime, notes: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "hold_conversation",
            case_id,
            ctx,
            expected_version,
            lambda case: case.hold_conversation(held_at, notes, ctx.actor, ctx.at),
        )

    def report_to_child_welfare(
        self, case_id: UUID, reason: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "report_to_child_welfare",
            case_id,
            ctx,
            expected_version,
            lambda case: case.report_to_child_welfare(reason, ctx.actor, ctx.at),
        )

    # Not `close`: that is eventsourcing's `Application.close`, which closes the store.
    def close_case(
        self, case_id: UUID, reason: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "close", case_id, ctx, expected_version, lambda case: case.close(reason, ctx.actor, ctx.at)
        )
