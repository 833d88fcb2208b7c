"""The drug contract (ruskontrakt) aggregate: its events, its status and its refusals.

Every public command asks the lifecycle machine (`domain/lifecycle.py`) whether the
action is allowed and lets `ContractGuards` check the rule, then triggers one or more
events. Events record the status they leave the contract in, so replay only copies
state and never re-runs a guard.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, cast
from uuid import UUID

from eventsourcing.domain import Aggregate
from statemachine.exceptions import TransitionNotAllowed

from domain.consent import ConsentRegister, local_day
from domain.errors import (
    ActionNotAllowedError,
    InvalidInputError,
    NotPermittedError,
    RuleViolationError,
)
from domain.lifecycle import ContractLifecycle, unguarded_outcome
from domain.policy import consentable
from domain.rules import DEFAULT_RULES, Rules
from domain.values import (
    Actor,
    Agency,
    BreachKind,
    BreachResponse,
    MeetingKind,
    Offence,
    Person,
    Plan,
    ProportionalityFactors,
    ScopeItem,
    TerminationReason,
    TestKind,
    TestPurpose,
    scope_of,
)


class ContractStatus(Enum):
    OFFERED = "offered"
    CONSENTED = "consented"
    STARTUP_SCHEDULED = "startup_scheduled"
    ACTIVE = "active"
    BREACH_REVIEW = "breach_review"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    RETURNED = "returned"
    DECLINED = "declined"
    LAPSED = "lapsed"


FINAL_STATUSES = frozenset(
    {ContractStatus.COMPLETED, ContractStatus.RETURNED, ContractStatus.DECLINED, ContractStatus.LAPSED}
)


# --- refusals (the first docstring line is the rule) ---


class AgeOutOfRangeError(InvalidInputError):
    """A contract may only be offered to a youth aged 15 to 17 on the offer date."""


class GuardianRequiredError(InvalidInputError):
    """A youth under 18 must have at least one registered guardian."""


class OfferDeadlineInvalidError(InvalidInputError):
    """The offer deadline must be after the offer date."""


class OfferDeadlineNotPassedError(RuleViolationError):
    """An offer lapses only after its answer deadline has passed."""


class UnknownSignatoryError(InvalidInputError):
    """The signatory must be the youth or one of the registered guardians."""


class ScopeNotConsentableError(InvalidInputError):
    """Consent cannot open a category the policy closes for that agency (never, or statistics only)."""


class ConsentAlreadyGivenError(RuleViolationError):
    """This signatory has already consented to the contract and to every item of this scope."""


class ConsentNotGivenError(RuleViolationError):
    """A consent can only be withdrawn by a signatory who has given it."""


class PlanIncompleteError(InvalidInputError):
    """A plan needs stage, start and end date, test regime, meeting frequency and team."""


class PlanTooLongError(InvalidInputError):
    """A plan's end date must be after its start date and at most 12 months after it."""


class MunicipalitiesMissingError(InvalidInputError):
    """When residence and registered municipality differ, the plan must name both."""


class StageInvalidError(InvalidInputError):
    """The stage (trinn) must be one of the configured stages and differ from the current one."""


class TestFrequencyStepDownError(RuleViolationError):
    """Test frequency may step down only after the configured number of consecutive negative tests."""


class TestFrequencyStepUpError(RuleViolationError):
    """Test frequency steps up only through a breach decision."""


class UnknownTestError(InvalidInputError):
    """No test with this id is scheduled on this contract."""


class TestResultAlreadyRecordedError(RuleViolationError):
    """A test result is recorded once; a correction is a new test."""


class DuplicateIdError(InvalidInputError):
    """This id is already used on this contract."""


class BreachEvidenceError(InvalidInputError):
    """A positive-test breach must name a test with a recorded positive result."""


class UnknownBreachError(InvalidInputError):
    """No breach with this id is under review on this contract."""


class ProportionalityFactorsMissingError(InvalidInputError):
    """Every breach decision must record seriousness, fault, condition kind, motivation, share completed and repetition."""


class RapidTestNotConfirmedError(RuleViolationError):
    """A breach resting only on unconfirmed rapid tests cannot be answered with termination."""


class TerminationNotGroundedError(RuleViolationError):
    """Termination needs a confirmed lab result, a new offence, repeated no-shows or repeated breaches."""


