"""Shared builders for the contract, consent and policy unit tests.

Everything here is pure domain: a fixed Norwegian clock, one actor per agency, and
`contract_in(status)`, which drives a contract through its real commands into any status
of the lifecycle (docs/domain.md §5) so tests never hand-craft aggregate state.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from uuid import uuid4
from zoneinfo import ZoneInfo

from eventsourcing.domain import Aggregate

from domain.calendar import add_months
from domain.contract import Contract, ContractStatus
from domain.policy import EventRecord, Track
from domain.rules import DEFAULT_RULES, Rules
from domain.values import (
    Actor,
    Agency,
    BreachKind,
    BreachResponse,
    Category,
    MeetingKind,
    Offence,
    Person,
    Plan,
    ProportionalityFactors,
    ReplacedReaction,
    ScopeItem,
    TestKind,
    TestPurpose,
    TestRegime,
)
from services import records

OSLO = ZoneInfo("Europe/Oslo")


def at_day(day: date, hour: int = 10, minute: int = 0) -> datetime:
    """An instant on a Norwegian calendar day (local wall-clock time)."""
    return datetime.combine(day, time(hour, minute), OSLO)


# --- the fixed clock of every standard contract ---

OFFER_DAY = date(2026, 9, 10)
T0 = at_day(OFFER_DAY)  # the offer
CONSENT_AT = T0 + timedelta(days=1)
SCHEDULED_AT = T0 + timedelta(days=2)
STARTUP_AT = T0 + timedelta(days=5)
PLAN_START = date(2026, 9, 15)
PLAN_END = add_months(PLAN_START, 6)  # 2027-03-15
BREACH_AT = T0 + timedelta(days=10)


def later(contract: Contract, days: float = 1) -> datetime:
    """An instant after the contract's last event."""
    return contract.modified_on + timedelta(days=days)


# --- actors, people and values ---

ACTORS: dict[Agency, Actor] = {agency: Actor(f"{agency.value}-1", agency) for agency in Agency}
PROSECUTOR = ACTORS[Agency.PROSECUTION]
POLICE = ACTORS[Agency.POLICE]
KONFLIKTRAD = ACTORS[Agency.KONFLIKTRAD]
HEALTH = ACTORS[Agency.MUNICIPAL_HEALTH]
GP = ACTORS[Agency.GP]
CHILD_WELFARE = ACTORS[Agency.CHILD_WELFARE]
SCHOOL = ACTORS[Agency.SCHOOL]
COUNTY = ACTORS[Agency.COUNTY]
AUDITOR = ACTORS[Agency.AUDITOR]

# Who may record which result (docs/domain.md §5, ResultRecorderNotPermittedError).
RECORDER: dict[tuple[TestKind, TestPurpose], Actor] = {
    (TestKind.RAPID, TestPurpose.FOLLOW_UP): HEALTH,
    (TestKind.RAPID, TestPurpose.SANCTION): HEALTH,
    (TestKind.LAB, TestPurpose.FOLLOW_UP): GP,
    (TestKind.LAB, TestPurpose.SANCTION): PROSECUTOR,
}

YOUTH_BIRTH = date(2009, 2, 1)  # 17 on the offence date and on the offer day
BOOKLET = "2026-1"  # in the booklet register (domain/booklets.py)
OFFENCE_DAY = date(2026, 9, 1)
OFFENCE = Offence("NARK-BRUK", "cannabis", OFFENCE_DAY, "2 g cannabis at a party")
LEGAL_BASIS = "strpl_71a"  # seed 004: transfer to the Conflict Council
REPLACES = ReplacedReaction("fine", 3000)
FACTORS = ProportionalityFactors(
    seriousness="moderate",
    fault="partly",
    condition_kind="abstinence",
    motivation="good",
    completed_share=0.25,
    repetition=1,
)


def youth(birth_date: date = YOUTH_BIRTH) -> Person:
    return Person("Ola Nordmann", "01020950001", birth_date)  # a fødselsnummer of YOUTH_BIRTH


# Valid fødselsnumre of people born 1975-03-02 (tests/integration/flows.py `fnr`).
GUARDIAN_IDS = ("02037500030", "02037500111", "02037500383", "02037500464", "02037500545")


def guardians(count: int = 1) -> tuple[Person, ...]:
    return tuple(Person(f"Guardian {i}", GUARDIAN_IDS[i]) for i in range(count))


def guardian_ids(contract: Contract) -> list[str]:
    return [f"guardian:{i}" for i in range(len(contract.guardians))]


def offer(
    *,
    birth_date: date = YOUTH_BIRTH,
    guardian_count: int = 1,
    trinn: int = 2,
    residence: str = "5001",
    registered: str = "5001",
    offer_deadline: date | None = None,
    at: datetime = T0,
    rules: Rules = DEFAULT_RULES,
    offence: Offence = OFFENCE,
    legal_basis: str = LEGAL_BASIS,
    replaces: ReplacedReaction = REPLACES,
) -> Contract:
    return Contract.offer(
        contract_id=uuid4(),
        youth=youth(birth_date),
        guardians=guardians(guardian_count),
        offence=offence,
        trinn=trinn,
        residence_municipality=residence,
        registered_municipality=registered,
        offer_deadline=offer_deadline,
        legal_basis=legal_basis,
        replaces=replaces,
        actor=PROSECUTOR,
        at=at,
        rules=rules,
    )


