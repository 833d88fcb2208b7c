"""The drug contract (ruskontrakt) aggregate: its status and its past-tense events.

Every public command checks its input, asks the lifecycle (`domain/lifecycle.py`) through
`ContractGuards` (`domain/contract_guards.py`) whether the action is allowed and its rule
kept, then triggers one or more events. Events record the status they leave the contract
in and only copy state, so replay never re-runs a guard. The events stay nested here:
their topic (`domain.contract:Contract.ConsentGiven`) is how stored events are decoded.

The refusals live in `domain/contract_errors.py` and are re-exported, so callers import
everything about the contract from this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from enum import Enum
from functools import cache
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate
from statemachine.exceptions import TransitionNotAllowed

from domain.calendar import local_day
from domain.consent import ConsentRegister
from domain.contract_errors import (
    AgeOutOfRangeError,
    BookletUnknownError,
    BreachEvidenceError,
    BreachNotRefutedError,
    CollectedInFutureError,
    ConfirmedTestInvalidError,
    ConsentAlreadyGivenError,
    ConsentNotGivenError,
    DeadlineAlreadyRecordedError,
    DeadlineNotOpenError,
    DeadlineNotPassedError,
    DuplicateIdError,
    EndDateNotReachedError,
    GuardianAlreadyRegisteredError,
    GuardianRequiredError,
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
    RelationUnchangedError,
    ReplacedReactionInvalidError,
    RequisitionCodeRequiredError,
    ResultRecorderInvalidError,
    ResultRecorderNotPermittedError,
    ScopeNotConsentableError,
    StageInvalidError,
    StageOneSingleBreachError,
    StartupMeetingNotDueError,
    TeamMemberAgencyError,
    TerminationNotGroundedError,
    TestFrequencyStepDownError,
    TestFrequencyStepUpError,
    TestResultAlreadyRecordedError,
    UnknownBreachError,
    UnknownSignatoryError,
    UnknownTeamMemberError,
    UnknownTestError,
)
from domain.contract_guards import (
    BreachState,
    TestState,
    check_held_at,
    check_offer,
    check_requisition,
    judge,
    plan_deviations,
    result_recorder,
)
from domain.deadlines import Deadline, open_deadlines
from domain.errors import ActionNotAllowedError
from domain.evaluation_forms import DEFAULT_FORMS, EvaluationForms
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
    ReplacedReaction,
    ScopeItem,
    TeamMember,
    TerminationReason,
    TestKind,
    TestPurpose,
    scope_of,
)

__all__ = [
    "FINAL_STATUSES",
    "AgeOutOfRangeError",
    "BookletUnknownError",
    "BreachEvidenceError",
    "BreachNotRefutedError",
    "BreachState",
    "CollectedInFutureError",
    "ConfirmedTestInvalidError",
    "ConsentAlreadyGivenError",
    "ConsentNotGivenError",
    "Contract",
    "ContractStatus",
    "DuplicateIdError",
    "EndDateNotReachedError",
    "GuardianAlreadyRegisteredError",
    "GuardianRequiredError",
    "LegalBasisInvalidError",
    "MunicipalitiesMissingError",
    "OffenceDateInFutureError",
    "OfferDeadlineInvalidError",
    "OfferDeadlineNotPassedError",
    "PlanDeviationReasonRequiredError",
    "PlanIncompleteError",
    "PlanTooLongError",
    "ProportionalityFactorsMissingError",
    "RapidTestNotConfirmedError",
    "ReplacedReactionInvalidError",
    "RequisitionCodeRequiredError",
    "ResultRecorderInvalidError",
    "ResultRecorderNotPermittedError",
    "ScopeNotConsentableError",
    "StageInvalidError",
    "StageOneSingleBreachError",
    "StartupMeetingNotDueError",
    "TerminationNotGroundedError",
    "TestFrequencyStepDownError",
    "TestFrequencyStepUpError",
    "TestResultAlreadyRecordedError",
    "TestState",
    "UnknownBreachError",
    "UnknownSignatoryError",
    "UnknownTestError",
    "allowed_actions",
]


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


class Contract(Aggregate):
    """One youth's drug contract, from the prosecutor's offer to its outcome."""

    class Event(Aggregate.Event):
        actor: str
        actor_agency: Agency
        status: ContractStatus

        def apply(self, aggregate: Aggregate) -> None:
            assert isinstance(aggregate, Contract)
            if self.status is not aggregate.status:
                aggregate.entered[self.status.value] = self.timestamp
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
        legal_basis: str | None = None
        replaces: dict[str, Any] | None = None
        # Whom the case relates to (docs/domain.md §9): the offering prosecutor's district,
        # and per agency the units of its municipalities in the register then in force.
        offence_district: str | None = None
        units: dict[str, tuple[str, ...]] | None = None
        register_version: str | None = None
        gp: str | None = None  # the youth's GP (HPR number), when known at the offer
        school: str | None = None  # the youth's school (organisation number), when known

        # v1 (before issue 15) recorded no legal basis and no replaced reaction: none;
        # v2 (before issue 13) no relations: no unit knows the case (the auditor does).
        class_version = 3

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("legal_basis", None)
            state.setdefault("replaces", None)

        @staticmethod
        def upcast_v2_v3(state: dict[str, Any]) -> None:
            for name in ("offence_district", "units", "register_version", "gp", "school"):
                state.setdefault(name, None)

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
        legal_basis: str | None = None,
        replaces: dict[str, Any] | None = None,
        offence_district: str | None = None,
        units: dict[str, tuple[str, ...]] | None = None,
        register_version: str | None = None,
        gp: str | None = None,
        school: str | None = None,
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
        self.legal_basis = legal_basis  # None: offered before the basis was recorded
        self.replaces = replaces
        self.offence_district = offence_district
        self.units = dict(units or {})
        self.register_version = register_version
        self.gp = gp
        self.school = school
        self.team: dict[str, TeamMember] = {}
        # What the deadlines run from (domain/deadlines.py): when each status was last
        # entered, the last meeting (held or missed), the last test scheduled.
        self.entered: dict[str, datetime] = {}
        self.last_meeting_at: datetime | None = None
        self.last_test_on: date | None = None
        self.missed: set[tuple[str, date]] = set()  # (rule, due) recorded as missed
        self.escalated: set[tuple[str, date]] = set()
        self.consents = ConsentRegister(youth.birth_date, len(self.guardians))
        self.consented_at: datetime | None = None
        self.startup_at: datetime | None = None
        self.plan: Plan | None = None
        self.tests: dict[str, TestState] = {}
        self.results: list[str] = []  # the tests with a result of their own, in recording order
        self.series_from = 0  # where in `results` the series since the last step down starts
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
        legal_basis: str,
        replaces: ReplacedReaction,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
        offence_district: str | None = None,
        units: Mapping[str, tuple[str, ...]] | None = None,
        register_version: str | None = None,
        gp: str | None = None,
        school: str | None = None,
    ) -> Contract:
        """The prosecutor's offer, on its legal basis (`domain/legal.py`) and instead of the
        ordinary reaction it replaces."""
        deadline = check_offer(
            youth, guardians, offence, trinn, offer_deadline, local_day(at), rules, legal_basis, replaces
        )
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
            legal_basis=legal_basis,
            replaces=replaces.as_record(),
            offence_district=offence_district,
            units=dict(units or {}),
            register_version=register_version,
            gp=gp,
            school=school,
        )

    # --- the machine ---

    def allowed_actions(self) -> list[str]:
        return allowed_actions(self.status)

    def _judge(self, action: str, actor: Actor, at: datetime, rules: Rules, **kwargs: Any) -> ContractStatus:
        """Validate `action` through the lifecycle and its guards; return the status it leads to.

        An action inside the status that nothing can refuse is answered from the machine's
        definition (`unguarded_outcome`) without lending a machine.
        """
        if unguarded_outcome(self.status.value, action) is not None:
            return self.status
        try:
            return ContractStatus(judge(self, action, actor, at, rules, **kwargs))
        except TransitionNotAllowed:
            raise ActionNotAllowedError(action, self.status.value, self.allowed_actions()) from None

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
        booklet_language: str | None = None,
    ) -> None:
        if not self.consents.is_signatory(signatory):
            raise UnknownSignatoryError(signatory)
        languages = rules.booklets.get(booklet_version)
        if languages is None or (booklet_language is not None and booklet_language not in languages):
            raise BookletUnknownError(f"booklet {booklet_version!r} in {booklet_language or 'any language'}")
        scope = scope_of(scope)
        for item in scope:
            if not consentable(item.agency, item.category):
                raise ScopeNotConsentableError(f"{item.agency.value}/{item.category.value}")
        already = self.consents.contract_consent_of(signatory, at)
        if already and set(scope) <= set(self.consents.active_scope(signatory, at)):
            raise ConsentAlreadyGivenError(signatory)
        status = self._judge("give_consent", actor, at, rules, signatory=signatory)
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
            booklet_language=booklet_language,
        )

    class ConsentGiven(Event):
        signatory: str
        scope: tuple[ScopeItem, ...]
        booklet_version: str
        consent_id: str
        booklet_language: str | None = None  # None: not stated

        class_version = 2  # v1 (before issue 15) recorded no booklet language

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("booklet_language", None)

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
        status = self._judge("withdraw_consent", actor, at, rules, signatory=signatory, scope=scope)
        self._record(self.ConsentWithdrawn, actor, at, signatory=signatory, scope=scope)
        if status is ContractStatus.TERMINATED:
            self._terminate(TerminationReason.CONSENT_WITHDRAWN, f"withdrawn by {signatory}", actor, at)

    class ConsentWithdrawn(Event):
        signatory: str
        scope: tuple[ScopeItem, ...] | None

        def apply_to(self, contract: Contract) -> None:
            contract.consents.withdraw(self.signatory, self.scope, self.timestamp)

    def add_guardian(
        self, guardian: Person, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        """Register a guardian after the offer (a new or newly known one). Under 18 their
        consent is required from now on: for the contract while it is offered, and for
        every consent-based sharing item."""
        known = [self.youth.national_id, *(g.national_id for g in self.guardians)]
        if guardian.national_id in known:
            raise GuardianAlreadyRegisteredError(f"{guardian.name} is already registered")
        self._judge("add_guardian", actor, at, rules)
        self._record(
            self.GuardianAdded, actor, at, guardian=guardian, signatory=f"guardian:{len(self.guardians)}"
        )

    class GuardianAdded(Event):
        guardian: Person
        signatory: str

        def apply_to(self, contract: Contract) -> None:
            contract.guardians = (*contract.guardians, self.guardian)
            contract.consents.add_guardian(self.timestamp)

    # --- relations: whom the case relates to (docs/domain.md §9) ---

    def register_gp(self, hpr: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        """The youth's GP (fastlege): consent to "gp" covers this GP and no other."""
        if hpr == self.gp:
            raise RelationUnchangedError(f"GP {hpr} is already registered")
        self._judge("register_gp", actor, at, rules)
        self._record(self.GpRegistered, actor, at, hpr=hpr)

    class GpRegistered(Event):
        hpr: str

        def apply_to(self, contract: Contract) -> None:
            contract.gp = self.hpr

    def register_school(
        self, organisation_number: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        if organisation_number == self.school:
            raise RelationUnchangedError(f"school {organisation_number} is already registered")
        self._judge("register_school", actor, at, rules)
        self._record(self.SchoolRegistered, actor, at, organisation_number=organisation_number)

    class SchoolRegistered(Event):
        organisation_number: str

        def apply_to(self, contract: Contract) -> None:
            contract.school = self.organisation_number

    def change_residence(
        self,
        municipality: str,
        registered_municipality: str,
        units: Mapping[str, tuple[str, ...]],
        register_version: str,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
        moved_away: bool = False,
    ) -> None:
        """The youth moved: the new municipality's units are related from now on, the former
        ones keep what they saw. `moved_away`: the contract cannot go on there (it ends)."""
        if (municipality, registered_municipality) == (
            self.residence_municipality,
            self.registered_municipality,
        ):
            raise RelationUnchangedError(f"the youth already lives in {municipality}")
        status = self._judge("change_residence", actor, at, rules, moved_away=moved_away)
        self._record(
            self.ResidenceChanged,
            actor,
            at,
            municipality=municipality,
            registered_municipality=registered_municipality,
            units=dict(units),
            register_version=register_version,
        )
        if status is ContractStatus.TERMINATED:
            self._terminate(TerminationReason.MOVED_AWAY, f"moved to {municipality}", actor, at)

    class ResidenceChanged(Event):
        municipality: str
        registered_municipality: str
        units: dict[str, tuple[str, ...]]
        register_version: str

        def apply_to(self, contract: Contract) -> None:
            contract.residence_municipality = self.municipality
            contract.registered_municipality = self.registered_municipality
            contract.units = dict(self.units)

    def add_team_member(
        self,
        agency: Agency,
        unit: str,
        sub: str | None,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
    ) -> str:
        """A unit (and, optionally, its named person) joins the case's team; its member id."""
        member = TeamMember(agency, unit, sub)
        if agency in (Agency.COUNTY, Agency.AUDITOR):
            raise TeamMemberAgencyError(f"{agency.value} is never on a case's team")
        if member in self.team.values():
            raise RelationUnchangedError(f"{agency.value} {unit} is already on the team")
        self._judge("add_team_member", actor, at, rules)
        member_id = f"m{self.version + 1}"
        self._record(self.TeamMemberAdded, actor, at, member_id=member_id, agency=agency, unit=unit, sub=sub)
        return member_id

    class TeamMemberAdded(Event):
        member_id: str
        agency: Agency
        unit: str
        sub: str | None

        def apply_to(self, contract: Contract) -> None:
            contract.team[self.member_id] = TeamMember(self.agency, self.unit, self.sub)

    def remove_team_member(
        self, member_id: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        self._judge("remove_team_member", actor, at, rules)
        if member_id not in self.team:
            raise UnknownTeamMemberError(member_id)
        self._record(self.TeamMemberRemoved, actor, at, member_id=member_id)

    class TeamMemberRemoved(Event):
        member_id: str

        def apply_to(self, contract: Contract) -> None:
            contract.team.pop(self.member_id, None)

    # --- deadlines (docs/domain.md §11): what the scheduler records ---

    def deadline_view(self) -> dict[str, Any]:
        """The contract as `domain.deadlines.open_deadlines` reads a case view."""
        plan = self.plan
        meetings = [{"held_at": self.last_meeting_at.isoformat()}] if self.last_meeting_at else []
        terms = (
            {
                "start_date": plan.start_date.isoformat(),
                "end_date": plan.end_date.isoformat(),
                "meeting_frequency_days": plan.meeting_frequency_days,
                "test_regime": {"per_month": plan.test_regime.per_month},
            }
            if plan is not None
            else None
        )
        return {
            "status": self.status.value,
            "entered": {status: at.isoformat() for status, at in self.entered.items()},
            "offer_deadline": self.offer_deadline.isoformat(),
            "plan": terms,
            "meetings": meetings,
            "tests": [{"scheduled_for": self.last_test_on.isoformat()}] if self.last_test_on else [],
        }

    def open_deadlines(self, rules: Rules = DEFAULT_RULES) -> list[Deadline]:
        return open_deadlines(self.deadline_view(), rules)

    def record_missed_deadline(
        self, rule: str, due: date, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        """A deadline passed with nothing done (DeadlineMissed), once per rule and due day;
        refused when the case has moved on (the deadline is no longer open)."""
        self._judge("record_missed_deadline", actor, at, rules)
        self._check_missed(rule, due, at, rules)
        if (rule, due) in self.missed:
            raise DeadlineAlreadyRecordedError(f"{rule} due {due}")
        self._record(self.DeadlineMissed, actor, at, rule=rule, due=due)

    class DeadlineMissed(Event):
        rule: str
        due: date

        def apply_to(self, contract: Contract) -> None:
            contract.missed.add((self.rule, self.due))

    def escalate(
        self, rule: str, due: date, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        """The missed deadline is still open after the grace: the unit's lead is told (CaseEscalated)."""
        self._judge("escalate", actor, at, rules)
        self._check_missed(rule, due, at, rules)
        if (rule, due) not in self.missed:
            raise DeadlineNotOpenError(f"{rule} due {due} was not recorded as missed")
        if (rule, due) in self.escalated:
            raise DeadlineAlreadyRecordedError(f"{rule} due {due} is escalated already")
        if local_day(at) <= due + timedelta(days=rules.deadlines.escalate_after_days):
            raise DeadlineNotPassedError(f"{rule} due {due}: the grace has not run out")
        self._record(self.CaseEscalated, actor, at, rule=rule, due=due, to="lead")

    class CaseEscalated(Event):
        rule: str
        due: date
        to: str  # whom the case is flagged to: the lead of the unit that must act

        def apply_to(self, contract: Contract) -> None:
            contract.escalated.add((self.rule, self.due))

    def _check_missed(self, rule: str, due: date, at: datetime, rules: Rules) -> None:
        if (rule, due) not in {(d.rule, d.due) for d in self.open_deadlines(rules)}:
            raise DeadlineNotOpenError(f"{rule} due {due} is not open: the case has moved on")
        if local_day(at) <= due:
            raise DeadlineNotPassedError(f"{rule} is due {due}")

    def decline(self, signatory: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        if not self.consents.is_signatory(signatory):
            raise UnknownSignatoryError(signatory)
        status = self._judge("decline", actor, at, rules)
        self._record(self.OfferDeclined, actor, at, status, signatory=signatory)

    class OfferDeclined(Event):
        signatory: str

    def lapse(self, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        status = self._judge("lapse", actor, at, rules)
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
        status = self._judge("schedule_startup", actor, at, rules)
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
        deviation_reason: str | None = None,
    ) -> None:
        """The startup meeting agrees the plan; one that departs from the trinn's defaults
        says why (`deviation_reason`), and the departures are recorded with it."""
        status = self._judge("hold_startup", actor, at, rules, plan=plan, deviation_reason=deviation_reason)
        self._record(self.StartupMeetingHeld, actor, at, attendees=tuple(attendees), notes=notes)
        self._record(
            self.PlanAgreed, actor, at, status, plan=plan, **_deviation(plan, rules, True, deviation_reason)
        )

    class StartupMeetingHeld(Event):
        attendees: tuple[Agency, ...]
        notes: str

    class PlanAgreed(Event):
        plan: Plan
        deviations: tuple[str, ...] = ()  # what the plan departs from in its trinn's defaults
        deviation_reason: str | None = None

        class_version = 2  # v1 (before issue 15): no departures recorded

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("deviations", ())
            state.setdefault("deviation_reason", None)

        def apply_to(self, contract: Contract) -> None:
            contract.plan = self.plan
            contract.trinn = self.plan.trinn

    def fail_startup(self, note: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        self._judge("fail_startup", actor, at, rules)
        self._terminate(TerminationReason.PLAN_NOT_ESTABLISHED, note, actor, at)

    def change_stage(
        self, to_trinn: int, reason: str, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        self._judge("change_stage", actor, at, rules, to_trinn=to_trinn)
        self._record(self.StageChanged, actor, at, from_trinn=self.trinn, to_trinn=to_trinn, reason=reason)

    class StageChanged(Event):
        from_trinn: int
        to_trinn: int
        reason: str

        def apply_to(self, contract: Contract) -> None:
            contract.trinn = self.to_trinn

    def amend_plan(
        self,
        plan: Plan,
        reason: str,
        actor: Actor,
        at: datetime,
        rules: Rules = DEFAULT_RULES,
        deviation_reason: str | None = None,
    ) -> None:
        self._judge(
            "amend_plan", actor, at, rules, plan=plan, reason=reason, deviation_reason=deviation_reason
        )
        old = self.plan
        changes = tuple(
            name
            for name in plan.__dataclass_fields__
            if old is None or getattr(old, name) != getattr(plan, name)
        )
        self._record(
            self.PlanAmended,
            actor,
            at,
            plan=plan,
            changes=changes,
            reason=reason,
            **_deviation(plan, rules, False, deviation_reason or reason),
        )

    class PlanAmended(Event):
        plan: Plan
        changes: tuple[str, ...]
        reason: str
        deviations: tuple[str, ...] = ()
        deviation_reason: str | None = None

        class_version = 2  # v1 (before issue 15): no departures recorded

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("deviations", ())
            state.setdefault("deviation_reason", None)

        def apply_to(self, contract: Contract) -> None:
            contract.follow_plan(self.plan)

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
        confirms_test_id: str | None = None,
        result_by: Agency | None = None,
    ) -> None:
        """Requisition a test. A lab test may confirm a positive rapid test of this contract
        (`confirms_test_id`); the requisition names who records the result (`result_by`,
        by default the agency responsible for that kind of test)."""
        if test_id in self.tests:
            raise DuplicateIdError(test_id)
        self._judge("schedule_test", actor, at, rules)
        recorder = check_requisition(self, kind, purpose, confirms_test_id, result_by)
        self._record(
            self.TestScheduled,
            actor,
            at,
            test_id=test_id,
            kind=kind,
            purpose=purpose,
            random=random,
            scheduled_for=scheduled_for,
            confirms_test_id=confirms_test_id,
            result_by=recorder,
        )

    class TestScheduled(Event):
        test_id: str
        kind: TestKind
        purpose: TestPurpose
        random: bool
        scheduled_for: date
        confirms_test_id: str | None = None
        result_by: Agency | None = None

        # v1 (before issue 15) named no confirmed test and no recorder: the default recorded.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("confirms_test_id", None)
            state.setdefault("result_by", result_recorder(state["kind"], state["purpose"]))

        def apply_to(self, contract: Contract) -> None:
            contract.last_test_on = max(self.scheduled_for, contract.last_test_on or self.scheduled_for)
            recorder = result_recorder(self.kind, self.purpose, self.result_by)
            contract.tests[self.test_id] = TestState(self.kind, self.purpose, recorder, self.confirms_test_id)
            if self.confirms_test_id is not None:
                contract.tests[self.confirms_test_id].confirmation = self.test_id

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
        confirms_test_id: str | None = None,
    ) -> None:
        """Record a result. A lab result that confirms a rapid test (named by its requisition
        or here) settles it: positive, the rapid positive is confirmed; negative, it is refuted."""
        self._judge(
            "record_test_result",
            actor,
            at,
            rules,
            test_id=test_id,
            requisition_code=requisition_code,
            confirms_test_id=confirms_test_id,
            collected_at=collected_at,
        )
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
                confirms_test_id=confirms_test_id or test.confirms,
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
        confirms_test_id: str | None = None

        # v1 (before issue 15) confirmed no rapid test.
        class_version = 2

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("confirms_test_id", None)

        def apply_to(self, contract: Contract) -> None:
            if self.confirms_test_id is None:
                contract.note_result(self.test_id, self.positives)
                return
            # A verdict on the rapid test's sample, not a sample of its own in the series.
            lab, rapid = contract.tests[self.test_id], contract.tests[self.confirms_test_id]
            lab.positives, lab.confirms = tuple(self.positives), self.confirms_test_id
            rapid.confirmation, rapid.verdict = self.test_id, bool(self.positives)
            contract.recount_negatives()

    def standing_breaches(self) -> int:
        """Breaches that count as breaches: all but those dismissed (their evidence was refuted)."""
        return sum(1 for b in self.breaches.values() if b.response is not BreachResponse.DISMISSED)

    def note_result(self, test_id: str, positives: tuple[str, ...]) -> None:
        self.tests[test_id].positives = tuple(positives)
        self.results.append(test_id)
        self.recount_negatives()

    def recount_negatives(self) -> None:
        """Consecutive negative results since the last step down, newest first: a rapid
        positive a lab refuted counts as negative (docs/domain.md §5)."""
        count = 0
        for test_id in reversed(self.results[self.series_from :]):
            if self.tests[test_id].counts_positive:
                break
            count += 1
        self.consecutive_negatives = count

    def follow_plan(self, plan: Plan) -> None:
        """A new plan in force; a lower test frequency starts a new series of negatives."""
        old = self.plan
        if old and plan.test_regime.per_month < old.test_regime.per_month:
            self.series_from = len(self.results)  # the next step down needs a new series
            self.recount_negatives()
        self.plan = plan
        self.trinn = plan.trinn

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
        self._judge("hold_meeting", actor, at, rules)
        check_held_at(held_at, at)
        self._record(self.MeetingHeld, actor, at, kind=kind, held_at=held_at, attended=attended, notes=notes)

    class MeetingHeld(Event):
        kind: MeetingKind
        held_at: datetime
        attended: bool
        notes: str

        def apply_to(self, contract: Contract) -> None:
            contract.meetings_held += 1
            contract.last_meeting_at = max(self.held_at, contract.last_meeting_at or self.held_at)

    def record_no_show(
        self, appointment: str, excuse: str | None, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES
    ) -> None:
        self._judge("record_no_show", actor, at, rules)
        self._record(self.NoShowRecorded, actor, at, appointment=appointment, excuse=excuse)

    class NoShowRecorded(Event):
        appointment: str
        excuse: str | None

        def apply_to(self, contract: Contract) -> None:
            if not self.excuse:
                contract.unexcused_no_shows += 1
            contract.last_meeting_at = max(self.timestamp, contract.last_meeting_at or self.timestamp)

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
        status = self._judge("register_breach", actor, at, rules, kind=kind, test_id=test_id)
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
        deviation_reason: str | None = None,
    ) -> None:
        if self.status is ContractStatus.BREACH_REVIEW and breach_id != self.open_breach_id:
            raise UnknownBreachError(breach_id)
        status = self._judge(
            "decide_breach",
            actor,
            at,
            rules,
            breach_id=breach_id,
            response=response,
            factors=factors,
            plan=plan,
            reason=reason,
            deviation_reason=deviation_reason,
        )
        departures = {} if plan is None else _deviation(plan, rules, False, deviation_reason or reason)
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
            **departures,
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
        deviations: tuple[str, ...] = ()  # of the decision's new plan
        deviation_reason: str | None = None

        class_version = 2  # v1 (before issue 15): no departures recorded

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state.setdefault("deviations", ())
            state.setdefault("deviation_reason", None)

        def apply_to(self, contract: Contract) -> None:
            contract.breaches[self.breach_id].response = self.response
            contract.open_breach_id = None
            if self.plan is not None:
                contract.follow_plan(self.plan)

    def complete(self, actor: Actor, at: datetime, rules: Rules = DEFAULT_RULES) -> None:
        status = self._judge("complete", actor, at, rules)
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
        status = self._judge("return_to_prosecution", actor, at, rules)
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
        forms: EvaluationForms = DEFAULT_FORMS,
    ) -> None:
        """Answers of one respondent, valid for their form version (domain/evaluation_forms.py)."""
        valid = forms.validate(form_version, respondent_role, answers)
        self._judge("submit_evaluation", actor, at, rules)
        self._record(
            self.EvaluationSubmitted,
            actor,
            at,
            respondent_role=respondent_role,
            form_version=form_version,
            answers=valid,
        )

    class EvaluationSubmitted(Event):
        respondent_role: str
        form_version: str
        answers: dict[str, Any]


def _deviation(plan: Plan, rules: Rules, initial: bool, reason: str | None) -> dict[str, Any]:
    """The departures from the trinn's defaults an event records, with the reason given."""
    deviations = plan_deviations(plan, rules, initial)
    said = reason if reason and reason.strip() else None
    return {"deviations": deviations, "deviation_reason": said if deviations else None}


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