class StageOneSingleBreachError(RuleViolationError):
    """In stage 1 (trinn 1) a single breach is answered with a warning or a conversation, never termination."""


class EndDateNotReachedError(RuleViolationError):
    """A contract can be completed only when the plan's end date has been reached."""


class ResultRecorderNotPermittedError(NotPermittedError):
    """Rapid results are recorded by municipal health, follow-up lab results by the GP, sanction lab results by the prosecution."""


# --- state kept for tests and breaches ---


@dataclass
class TestState:
    kind: TestKind
    purpose: TestPurpose
    positives: tuple[str, ...] | None = None  # None: no result yet

    @property
    def confirmed_positive(self) -> bool:
        return self.kind is TestKind.LAB and bool(self.positives)


@dataclass
class BreachState:
    kind: BreachKind
    test_id: str | None
    response: BreachResponse | None = None


@dataclass
class ContractGuards:
    """The model the lifecycle machine is bound to: one method per named guard."""

    contract: Contract
    actor: Actor
    at: datetime
    rules: Rules
    state: str | None = field(default=None)  # written by python-statemachine, not used

    @property
    def day(self) -> date:
        return local_day(self.at)

    def completes_contract_consent(self, signatory: str) -> bool:
        missing = self.contract.consents.missing_signatories(self.at)
        return set(missing) <= {signatory}

    def withdraws_contract_consent(self, signatory: str, scope: tuple[ScopeItem, ...] | None = None) -> bool:
        """Only a required signatory's withdrawal ends the contract (a guardian's no longer
        is once the youth is 18)."""
        return scope is None and signatory in self.contract.consents.required_signatories(self.at)

    def offer_deadline_passed(self) -> None:
        if self.day <= self.contract.offer_deadline:
            raise OfferDeadlineNotPassedError(f"the deadline is {self.contract.offer_deadline}")

    def plan_is_complete(self, plan: Plan | None = None) -> None:
        check_plan(self.contract, plan, self.rules)

    def stage_change_is_valid(self, to_trinn: int) -> None:
        if to_trinn not in self.rules.stages or to_trinn == self.contract.trinn:
            raise StageInvalidError(f"trinn {to_trinn} (current {self.contract.trinn})")

    def amendment_is_valid(self, plan: Plan) -> None:
        check_plan(self.contract, plan, self.rules)
        current = self.contract.plan
        if current is not None and plan.test_regime.per_month > current.test_regime.per_month:
            raise TestFrequencyStepUpError(
                f"{current.test_regime.per_month} -> {plan.test_regime.per_month} tests per month"
            )
        self._step_down_allowed(plan)

    def _step_down_allowed(self, plan: Plan) -> None:
        current = self.contract.plan
        needed = self.rules.step_down_after_negative_tests
        lower = current is not None and plan.test_regime.per_month < current.test_regime.per_month
        if lower and self.contract.consecutive_negatives < needed:
            raise TestFrequencyStepDownError(
                f"{self.contract.consecutive_negatives} consecutive negative tests, {needed} needed"
            )

    def test_result_is_valid(self, test_id: str) -> None:
        test = self.contract.tests.get(test_id)
        if test is None:
            raise UnknownTestError(test_id)
        if test.positives is not None:
            raise TestResultAlreadyRecordedError(test_id)
        expected = {
            (TestKind.RAPID, TestPurpose.FOLLOW_UP): Agency.MUNICIPAL_HEALTH,
            (TestKind.RAPID, TestPurpose.SANCTION): Agency.MUNICIPAL_HEALTH,
            (TestKind.LAB, TestPurpose.FOLLOW_UP): Agency.GP,
            (TestKind.LAB, TestPurpose.SANCTION): Agency.PROSECUTION,
        }[(test.kind, test.purpose)]
        if self.actor.agency is not expected:
            raise ResultRecorderNotPermittedError(
                f"{test.kind.value} {test.purpose.value} result by {self.actor.agency.value}"
            )

    def breach_is_well_founded(self, kind: BreachKind, test_id: str | None = None) -> None:
        if kind is BreachKind.POSITIVE_TEST:
            test = self.contract.tests.get(test_id or "")
            if test is None or not test.positives:
                raise BreachEvidenceError(f"test {test_id!r}")

    def terminates(self, response: BreachResponse) -> bool:
        return response is BreachResponse.TERMINATE

    def factors_are_recorded(self, factors: ProportionalityFactors | None = None) -> None:
        texts = (
            [factors.seriousness, factors.fault, factors.condition_kind, factors.motivation]
            if factors
            else []
        )
        if factors is None or not all(t.strip() for t in texts) or not 0 <= factors.completed_share <= 1:
            raise ProportionalityFactorsMissingError()

    def response_fits_breach(self, response: BreachResponse, plan: Plan | None = None) -> None:
        if plan is not None:
            check_plan(self.contract, plan, self.rules)
            self._step_down_allowed(plan)  # stepping up is what a breach decision may do

    def end_date_reached(self) -> None:
        plan = self.contract.plan
        if plan is None or self.day < plan.end_date:
            raise EndDateNotReachedError(f"end date {plan.end_date if plan else None}, today {self.day}")

    def termination_is_grounded(self, breach_id: str, response: BreachResponse) -> None:
        if response is not BreachResponse.TERMINATE:
            return  # python-statemachine runs validators before the branch's `cond`
        contract = self.contract
        breach = contract.breaches[breach_id]
        test = contract.tests.get(breach.test_id or "")
        repeated_breaches = len(contract.breaches) >= 2
        repeated_no_shows = contract.unexcused_no_shows >= 2
        if breach.kind is BreachKind.POSITIVE_TEST and test and test.kind is TestKind.RAPID:
            raise RapidTestNotConfirmedError(f"breach {breach_id} rests on rapid test {breach.test_id}")
        grounded = (
            (test is not None and test.confirmed_positive)
            or breach.kind is BreachKind.NEW_OFFENCE
            or repeated_no_shows
            or repeated_breaches
        )
        if contract.trinn == 1 and not repeated_breaches:
            raise StageOneSingleBreachError(f"breach {breach_id} is the first breach")
        if not grounded:
            raise TerminationNotGroundedError(f"breach {breach_id} ({breach.kind.value})")


