"""The rules the lifecycle machine consults before a contract command is recorded.

`domain/lifecycle.py` names each guard on the transition it protects; `ContractGuards`
implements them against the contract's current state, one method per name, and raises the
refusal that names the rule (`domain/contract_errors.py`). `judge` runs one command
through a machine from the pool. Nothing here runs on replay: events only copy state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from domain.calendar import CLOCK_SKEW, add_months, in_future, local_day
from domain.consent import ADULT_AGE
from domain.contract_errors import (
    AgeOutOfRangeError,
    BreachEvidenceError,
    BreachNotRefutedError,
    CollectedInFutureError,
    ConfirmedTestInvalidError,
    EndDateNotReachedError,
    GuardianRequiredError,
    HeldInFutureError,
    LegalBasisInvalidError,
    MunicipalitiesMissingError,
    OffenceDateInFutureError,
    OfferDeadlineInvalidError,
    OfferDeadlineNotPassedError,
    PlanDeviationReasonRequiredError,
    PlanIncompleteError,
    PlanTooLongError,
    ProportionalityFactorsMissingError,
    RapidTestNotConfirmedError,
    ReplacedReactionInvalidError,
    RequisitionCodeRequiredError,
    ResultRecorderInvalidError,
    ResultRecorderNotPermittedError,
    StageInvalidError,
    StageOneSingleBreachError,
    StartupMeetingNotDueError,
    TerminationNotGroundedError,
    TestFrequencyStepDownError,
    TestFrequencyStepUpError,
    TestResultAlreadyRecordedError,
    UnknownTestError,
)
from domain.deadlines import offer_answer_deadline
from domain.errors import DomainError
from domain.legal import LEGAL_BASES, MAX_DESCRIPTION, MAX_FINE_NOK, REPLACED_KINDS
from domain.lifecycle import LifecyclePool
from domain.rules import Rules
from domain.values import (
    Actor,
    Agency,
    BreachKind,
    BreachResponse,
    Offence,
    Person,
    Plan,
    ProportionalityFactors,
    ReplacedReaction,
    ScopeItem,
    TestKind,
    TestPurpose,
)

if TYPE_CHECKING:
    from domain.contract import Contract


# --- state the contract keeps for its tests and breaches ---


# Who records the result of each kind of test: the default a requisition names, and the
# agencies it may name instead (each municipality decides who orders and pays for the
# follow-up lab tests; a sanction result never goes to the GP journal).
DEFAULT_RESULT_RECORDER: dict[tuple[TestKind, TestPurpose], Agency] = {
    (TestKind.RAPID, TestPurpose.FOLLOW_UP): Agency.MUNICIPAL_HEALTH,
    (TestKind.RAPID, TestPurpose.SANCTION): Agency.MUNICIPAL_HEALTH,
    (TestKind.LAB, TestPurpose.FOLLOW_UP): Agency.GP,
    (TestKind.LAB, TestPurpose.SANCTION): Agency.PROSECUTION,
}
RESULT_RECORDERS: dict[tuple[TestKind, TestPurpose], frozenset[Agency]] = {
    (TestKind.RAPID, TestPurpose.FOLLOW_UP): frozenset({Agency.MUNICIPAL_HEALTH}),
    (TestKind.RAPID, TestPurpose.SANCTION): frozenset({Agency.MUNICIPAL_HEALTH}),
    (TestKind.LAB, TestPurpose.FOLLOW_UP): frozenset({Agency.GP, Agency.MUNICIPAL_HEALTH}),
    (TestKind.LAB, TestPurpose.SANCTION): frozenset({Agency.PROSECUTION}),
}


def result_recorder(kind: TestKind, purpose: TestPurpose, named: Agency | None = None) -> Agency:
    """The agency a requisition names to record the result (the default when it names none)."""
    return named or DEFAULT_RESULT_RECORDER[(TestKind(kind), TestPurpose(purpose))]


@dataclass
class TestState:
    kind: TestKind
    purpose: TestPurpose
    result_by: Agency
    confirms: str | None = None  # a lab test: the rapid test it confirms
    positives: tuple[str, ...] | None = None  # None: no result yet
    confirmation: str | None = None  # a rapid test: the lab test requisitioned to confirm it
    verdict: bool | None = None  # a rapid test: True confirmed by that lab, False refuted, None open

    @property
    def confirmed_positive(self) -> bool:
        """A positive that grounds termination: a lab positive, or a rapid positive a lab confirmed."""
        if self.kind is TestKind.LAB:
            return bool(self.positives)
        return bool(self.positives) and self.verdict is True

    @property
    def refuted(self) -> bool:
        """A rapid positive a lab result did not confirm: it counts as negative from then on."""
        return self.kind is TestKind.RAPID and self.verdict is False

    @property
    def counts_positive(self) -> bool:
        return bool(self.positives) and not self.refuted


@dataclass
class BreachState:
    kind: BreachKind
    test_id: str | None
    response: BreachResponse | None = None


# What a single breach may be answered with in trinn 1 (docs/domain.md §5).
STAGE_ONE_SINGLE_BREACH_RESPONSES = frozenset(
    {BreachResponse.CONVERSATION, BreachResponse.WARNING, BreachResponse.DISMISSED}
)


# --- the offer, judged before there is a contract or a machine ---


def check_offer(
    youth: Person,
    guardians: tuple[Person, ...],
    offence: Offence,
    trinn: int,
    offer_deadline: date | None,
    day: date,
    rules: Rules,
    legal_basis: str,
    replaces: ReplacedReaction,
) -> date:
    """Refuse an offer the rules do not allow on `day`; return its answer deadline.

    The age that counts is the age on the offence date (criminal responsibility starts at
    15; youth reactions are for offences committed before 18). The offer itself may come
    after the 18th birthday: the youth then consents alone (`domain/consent.py`), so no
    guardian is needed.
    """
    if youth.birth_date is None:
        raise AgeOutOfRangeError("birth date is required")
    if offence.date > day:
        raise OffenceDateInFutureError(f"offence on {offence.date}, offer on {day}")
    age = youth.age_on(offence.date)
    if not rules.min_age <= age <= rules.max_age:
        raise AgeOutOfRangeError(f"the youth was {age} on the offence date {offence.date}")
    if not guardians and youth.age_on(day) < ADULT_AGE:
        raise GuardianRequiredError(f"the youth is {youth.age_on(day)} on {day}")
    check_legal_terms(legal_basis, replaces)
    if trinn not in rules.stages:
        raise StageInvalidError(f"trinn {trinn}")
    deadline = offer_deadline or offer_answer_deadline(day, rules)
    if deadline <= day:
        raise OfferDeadlineInvalidError(f"{deadline} is not after {day}")
    return deadline


def check_requisition(
    contract: Contract,
    kind: TestKind,
    purpose: TestPurpose,
    confirms_test_id: str | None,
    result_by: Agency | None,
) -> Agency:
    """Refuse a requisition that names the wrong recorder or no confirmable rapid test;
    return the agency that is to record its result."""
    recorder = result_recorder(kind, purpose, result_by)
    if recorder not in RESULT_RECORDERS[(kind, purpose)]:
        raise ResultRecorderInvalidError(f"{kind.value} {purpose.value} result by {recorder.value}")
    if confirms_test_id is not None:
        if kind is not TestKind.LAB:
            raise ConfirmedTestInvalidError(f"a {kind.value} test confirms no other test")
        confirmable(contract, confirms_test_id, None)
    return recorder


def check_held_at(held_at: datetime, at: datetime) -> None:
    """Refuse a meeting recorded as held later than the command's time, beyond the clock
    skew `CLOCK_SKEW` allows: a meeting is recorded once it has been held. The aggregate
    calls it, so a meeting keeps the shortcut past the lifecycle engine (`unguarded_outcome`)."""
    if in_future(held_at, at):
        raise HeldInFutureError(
            f"held at {held_at.isoformat()}, recorded at {at.isoformat()} "
            f"(at most {CLOCK_SKEW.total_seconds() / 60:g} minutes ahead)"
        )


def confirmable(contract: Contract, rapid_id: str, lab_id: str | None) -> None:
    """`rapid_id` is a positive rapid test of `contract` that no other lab test confirms."""
    rapid = contract.tests.get(rapid_id)
    if rapid is None or rapid.kind is not TestKind.RAPID or not rapid.positives:
        raise ConfirmedTestInvalidError(f"test {rapid_id!r} is no positive rapid test of this contract")
    if rapid.confirmation not in (None, lab_id):
        raise ConfirmedTestInvalidError(
            f"rapid test {rapid_id} is confirmed by lab test {rapid.confirmation}"
        )


def check_legal_terms(legal_basis: str, replaces: ReplacedReaction) -> None:
    """The offer's legal basis is one of the known ones, and the reaction it replaces is said."""
    if legal_basis not in LEGAL_BASES:
        raise LegalBasisInvalidError(repr(legal_basis))
    if replaces.kind not in REPLACED_KINDS:
        raise ReplacedReactionInvalidError(f"kind {replaces.kind!r}")
    if replaces.kind == "fine" and not (replaces.amount and 0 < replaces.amount <= MAX_FINE_NOK):
        raise ReplacedReactionInvalidError(f"a fine of {replaces.amount} NOK")
    if replaces.kind == "other" and not replaces.description.strip():
        raise ReplacedReactionInvalidError("another reaction, not described")
    if len(replaces.description) > MAX_DESCRIPTION:
        raise ReplacedReactionInvalidError(f"a description of {len(replaces.description)} characters")


