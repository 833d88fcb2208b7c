"""The contracts application: one method per use case of the drug contract.

Each method is get, call, save (`SealedApplication._command`): it names its action,
which `domain/permissions.py` grants to some agencies, and the one method of the
`Contract` aggregate it calls with the caller's actor, the instant and the rules.
Methods return plain data (ids, versions, the caller's view), never aggregates. The
queries (the caller's worklist and case view) are answered from the read models by
`services/queries.py`, which this application hands them to.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from uuid import UUID

from domain.contract import Contract
from domain.need_to_know import check_unit, municipal_units
from domain.permissions import CONTRACT_COMMANDS
from domain.policy import Track
from domain.values import (
    Agency,
    BreachKind,
    BreachResponse,
    MeetingKind,
    Offence,
    Person,
    Plan,
    ProportionalityFactors,
    ReplacedReaction,
    ScopeItem,
    TestKind,
    TestPurpose,
)
from services.context import Context
from services.sealed_application import CommandResult, SealedApplication


class ContractsApplication(SealedApplication):
    name = "contracts"
    track = Track.CONTRACT
    subject_field = "youth"
    commands = CONTRACT_COMMANDS

    def offer(
        self,
        case_id: UUID,
        youth: Person,
        guardians: tuple[Person, ...],
        offence: Offence,
        trinn: int,
        residence_municipality: str,
        registered_municipality: str,
        offer_deadline: date | None,
        legal_basis: str,
        replaces: ReplacedReaction,
        gp: str | None,
        school: str | None,
        ctx: Context,
    ) -> CommandResult:
        return self._create(
            "offer",
            ctx,
            lambda: Contract.offer(
                contract_id=case_id,
                youth=youth,
                guardians=guardians,
                offence=offence,
                trinn=trinn,
                residence_municipality=residence_municipality,
                registered_municipality=registered_municipality,
                offer_deadline=offer_deadline,
                legal_basis=legal_basis,
                replaces=replaces,
                actor=ctx.actor,
                at=ctx.at,
                rules=ctx.rules,
                offence_district=ctx.unit,
                units=municipal_units(ctx.register, residence_municipality, registered_municipality),
                register_version=ctx.register.version,
                gp=gp,
                school=school,
            ),
        )

    def give_consent(
        self,
        case_id: UUID,
        signatory: str,
        scope: tuple[ScopeItem, ...],
        booklet_version: str,
        booklet_language: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "give_consent",
            case_id,
            ctx,
            expected_version,
            lambda c: c.give_consent(
                signatory,
                scope,
                booklet_version,
                ctx.actor,
                ctx.at,
                ctx.rules,
                booklet_language=booklet_language,
            ),
        )

    def add_guardian(
        self, case_id: UUID, guardian: Person, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "add_guardian",
            case_id,
            ctx,
            expected_version,
            lambda c: c.add_guardian(guardian, ctx.actor, ctx.at, ctx.rules),
        )

    # --- whom the case relates to (docs/domain.md §9) ---

    def register_gp(
        self, case_id: UUID, hpr: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "register_gp",
            case_id,
            ctx,
            expected_version,
            lambda c: c.register_gp(hpr, ctx.actor, ctx.at, ctx.rules),
        )

    def register_school(
        self, case_id: UUID, organisation_number: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "register_school",
            case_id,
            ctx,
            expected_version,
            lambda c: c.register_school(organisation_number, ctx.actor, ctx.at, ctx.rules),
        )

    def change_residence(
        self,
        case_id: UUID,
        municipality: str,
        registered_municipality: str | None,
        moved_away: bool,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        """The youth moved; the registered (folkeregistrert) municipality moves with them
        unless another is named."""
        registered = registered_municipality or municipality
        return self._command(
            "change_residence",
            case_id,
            ctx,
            expected_version,
            lambda c: c.change_residence(
                municipality,
                registered,
                municipal_units(ctx.register, municipality, registered),
                ctx.register.version,
                ctx.actor,
                ctx.at,
                ctx.rules,
                moved_away=moved_away,
            ),
        )

    def add_team_member(
        self,
        case_id: UUID,
        agency: Agency,
        unit: str,
        sub: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        check_unit(agency, unit)
        return self._command(
            "add_team_member",
            case_id,
            ctx,
            expected_version,
            lambda c: c.add_team_member(agency, unit, sub, ctx.actor, ctx.at, ctx.rules),
        )

    def remove_team_member(
        self, case_id: UUID, member_id: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "remove_team_member",
            case_id,
            ctx,
            expected_version,
            lambda c: c.remove_team_member(member_id, ctx.actor, ctx.at, ctx.rules),
        )

    # --- deadlines (docs/domain.md §11): the scheduler's use cases ---

    def record_missed_deadline(
        self, case_id: UUID, rule: str, due: date, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "record_missed_deadline",
            case_id,
            ctx,
            expected_version,
            lambda c: c.record_missed_deadline(rule, due, ctx.actor, ctx.at, ctx.rules),
        )

    def escalate(
        self, case_id: UUID, rule: str, due: date, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "escalate",
            case_id,
            ctx,
            expected_version,
            lambda c: c.escalate(rule, due, ctx.actor, ctx.at, ctx.rules),
        )

    def withdraw_consent(
        self,
        case_id: UUID,
        signatory: str,
        scope: tuple[ScopeItem, ...] | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "withdraw_consent",
            case_id,
            ctx,
            expected_version,
            lambda c: c.withdraw_consent(signatory, scope, ctx.actor, ctx.at, ctx.rules),
        )

    def decline(
        self, case_id: UUID, signatory: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "decline",
            case_id,
            ctx,
            expected_version,
            lambda c: c.decline(signatory, ctx.actor, ctx.at, ctx.rules),
        )

    def lapse(self, case_id: UUID, ctx: Context, expected_version: int | None = None) -> CommandResult:
        return self._command(
            "lapse", case_id, ctx, expected_version, lambda c: c.lapse(ctx.actor, ctx.at, ctx.rules)
        )

    def schedule_startup(
        self,
        case_id: UUID,
        meeting_at: datetime,
        participants: tuple[Agency, ...],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "schedule_startup",
            case_id,
            ctx,
            expected_version,
            lambda c: c.schedule_startup(meeting_at, participants, ctx.actor, ctx.at, ctx.rules),
        )

    def hold_startup(
        self,
        case_id: UUID,
        plan: Plan,
        attendees: tuple[Agency, ...],
        notes: str,
        deviation_reason: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "hold_startup",
            case_id,
            ctx,
            expected_version,
            lambda c: c.hold_startup(
                plan, attendees, notes, ctx.actor, ctx.at, ctx.rules, deviation_reason=deviation_reason
            ),
        )

    def fail_startup(
        self, case_id: UUID, note: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "fail_startup",
            case_id,
            ctx,
            expected_version,
            lambda c: c.fail_startup(note, ctx.actor, ctx.at, ctx.rules),
        )

    def change_stage(
        self, case_id: UUID, trinn: int, reason: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "change_stage",
            case_id,
            ctx,
            expected_version,
            lambda c: c.change_stage(trinn, reason, ctx.actor, ctx.at, ctx.rules),
        )

    def amend_plan(
        self,
        case_id: UUID,
        plan: Plan,
        reason: str,
        deviation_reason: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "amend_plan",
            case_id,
            ctx,
            expected_version,
            lambda c: c.amend_plan(
                plan, reason, ctx.actor, ctx.at, ctx.rules, deviation_reason=deviation_reason
            ),
        )

    def schedule_test(
        self,
        case_id: UUID,
        test_id: str,
        kind: TestKind,
        purpose: TestPurpose,
        random: bool,
        scheduled_for: date,
        confirms_test_id: str | None,
        result_by: Agency | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "schedule_test",
            case_id,
            ctx,
            expected_version,
            lambda c: c.schedule_test(
                test_id,
                kind,
                purpose,
                random,
                scheduled_for,
                ctx.actor,
                ctx.at,
                ctx.rules,
                confirms_test_id=confirms_test_id,
                result_by=result_by,
            ),
        )

    def record_test_result(
        self,
        case_id: UUID,
        test_id: str,
        positives: tuple[str, ...],
        collected_at: datetime,
        panel: tuple[str, ...],
        requisition_code: str,
        interpretation: str,
        confirms_test_id: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "record_test_result",
            case_id,
            ctx,
            expected_version,
            lambda c: c.record_test_result(
                test_id,
                positives,
                collected_at,
                ctx.actor,
                ctx.at,
                panel=panel,
                requisition_code=requisition_code,
                interpretation=interpretation,
                rules=ctx.rules,
                confirms_test_id=confirms_test_id,
            ),
        )

    def hold_meeting(
        self,
        case_id: UUID,
        kind: MeetingKind,
        held_at: datetime,
        attended: bool,
        notes: str,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "hold_meeting",
            case_id,
            ctx,
            expected_version,
            lambda c: c.hold_meeting(kind, held_at, attended, notes, ctx.actor, ctx.at, ctx.rules),
        )

    def record_no_show(
        self,
        case_id: UUID,
        appointment: str,
        excuse: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "record_no_show",
            case_id,
            ctx,
            expected_version,
            lambda c: c.record_no_show(appointment, excuse, ctx.actor, ctx.at, ctx.rules),
        )

    def register_breach(
        self,
        case_id: UUID,
        breach_id: str,
        kind: BreachKind,
        evidence: str,
        test_id: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "register_breach",
            case_id,
            ctx,
            expected_version,
            lambda c: c.register_breach(breach_id, kind, evidence, test_id, ctx.actor, ctx.at, ctx.rules),
        )

    def decide_breach(
        self,
        case_id: UUID,
        breach_id: str,
        response: BreachResponse,
        factors: ProportionalityFactors | None,
        reason: str,
        plan: Plan | None,
        deviation_reason: str | None,
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "decide_breach",
            case_id,
            ctx,
            expected_version,
            lambda c: c.decide_breach(
                breach_id,
                response,
                factors,
                reason,
                ctx.actor,
                ctx.at,
                plan=plan,
                rules=ctx.rules,
                deviation_reason=deviation_reason,
            ),
        )

    def complete(self, case_id: UUID, ctx: Context, expected_version: int | None = None) -> CommandResult:
        return self._command(
            "complete", case_id, ctx, expected_version, lambda c: c.complete(ctx.actor, ctx.at, ctx.rules)
        )

    def return_to_prosecution(
        self, case_id: UUID, note: str, ctx: Context, expected_version: int | None = None
    ) -> CommandResult:
        return self._command(
            "return_to_prosecution",
            case_id,
            ctx,
            expected_version,
            lambda c: c.return_to_prosecution(note, ctx.actor, ctx.at, ctx.rules),
        )

    def submit_evaluation(
        self,
        case_id: UUID,
        respondent_role: str,
        form_version: str,
        answers: dict[str, Any],
        ctx: Context,
        expected_version: int | None = None,
    ) -> CommandResult:
        return self._command(
            "submit_evaluation",
            case_id,
            ctx,
            expected_version,
            lambda c: c.submit_evaluation(
                respondent_role, form_version, answers, ctx.actor, ctx.at, ctx.rules, ctx.forms
            ),
        )

    def load(self, case_id: UUID) -> Contract:
        contract = self.load_aggregate(case_id)
        assert isinstance(contract, Contract)
        return contract