def check_plan(contract: Contract, plan: Plan | None, rules: Rules) -> None:
    if plan is None:
        raise PlanIncompleteError("no plan")
    missing = [
        name
        for name, ok in [
            ("trinn", plan.trinn in rules.stages),
            ("test_regime", plan.test_regime.per_month >= 1),
            ("meeting_frequency_days", plan.meeting_frequency_days > 0),
            ("team", bool(plan.team)),
        ]
        if not ok
    ]
    if missing:
        raise PlanIncompleteError("missing or invalid: " + ", ".join(missing))
    latest_end = add_months(plan.start_date, rules.max_plan_months)
    if not plan.start_date < plan.end_date <= latest_end:
        raise PlanTooLongError(f"{plan.start_date} to {plan.end_date}, latest end {latest_end}")
    if contract.residence_municipality != contract.registered_municipality and (
        plan.residence_municipality != contract.residence_municipality
        or plan.registered_municipality != contract.registered_municipality
    ):
        raise MunicipalitiesMissingError(
            f"residence {contract.residence_municipality}, registered {contract.registered_municipality}"
        )


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


class Contract(Aggregate):
    """One youth's drug contract, from the prosecutor's offer to its outcome."""

    class Event(Aggregate.Event):
        actor: str
        actor_agency: Agency
        status: ContractStatus

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Contract)
            aggregate.status = self.status
            self.apply_to(aggregate)

        def apply_to(self, contract: Contract) -> None:
            """Change the contract's state; never validate (replay must not re-run guards)."""

    class ContractOffered(Aggregate.Created):
        actor: str
        actor_agency: Agency
        status: ContractStatus
        youth: Person
        guardians: tuple[Person, ...]
        offence: Offence
        trinn: int
        residence_municipality: str
        registered_municipality: str
        offer_deadline: date
        rules_version: str

    def __init__(
        self,
        actor: str,
        actor_agency: Agency,
        status: ContractStatus,
        youth: Person,
        guardians: tuple[Person, ...],
        offence: Offence,
        trinn: int,
        residence_municipality: str,
        registered_municipality: str,
        offer_deadline: date,
        rules_version: str,
    ) -> None:
        assert youth.birth_date is not None
        self.status = status
        self.youth = youth
        self.guardians = tuple(guardians)
        self.offence = offence
        self.trinn = trinn
        self.residence_municipality = residence_municipality
        self.registered_municipality = registered_municipality
        self.offer_deadline = offer_deadline
        self.rules_version = rules_version
        self.consents = ConsentRegister(youth.birth_date, len(self.guardians))
        self.consented_at: datetime | None = None
        self.startup_at: datetime | None = None
        self.plan: Plan | None = None
        self.tests: dict[str, TestState] = {}
        self.consecutive_negatives = 0
        self.breaches: dict[str, BreachState] = {}
        self.open_breach_id: str | None = None
        self.unexcused_no_shows = 0
        self.meetings_held = 0
        self.termination_reason: TerminationReason | None = None
        self.completed_on: date | None = None

    # --- creation ---

    @classmethod
    def offer(
        cls,
        *,
        contract_id: UUID,
        youth: Person,
        guardians: tuple[Person, ...],
        offence: Offence,
        trinn: int,
        residence_municipality: str,
        registered_municipality: str,
        offer_deadline: date | None,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> Contract:
        day = local_day(at)
        if youth.birth_date is None:
            raise AgeOutOfRangeError("birth date is required")
        age = youth.age_on(day)
        if not rules.min_age <= age <= rules.max_age:
            raise AgeOutOfRangeError(f"the youth is {age} on {day}")
        if not guardians:
            raise GuardianRequiredError()
        if trinn not in rules.stages:
            raise StageInvalidError(f"trinn {trinn}")
        deadline = offer_deadline or add_days(day, rules.deadlines.offer_answer_days)
        if deadline <= day:
            raise OfferDeadlineInvalidError(f"{deadline} is not after {day}")
        return cls._create(
            cls.ContractOffered,
            id=contract_id,
            timestamp=at,
            actor=actor.sub,
            actor_agency=actor.agency,
            status=ContractStatus.OFFERED,
            youth=youth,
            guardians=tuple(guardians),
            offence=offence,
            trinn=trinn,
            residence_municipality=residence_municipality,
            registered_municipality=registered_municipality,
            offer_deadline=deadline,
            rules_version=rules.version,
        )

    # --- the machine ---

    def allowed_actions(self) -> list[str]:
        return allowed_actions(self.status)

    def _fire(self, action: str, actor: Actor, at: datetime, rules: Rules, **kwargs: Any) -> ContractStatus:
        """Validate `action` through the lifecycle; return the status it leads to."""
        if unguarded_outcome(self.status.value, action) is not None:
            return self.status
        machine = _lifecycle(self, actor, at, rules)
        try:
            machine.send(action, **kwargs)
        except TransitionNotAllowed:
            raise ActionNotAllowedError(action, self.status.value, self.allowed_actions()) from None
        finally:
            # The thread keeps its machine; it must not keep the youth's plaintext with it.
            machine.model.contract = cast(Contract, None)
        return ContractStatus(machine.current_state_value)

    def _record(
        self,
        event_class: type[Contract.Event],
        actor: Actor,
        at: datetime,
        status: ContractStatus | None = None,
        **fields: Any,
    ) -> None:
        self.trigger_event(
            event_class,
            timestamp=at,
            actor=actor.sub,
            actor_agency=actor.agency,
            status=status or self.status,
            **fields,
        )

    # --- commands ---

    def give_consent(
        self,
        signatory: str,
        scope: tuple[ScopeItem, ...],
        booklet_version: str,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        if not self.consents.is_signatory(signatory):
            raise UnknownSignatoryError(signatory)
        scope = scope_of(scope)
        for item in scope:
            if not consentable(item.agency, item.category):
                raise ScopeNotConsentableError(f"{item.agency.value}/{item.category.value}")
        already = self.consents.contract_consent_of(signatory, at)
        if already and set(scope) <= set(self.consents.active_scope(signatory, at)):
            raise ConsentAlreadyGivenError(signatory)
        status = self._fire("give_consent", actor, at, rules, signatory=signatory)
        consent_id = f"{self.id}/v{self.version + 1}"
        self._record(
            self.ConsentGiven,
            actor,
            at,
            status,
            signatory=signatory,
            scope=scope,
            booklet_version=booklet_version,
            consent_id=consent_id,
        )

    class ConsentGiven(Event):
        signatory: str
        scope: tuple[ScopeItem, ...]
        booklet_version: str
        consent_id: str

        def apply_to(self, contract: Contract) -> None:
            contract.consents.give(
                self.signatory, self.scope, self.consent_id, self.booklet_version, self.timestamp
            )
            if self.status is ContractStatus.CONSENTED and contract.consented_at is None:
                contract.consented_at = self.timestamp

    def withdraw_consent(
        self,
        signatory: str,
        scope: tuple[ScopeItem, ...] | None,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        if not self.consents.is_signatory(signatory):
            raise UnknownSignatoryError(signatory)
        if not self.consents.contract_consent_of(signatory, at):
            raise ConsentNotGivenError(signatory)
        scope = None if scope is None else scope_of(scope)
        status = self._fire("withdraw_consent", actor, at, rules, signatory=signatory, scope=scope)
        self._record(self.ConsentWithdrawn, actor, at, signatory=signatory, scope=scope)
        if status is ContractStatus.TERMINATED:
            self._terminate(TerminationReason.CONSENT_WITHDRAWN, f"withdrawn by {signatory}", actor, at)

    class ConsentWithdrawn(Event):
        signatory: str
        scope: tuple[ScopeItem, ...] | None

        def apply_to(self, contract: Contract) -> None:
            contract.consents.withdraw(self.signatory, self.scope, self.timestamp)

    def decline(self, signatory: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        if not self.consents.is_signatory(signatory):
            raise UnknownSignatoryError(signatory)
        status = self._fire("decline", actor, at, rules)
        self._record(self.OfferDeclined, actor, at, status, signatory=signatory)

    class OfferDeclined(Event):
        signatory: str

    def lapse(self, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        status = self._fire("lapse", actor, at, rules)
        self._record(self.OfferLapsed, actor, at, status, deadline=self.offer_deadline)

    class OfferLapsed(Event):
        deadline: date

    def schedule_startup(
        self,
        meeting_at: datetime,
        participants: tuple[Agency, ...],
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        status = self._fire("schedule_startup", actor, at, rules)
        self._record(
            self.StartupMeetingScheduled,
            actor,
            at,
            status,
            meeting_at=meeting_at,
            participants=tuple(participants),
        )

    class StartupMeetingScheduled(Event):
        meeting_at: datetime
        participants: tuple[Agency, ...]

        def apply_to(self, contract: Contract) -> None:
            contract.startup_at = self.meeting_at

    def hold_startup(
        self,
        plan: Plan,
        attendees: tuple[Agency, ...],
        notes: str,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        status = self._fire("hold_startup", actor, at, rules, plan=plan)
        self._record(self.StartupMeetingHeld, actor, at, attendees=tuple(attendees), notes=notes)
        self._record(self.PlanAgreed, actor, at, status, plan=plan)

    class StartupMeetingHeld(Event):
        attendees: tuple[Agency, ...]
        notes: str

    class PlanAgreed(Event):
        plan: Plan

        def apply_to(self, contract: Contract) -> None:
            contract.plan = self.plan
            contract.trinn = self.plan.trinn

    def fail_startup(self, note: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        self._fire("fail_startup", actor, at, rules)
        self._terminate(TerminationReason.PLAN_NOT_ESTABLISHED, note, actor, at)

    def change_stage(
        self, to_trinn: int, reason: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        self._fire("change_stage", actor, at, rules, to_trinn=to_trinn)
        self._record(self.StageChanged, actor, at, from_trinn=self.trinn, to_trinn=to_trinn, reason=reason)

    class StageChanged(Event):
        from_trinn: int
        to_trinn: int
        reason: str

        def apply_to(self, contract: Contract) -> None:
            contract.trinn = self.to_trinn

    def amend_plan(
        self, plan: Plan, reason: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        self._fire("amend_plan", actor, at, rules, plan=plan)
        old = self.plan
        changes = tuple(
            name
            for name in plan.__dataclass_fields__
            if old is None or getattr(old, name) != getattr(plan, name)
        )
        self._record(self.PlanAmended, actor, at, plan=plan, changes=changes, reason=reason)

    class PlanAmended(Event):
        plan: Plan
        changes: tuple[str, ...]
        reason: str

        def apply_to(self, contract: Contract) -> None:
            old = contract.plan
            if old and self.plan.test_regime.per_month < old.test_regime.per_month:
                contract.consecutive_negatives = 0  # the next step down needs a new series
            contract.plan = self.plan
            contract.trinn = self.plan.trinn

    def schedule_test(
        self,
        test_id: str,
        kind: TestKind,
        purpose: TestPurpose,
        random: bool,
        scheduled_for: date,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        if test_id in self.tests:
            raise DuplicateIdError(test_id)
        self._fire("schedule_test", actor, at, rules)
        self._record(
            self.TestScheduled,
            actor,
            at,
            test_id=test_id,
            kind=kind,
            purpose=purpose,
            random=random,
            scheduled_for=scheduled_for,
        )

    class TestScheduled(Event):
        test_id: str
        kind: TestKind
        purpose: TestPurpose
        random: bool
        scheduled_for: date

        def apply_to(self, contract: Contract) -> None:
            contract.tests[self.test_id] = TestState(self.kind, self.purpose)

    def record_test_result(
        self,
        test_id: str,
        positives: tuple[str, ...],
        collected_at: datetime,
        actor: Actor,
        at: datetime,
        panel: tuple[str, ...] = (),
        requisition_code: str = "",
        interpretation: str = "",
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        self._fire("record_test_result", actor, at, rules, test_id=test_id)
        test = self.tests[test_id]
        if test.kind is TestKind.RAPID:
            self._record(
                self.RapidTestRecorded,
                actor,
                at,
                test_id=test_id,
                panel=tuple(panel),
                positives=tuple(positives),
                collected_at=collected_at,
            )
        else:
            self._record(
                self.LabResultRecorded,
                actor,
                at,
                test_id=test_id,
                requisition_code=requisition_code,
                positives=tuple(positives),
                interpretation=interpretation,
                purpose=test.purpose,
                collected_at=collected_at,
            )

    class RapidTestRecorded(Event):
        test_id: str
        panel: tuple[str, ...]
        positives: tuple[str, ...]
        collected_at: datetime

        def apply_to(self, contract: Contract) -> None:
            contract.note_result(self.test_id, self.positives)

    class LabResultRecorded(Event):
        test_id: str
        requisition_code: str
        positives: tuple[str, ...]
        interpretation: str
        purpose: TestPurpose
        collected_at: datetime

        def apply_to(self, contract: Contract) -> None:
            contract.note_result(self.test_id, self.positives)

    def note_result(self, test_id: str, positives: tuple[str, ...]) -> None:
        self.tests[test_id].positives = tuple(positives)
        self.consecutive_negatives = 0 if positives else self.consecutive_negatives + 1

    def hold_meeting(
        self,
        kind: MeetingKind,
        held_at: datetime,
        attended: bool,
        notes: str,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        self._fire("hold_meeting", actor, at, rules)
        self._record(self.MeetingHeld, actor, at, kind=kind, held_at=held_at, attended=attended, notes=notes)

    class MeetingHeld(Event):
        kind: MeetingKind
        held_at: datetime
        attended: bool
        notes: str

        def apply_to(self, contract: Contract) -> None:
            contract.meetings_held += 1

    def record_no_show(
        self, appointment: str, excuse: str | None, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        self._fire("record_no_show", actor, at, rules)
        self._record(self.NoShowRecorded, actor, at, appointment=appointment, excuse=excuse)

    class NoShowRecorded(Event):
        appointment: str
        excuse: str | None

        def apply_to(self, contract: Contract) -> None:
            if not self.excuse:
                contract.unexcused_no_shows += 1

    def register_breach(
        self,
        breach_id: str,
        kind: BreachKind,
        evidence: str,
        test_id: str | None,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        if breach_id in self.breaches:
            raise DuplicateIdError(breach_id)
        status = self._fire("register_breach", actor, at, rules, kind=kind, test_id=test_id)
        self._record(
            self.BreachRegistered,
            actor,
            at,
            status,
            breach_id=breach_id,
            kind=kind,
            evidence=evidence,
            test_id=test_id,
        )

    class BreachRegistered(Event):
        breach_id: str
        kind: BreachKind
        evidence: str
        test_id: str | None

        def apply_to(self, contract: Contract) -> None:
            contract.breaches[self.breach_id] = BreachState(self.kind, self.test_id)
            contract.open_breach_id = self.breach_id

    def decide_breach(
        self,
        breach_id: str,
        response: BreachResponse,
        factors: ProportionalityFactors | None,
        reason: str,
        actor: Actor,
        at: datetime,
        plan: Plan | None = None,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        if self.status is ContractStatus.BREACH_REVIEW and breach_id != self.open_breach_id:
            raise UnknownBreachError(breach_id)
        status = self._fire(
            "decide_breach",
            actor,
            at,
            rules,
            breach_id=breach_id,
            response=response,
            factors=factors,
            plan=plan,
        )
        # On termination the decision itself leaves the case in review; the termination follows.
        decided = self.status if status is ContractStatus.TERMINATED else status
        self._record(
            self.BreachDecided,
            actor,
            at,
            decided,
            breach_id=breach_id,
            response=response,
            factors=factors,
            reason=reason,
            plan=plan,
        )
        if status is ContractStatus.TERMINATED:
            kind = self.breaches[breach_id].kind
            why = (
                TerminationReason.NEW_OFFENCE
                if kind is BreachKind.NEW_OFFENCE
                else (TerminationReason.REPEATED_BREACHES)
            )
            self._terminate(why, reason, actor, at)

    class BreachDecided(Event):
        breach_id: str
        response: BreachResponse
        factors: ProportionalityFactors
        reason: str
        plan: Plan | None

        def apply_to(self, contract: Contract) -> None:
            contract.breaches[self.breach_id].response = self.response
            contract.open_breach_id = None
            if self.plan is not None:
                contract.plan = self.plan
                contract.trinn = self.plan.trinn

    def complete(self, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        status = self._fire("complete", actor, at, rules)
        self._record(self.ContractCompleted, actor, at, status, completion_date=local_day(at))

    class ContractCompleted(Event):
        completion_date: date

        def apply_to(self, contract: Contract) -> None:
            contract.completed_on = self.completion_date

    def _terminate(self, reason: TerminationReason, note: str, actor: Actor, at: datetime) -> None:
        self._record(self.ContractTerminated, actor, at, ContractStatus.TERMINATED, reason=reason, note=note)

    class ContractTerminated(Event):
        reason: TerminationReason
        note: str

        def apply_to(self, contract: Contract) -> None:
            contract.termination_reason = self.reason

    def return_to_prosecution(
        self, note: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        status = self._fire("return_to_prosecution", actor, at, rules)
        self._record(self.ReturnedToProsecution, actor, at, status, note=note)

    class ReturnedToProsecution(Event):
        note: str

    def submit_evaluation(
        self,
        respondent_role: str,
        form_version: str,
        answers: dict[str, Any],
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> None:
        self._fire("submit_evaluation", actor, at, rules)
        self._record(
            self.EvaluationSubmitted,
            actor,
            at,
            respondent_role=respondent_role,
            form_version=form_version,
            answers=dict(answers),
        )

    class EvaluationSubmitted(Event):
        respondent_role: str
        form_version: str
        answers: dict[str, Any]


def add_days(day: date, days: int) -> date:
    return date.fromordinal(day.toordinal() + days)


_THREAD = threading.local()


def _lifecycle(contract: Contract, actor: Actor, at: datetime, rules: Rules) -> ContractLifecycle:
    """This thread's lifecycle machine, bound to the command's guards and the contract's status.

    Building a python-statemachine machine costs more than the transition itself, so each
    thread builds one and rebinds its model (the machine is not shared between threads).
    """
    machine: ContractLifecycle | None = getattr(_THREAD, "lifecycle", None)
    if machine is None:
        machine = ContractLifecycle(
            model=ContractGuards(contract, actor, at, rules), start_value=contract.status.value
        )
        _THREAD.lifecycle = machine
        return machine
    guards: ContractGuards = machine.model
    guards.contract, guards.actor, guards.at, guards.rules = contract, actor, at, rules
    machine.current_state_value = contract.status.value
    return machine


@cache
def _actions_by_status() -> dict[ContractStatus, list[str]]:
    by_value = {state.value: state for state in ContractLifecycle.states}
    return {
        status: list(dict.fromkeys(str(t.event) for t in by_value[status.value].transitions))
        for status in ContractStatus
    }


def allowed_actions(status: ContractStatus) -> list[str]:
    """What the lifecycle allows next from `status` (before any guard is consulted)."""
    return list(_actions_by_status()[status])