# --- the refusals that depend only on dates: asked by the guards and the case view alike ---


def check_offer_deadline_passed(deadline: date, day: date) -> None:
    if day <= deadline:
        raise OfferDeadlineNotPassedError(f"the deadline is {deadline}")


def check_startup_due(scheduled: datetime | None, at: datetime) -> None:
    if scheduled is not None and at < scheduled:
        raise StartupMeetingNotDueError(f"scheduled for {scheduled.isoformat()}, now {at.isoformat()}")


def check_end_date_reached(end_date: date | None, day: date) -> None:
    if end_date is None or day < end_date:
        raise EndDateNotReachedError(f"end date {end_date}, today {day}")


@dataclass(frozen=True)
class Timing:
    """What the date-bound guards read, as far as someone knows it (a case view may lack a
    field its agency may not see: an unknown field refuses nothing here, the command's own
    guard still judges it)."""

    offer_deadline: date | None = None
    startup_at: datetime | None = None
    end_date: date | None = None


def refused_now(action: str, timing: Timing, at: datetime) -> type[DomainError] | None:
    """The refusal a date-bound guard of `action` would raise at `at` (None: none would).

    The guards below call the same checks, so the case view's `blocked_actions` and the
    command's 409 cannot disagree (docs/web.md)."""
    try:  # the day only where a rule needs it: a case view asks this for every action
        if action == "lapse" and timing.offer_deadline is not None:
            check_offer_deadline_passed(timing.offer_deadline, local_day(at))
        elif action == "hold_startup":
            check_startup_due(timing.startup_at, at)
        elif action == "complete" and timing.end_date is not None:
            check_end_date_reached(timing.end_date, local_day(at))
    except DomainError as refusal:
        return type(refusal)
    return None