def consent_all(contract: Contract, at: datetime = CONSENT_AT, scope: tuple[ScopeItem, ...] = ()) -> None:
    """The youth and every registered guardian consent (to the contract and `scope`)."""
    for signatory in ["youth", *guardian_ids(contract)]:
        contract.give_consent(signatory, scope, BOOKLET, KONFLIKTRAD, at)


def plan_for(
    contract: Contract,
    *,
    start: date = PLAN_START,
    end: date | None = None,
    per_month: int | None = None,
    trinn: int | None = None,
    kind: TestKind = TestKind.RAPID,
    team: tuple[Agency, ...] = (Agency.KONFLIKTRAD, Agency.MUNICIPAL_HEALTH, Agency.POLICE),
    meeting_frequency_days: int | None = None,
    rules: Rules = DEFAULT_RULES,
) -> Plan:
    """A complete plan for `contract` (it names both municipalities); what is not given is
    its trinn's default (`domain/rules.py`), so the plan departs only where a test says."""
    trinn = contract.trinn if trinn is None else trinn
    stage = rules.stage(trinn)
    return Plan(
        trinn=trinn,
        start_date=start,
        end_date=add_months(start, stage.min_months) if end is None else end,
        test_regime=TestRegime(kind, stage.tests_per_month if per_month is None else per_month),
        meeting_frequency_days=stage.meeting_frequency_days
        if meeting_frequency_days is None
        else meeting_frequency_days,
        team=team,
        conditions=("no drugs",),
        residence_municipality=contract.residence_municipality,
        registered_municipality=contract.registered_municipality,
    )


def schedule_and_record(
    contract: Contract,
    test_id: str,
    positives: tuple[str, ...] = (),
    *,
    kind: TestKind = TestKind.RAPID,
    purpose: TestPurpose = TestPurpose.FOLLOW_UP,
    at: datetime | None = None,
) -> None:
    """Schedule a test and record its result by the agency allowed to record it."""
    at = at or later(contract)
    contract.schedule_test(test_id, kind, purpose, False, at.date(), KONFLIKTRAD, at)
    recorded = at + timedelta(hours=1)
    contract.record_test_result(
        test_id,
        positives,
        recorded,
        RECORDER[(kind, purpose)],
        recorded,
        panel=("THC", "AMP"),
        requisition_code="REQ-1",
        interpretation="confirmed" if positives else "negative",
    )


def contract_in(
    status: ContractStatus,
    *,
    trinn: int = 2,
    guardian_count: int = 1,
    residence: str = "5001",
    registered: str = "5001",
    scope: tuple[ScopeItem, ...] = (),
) -> Contract:
    """A contract brought into `status` through its commands, on the fixed clock.

    Every contract that got past the offer has the youth's contract consent active
    (declined and lapsed offers carry the youth's consent only), terminated and returned
    ones went through a failed startup, and a breach under review has id "b1". `scope` is
    the sharing every signatory consents to with the contract.
    """
    c = offer(trinn=trinn, guardian_count=guardian_count, residence=residence, registered=registered)
    if status is ContractStatus.OFFERED:
        return c
    if status in (ContractStatus.DECLINED, ContractStatus.LAPSED):
        c.give_consent("youth", (), BOOKLET, KONFLIKTRAD, CONSENT_AT)
        if status is ContractStatus.DECLINED:
            c.decline("guardian:0", PROSECUTOR, SCHEDULED_AT)
        else:
            c.lapse(PROSECUTOR, at_day(c.offer_deadline + timedelta(days=1)))
        return c
    consent_all(c, scope=scope)
    if status is ContractStatus.CONSENTED:
        return c
    c.schedule_startup(STARTUP_AT, (Agency.KONFLIKTRAD, Agency.MUNICIPAL_HEALTH), KONFLIKTRAD, SCHEDULED_AT)
    if status is ContractStatus.STARTUP_SCHEDULED:
        return c
    if status in (ContractStatus.TERMINATED, ContractStatus.RETURNED):
        c.fail_startup("the team could not agree a plan", KONFLIKTRAD, STARTUP_AT)
        if status is ContractStatus.RETURNED:
            c.return_to_prosecution("back for a new decision", PROSECUTOR, later(c))
        return c
    c.hold_startup(
        plan_for(c), (Agency.KONFLIKTRAD, Agency.MUNICIPAL_HEALTH), "plan agreed", KONFLIKTRAD, STARTUP_AT
    )
    if status is ContractStatus.ACTIVE:
        return c
    if status is ContractStatus.BREACH_REVIEW:
        c.register_breach("b1", BreachKind.OTHER, "missed curfew", None, KONFLIKTRAD, BREACH_AT)
        return c
    if status is ContractStatus.COMPLETED:
        c.complete(KONFLIKTRAD, at_day(PLAN_END))
        return c
    raise AssertionError(f"no builder for {status}")