# --- the guards ---


@dataclass(frozen=True)
class Judgement:
    """One command being judged: the contract as it is, who asks, when, under which rules."""

    contract: Contract
    actor: Actor
    at: datetime
    rules: Rules


class ContractGuards:
    """The model the lifecycle machine is bound to: one method per named guard.

    A machine keeps the model it was built with, so a reused machine's guards are told
    each command (`judgement`) and forget it afterwards: an idle machine holds nobody's data.
    """

    def __init__(self) -> None:
        self.judgement: Judgement | None = None
        self.state: str | None = None  # written by python-statemachine, not read

    @property
    def _judged(self) -> Judgement:
        if self.judgement is None:
            raise RuntimeError("the guards are consulted outside a judgement")
        return self.judgement

    @property
    def contract(self) -> Contract:
        return self._judged.contract

    @property
    def actor(self) -> Actor:
        return self._judged.actor

    @property
    def at(self) -> datetime:
        return self._judged.at

    @property
    def rules(self) -> Rules:
        return self._judged.rules

    @property
    def day(self) -> date:
        return local_day(self.at)

    def forget(self) -> None:
        self.judgement = None

    def completes_contract_consent(self, signatory: str) -> bool:
        missing = self.contract.consents.missing_signatories(self.at)
        return set(missing) <= {signatory}

    def withdraws_contract_consent(self, signatory: str, scope: tuple[ScopeItem, ...] | None = None) -> bool:
        """Only a required signatory's withdrawal ends the contract (a guardian's no longer
        is once the youth is 18)."""
        return scope is None and signatory in self.contract.consents.required_signatories(self.at)

    def offer_deadline_passed(self) -> None:
        check_offer_deadline_passed(self.contract.offer_deadline, self.day)

    def startup_is_due(self) -> None:
        check_startup_due(self.contract.startup_at, self.at)

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

    def test_result_is_valid(
        self,
        test_id: str,
        requisition_code: str = "",
        confirms_test_id: str | None = None,
        collected_at: datetime | None = None,
    ) -> None:
        test = self.contract.tests.get(test_id)
        if test is None:
            raise UnknownTestError(test_id)
        if collected_at is not None and collected_at > self.at:
            raise CollectedInFutureError(
                f"collected at {collected_at.isoformat()}, recorded at {self.at.isoformat()}"
            )
        if test.positives is not None:
            raise TestResultAlreadyRecordedError(test_id)
        if self.actor.agency is not test.result_by:
            raise ResultRecorderNotPermittedError(
                f"{test.kind.value} {test.purpose.value} result by {self.actor.agency.value}, "
                f"the requisition names {test.result_by.value}"
            )
        if test.kind is TestKind.LAB and not requisition_code.strip():
            raise RequisitionCodeRequiredError(f"lab test {test_id}")
        if confirms_test_id is not None:
            if test.kind is not TestKind.LAB:
                raise ConfirmedTestInvalidError(f"a {test.kind.value} test confirms no other test")
            if test.confirms not in (None, confirms_test_id):
                raise ConfirmedTestInvalidError(
                    f"lab test {test_id} was requisitioned to confirm {test.confirms}"
                )
            confirmable(self.contract, confirms_test_id, test_id)

    def breach_is_well_founded(self, kind: BreachKind, test_id: str | None = None) -> None:
        if kind is BreachKind.POSITIVE_TEST:
            test = self.contract.tests.get(test_id or "")
            if test is None or not test.counts_positive:
                raise BreachEvidenceError(f"test {test_id!r}")

    def terminates(self, response: BreachResponse) -> bool:
        return response is BreachResponse.TERMINATE

    def ends_with_move(self, moved_away: bool = False) -> bool:
        """The coordinator judged that the contract cannot go on where the youth moved to."""
        return moved_away

    def factors_are_recorded(self, factors: ProportionalityFactors | None = None) -> None:
        texts = (
            [factors.seriousness, factors.fault, factors.condition_kind, factors.motivation]
            if factors
            else []
        )
        if factors is None or not all(t.strip() for t in texts) or not 0 <= factors.completed_share <= 1:
            raise ProportionalityFactorsMissingError()

    def stage_allows_response(self, breach_id: str, response: BreachResponse) -> None:
        """Trinn 1: a single breach is answered with a conversation or a warning, or dismissed
        (termination is refused by `termination_is_grounded`, with the same rule)."""
        if response in STAGE_ONE_SINGLE_BREACH_RESPONSES or self.contract.trinn != 1:
            return
        if self.contract.standing_breaches() < 2:
            raise StageOneSingleBreachError(
                f"breach {breach_id} is the first breach; {response.value} is not an answer to it in trinn 1"
            )

    def dismissal_is_grounded(self, breach_id: str, response: BreachResponse) -> None:
        if response is not BreachResponse.DISMISSED:
            return
        breach = self.contract.breaches[breach_id]
        if breach.kind is not BreachKind.POSITIVE_TEST:
            return  # the decision's reason says why the evidence fell
        test = self.contract.tests.get(breach.test_id or "")
        if test is None or not test.refuted:
            raise BreachNotRefutedError(f"breach {breach_id} rests on test {breach.test_id}, not refuted")

    def response_fits_breach(self, response: BreachResponse, plan: Plan | None = None) -> None:
        if plan is not None:
            check_plan(self.contract, plan, self.rules)
            self._step_down_allowed(plan)  # stepping up is what a breach decision may do

    def deviation_is_explained(
        self, plan: Plan | None = None, deviation_reason: str | None = None, reason: str = ""
    ) -> None:
        """A plan that departs from its trinn's defaults says why: by its `deviation_reason`,
        or (an amendment, a breach decision) by the command's own reason."""
        if plan is None:
            return
        deviations = plan_deviations(plan, self.rules, initial=self.contract.plan is None)
        if deviations and not (deviation_reason or reason).strip():
            raise PlanDeviationReasonRequiredError(
                f"trinn {plan.trinn} plan departs from the defaults in: {', '.join(deviations)}"
            )

    def end_date_reached(self) -> None:
        plan = self.contract.plan
        check_end_date_reached(plan.end_date if plan else None, self.day)

    def termination_is_grounded(self, breach_id: str, response: BreachResponse) -> None:
        if response is not BreachResponse.TERMINATE:
            return  # python-statemachine runs validators before the branch's `cond`
        contract = self.contract
        breach = contract.breaches[breach_id]
        test = contract.tests.get(breach.test_id or "")
        repeated_breaches = contract.standing_breaches() >= 2
        repeated_no_shows = contract.unexcused_no_shows >= 2
        if breach.kind is BreachKind.POSITIVE_TEST and test and not test.confirmed_positive:
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


def plan_deviations(plan: Plan, rules: Rules, initial: bool) -> tuple[str, ...]:
    """What `plan` departs from in its trinn's defaults (`Rules.stages`): its duration
    outside the stage's months, tests per month or meeting frequency other than the stage's.

    A plan in force may test less often than the default: that is the step-down rule's to
    allow (`TestFrequencyStepDownError`), not a departure; the first plan may not.
    """
    stage = rules.stage(plan.trinn)
    shortest = add_months(plan.start_date, stage.min_months)
    longest = add_months(plan.start_date, stage.max_months)
    per_month, default = plan.test_regime.per_month, stage.tests_per_month
    found = [
        ("duration", not shortest <= plan.end_date <= longest),
        ("tests_per_month", per_month > default or (initial and per_month < default)),
        ("meeting_frequency_days", plan.meeting_frequency_days != stage.meeting_frequency_days),
    ]
    return tuple(name for name, departs in found if departs)


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


_MACHINES = LifecyclePool(ContractGuards)


def judge(contract: Contract, action: str, actor: Actor, at: datetime, rules: Rules, **kwargs: Any) -> str:
    """The status `action` leads `contract` to, or the refusal its guards raise
    (`statemachine.exceptions.TransitionNotAllowed` when the status forbids it)."""
    with _MACHINES.judging(contract.status.value) as machine:
        guards: ContractGuards = machine.model
        guards.judgement = Judgement(contract, actor, at, rules)
        machine.send(action, **kwargs)
        return str(machine.current_state_value)