# --- events as plain data, the form the policy gate sees ---

ENVELOPE = records.ENVELOPE


def record_of(event: Aggregate.Event, track: Track = Track.CONTRACT) -> EventRecord:
    return records.record_of(event, track)


def contract_event_classes() -> dict[str, type[Aggregate.Event]]:
    """Every event class nested in `Contract` (the base `Contract.Event` excluded)."""
    found = {}
    for name, value in vars(Contract).items():
        is_event = isinstance(value, type) and issubclass(value, Aggregate.Event)
        if is_event and value is not Contract.Event:
            found[name] = value
    return found


# --- every command of the lifecycle, called with valid arguments ---


def _give_consent(c: Contract, at: datetime) -> None:
    # A sharing item the youth has not consented to yet, so the call is not a repeat.
    c.give_consent("youth", (ScopeItem(Agency.SCHOOL, Category.OUTCOME),), BOOKLET, KONFLIKTRAD, at)


COMMANDS: dict[str, Callable[[Contract, datetime], None]] = {
    "give_consent": _give_consent,
    "decline": lambda c, at: c.decline("youth", PROSECUTOR, at),
    "add_guardian": lambda c, at: c.add_guardian(Person("New Guardian", "05068000051"), KONFLIKTRAD, at),
    "lapse": lambda c, at: c.lapse(PROSECUTOR, at),
    "record_missed_deadline": lambda c, at: c.record_missed_deadline(
        "startup_meeting", at.date(), KONFLIKTRAD, at
    ),
    "escalate": lambda c, at: c.escalate("startup_meeting", at.date(), KONFLIKTRAD, at),
    "register_gp": lambda c, at: c.register_gp("7654321", KONFLIKTRAD, at),
    "register_school": lambda c, at: c.register_school("974760673", KONFLIKTRAD, at),
    "change_residence": lambda c, at: c.change_residence(
        "5025", "5025", {"municipal_health": ("5025",)}, "2024-1", KONFLIKTRAD, at
    ),
    "add_team_member": lambda c, at: c.add_team_member(Agency.CHILD_WELFARE, "5001", None, KONFLIKTRAD, at),
    "remove_team_member": lambda c, at: c.remove_team_member(
        c.add_team_member(Agency.SCHOOL, "974760673", None, KONFLIKTRAD, at)
        if c.status.value in ("offered", "consented", "startup_scheduled", "active", "breach_review")
        else "m1",
        KONFLIKTRAD,
        at,
    ),
    "schedule_startup": lambda c, at: c.schedule_startup(
        at + timedelta(days=3), (Agency.KONFLIKTRAD,), KONFLIKTRAD, at
    ),
    "hold_startup": lambda c, at: c.hold_startup(
        plan_for(c, start=at.date()), (Agency.KONFLIKTRAD,), "agreed", KONFLIKTRAD, at
    ),
    "fail_startup": lambda c, at: c.fail_startup("no plan", KONFLIKTRAD, at),
    "register_breach": lambda c, at: c.register_breach(
        "b-new", BreachKind.OTHER, "missed curfew", None, KONFLIKTRAD, at
    ),
    "decide_breach": lambda c, at: c.decide_breach(
        "b1", BreachResponse.WARNING, FACTORS, "first breach", KONFLIKTRAD, at
    ),
    "complete": lambda c, at: c.complete(KONFLIKTRAD, at),
    "withdraw_consent": lambda c, at: c.withdraw_consent("youth", None, PROSECUTOR, at),
    "return_to_prosecution": lambda c, at: c.return_to_prosecution("note", PROSECUTOR, at),
    "change_stage": lambda c, at: c.change_stage(
        3 if c.trinn != 3 else 2, "needs more follow-up", KONFLIKTRAD, at
    ),
    "amend_plan": lambda c, at: c.amend_plan(plan_for(c, start=PLAN_START), "more meetings", KONFLIKTRAD, at),
    "schedule_test": lambda c, at: c.schedule_test(
        "t-new", TestKind.RAPID, TestPurpose.FOLLOW_UP, True, at.date(), KONFLIKTRAD, at
    ),
    "record_test_result": lambda c, at: c.record_test_result("t1", (), at, HEALTH, at),
    "hold_meeting": lambda c, at: c.hold_meeting(
        MeetingKind.CONVERSATION, at, True, "talked about school", HEALTH, at
    ),
    "record_no_show": lambda c, at: c.record_no_show("conversation", None, HEALTH, at),
    "submit_evaluation": lambda c, at: c.submit_evaluation(
        "youth", "2026-1", {"helpful": 4}, KONFLIKTRAD, at
    ),
}
