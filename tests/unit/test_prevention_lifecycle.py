"""The preventive track's strict lifecycle (docs/domain.md §6): every step allowed from its state,
every other refused from every state, each offer answered once, and who the track is for."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from domain.calendar import CLOCK_SKEW
from domain.errors import ActionNotAllowedError
from domain.prevention import (
    ConcernSource,
    ConversationHeldInFutureError,
    PreventionAgeOutOfRangeError,
    PreventionCase,
    PreventionStatus,
)
from domain.prevention_lifecycle import ACTIONS, EVENT_OF, PreventionLifecycle, allowed_actions, status_of
from domain.rules import DEFAULT_RULES
from domain.values import Person
from infra.diagram import prevention_lifecycle_dot
from tests.unit.contract_factory import POLICE, T0

ROOT = Path(__file__).resolve().parents[2]
BIRTH = date(2011, 3, 1)  # 15 on the registration day


def register(
    birth_date: date | None = BIRTH, source: ConcernSource = ConcernSource.POLICE, at: datetime = T0
) -> Any:
    return PreventionCase.register_concern(
        case_id=uuid4(),
        person=Person("Per Hansen", "15011050260", birth_date),
        source=source,
        municipality="5001",
        summary="seen buying",
        actor=POLICE,
        at=at,
    )


def later(case: PreventionCase) -> datetime:
    return case.modified_on + timedelta(hours=1)


STEPS: dict[str, Callable[[PreventionCase, datetime], None]] = {
    "offer_conversation": lambda c, at: c.offer_conversation("letter sent", POLICE, at),
    "hold_conversation": lambda c, at: c.hold_conversation(at, "talked", POLICE, at),
    "decline_conversation": lambda c, at: c.decline_conversation("no thanks", POLICE, at),
    "offer_counselling": lambda c, at: c.offer_counselling("weekly", POLICE, at),
    "accept_counselling": lambda c, at: c.accept_counselling("yes", POLICE, at),
    "decline_counselling": lambda c, at: c.decline_counselling("no", POLICE, at),
    "report_to_child_welfare": lambda c, at: c.report_to_child_welfare("home situation", POLICE, at),
    "close": lambda c, at: c.close("done", POLICE, at),
}

# How a case reaches each state through its commands.
PATHS: dict[str, list[str]] = {
    "registered": [],
    "conversation_offered": ["offer_conversation"],
    "conversation_held": ["offer_conversation", "hold_conversation"],
    "conversation_declined": ["offer_conversation", "decline_conversation"],
    "counselling_offered": ["offer_conversation", "hold_conversation", "offer_counselling"],
    "counselling_accepted": [
        "offer_conversation",
        "hold_conversation",
        "offer_counselling",
        "accept_counselling",
    ],
    "counselling_declined": [
        "offer_conversation",
        "decline_conversation",
        "offer_counselling",
        "decline_counselling",
    ],
    "closed": ["offer_conversation", "close"],
}

# docs/domain.md §6 by hand: (state, action) -> the state it leads to; every other pair is refused.
OPEN = [s for s in PATHS if s != "closed"]
ALLOWED: dict[tuple[str, str], str] = {
    ("registered", "offer_conversation"): "conversation_offered",
    ("conversation_offered", "hold_conversation"): "conversation_held",
    ("conversation_offered", "decline_conversation"): "conversation_declined",
    ("conversation_held", "offer_counselling"): "counselling_offered",
    ("conversation_declined", "offer_counselling"): "counselling_offered",
    ("counselling_offered", "accept_counselling"): "counselling_accepted",
    ("counselling_offered", "decline_counselling"): "counselling_declined",
    **{(s, "report_to_child_welfare"): s for s in OPEN},
    **{(s, "close"): "closed" for s in OPEN},
}
REFUSED = [(s, a) for s in PATHS for a in ACTIONS if (s, a) not in ALLOWED]


def case_in(state: str) -> PreventionCase:
    case = register()
    for action in PATHS[state]:
        STEPS[action](case, later(case))
    return case


def test_the_states_are_the_machines_and_the_actions_its_events() -> None:
    assert {s.value for s in PreventionLifecycle.states} == set(PATHS) == {s.value for s in PreventionStatus}
    machine_events = {str(t.event) for s in PreventionLifecycle.states for t in s.transitions}
    assert machine_events == set(ACTIONS) == set(STEPS) == set(EVENT_OF)


@pytest.mark.parametrize("state", list(PATHS))
def test_the_factory_brings_a_case_into_every_state(state: str) -> None:
    assert case_in(state).status is PreventionStatus(state)


@pytest.mark.parametrize(("state", "action"), list(ALLOWED), ids=lambda v: str(v))
def test_every_step_allowed_from_its_state_is_recorded_and_leads_where_the_spec_says(
    state: str, action: str
) -> None:
    case = case_in(state)
    version = case.version
    STEPS[action](case, later(case))
    assert case.version == version + 1
    assert type(case.pending_events[-1]).__name__ == EVENT_OF[action]
    assert case.status is PreventionStatus(ALLOWED[(state, action)])


@pytest.mark.parametrize(("state", "action"), REFUSED, ids=lambda v: str(v))
def test_every_other_step_is_refused_from_every_state_and_records_nothing(state: str, action: str) -> None:
    case = case_in(state)
    version, allowed = case.version, case.allowed_actions()
    with pytest.raises(ActionNotAllowedError) as refused:
        STEPS[action](case, later(case))
    assert (refused.value.action, refused.value.status, refused.value.allowed) == (action, state, allowed)
    assert case.version == version and case.status is PreventionStatus(state)


@pytest.mark.parametrize("state", list(PATHS))
def test_allowed_actions_are_exactly_the_machines_and_narrow_with_the_state(state: str) -> None:
    expected = {a for (s, a) in ALLOWED if s == state}
    assert set(case_in(state).allowed_actions()) == expected == set(allowed_actions(state))
    assert case_in("closed").allowed_actions() == []


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("counselling_accepted", "accept_counselling"),  # accepted twice
        ("counselling_accepted", "decline_counselling"),  # declined after accepted
        ("counselling_declined", "accept_counselling"),
        ("conversation_held", "decline_conversation"),  # declined after it was held
        ("conversation_declined", "hold_conversation"),
        ("registered", "hold_conversation"),  # answered before it was offered
        ("registered", "offer_counselling"),  # counselling before any conversation
        ("counselling_offered", "offer_conversation"),
        ("closed", "report_to_child_welfare"),  # closed is final
    ],
    ids=lambda v: str(v),
)
def test_the_orders_the_review_found_accepted_are_refused(state: str, action: str) -> None:
    with pytest.raises(ActionNotAllowedError):
        STEPS[action](case_in(state), T0 + timedelta(days=30))


def test_replay_rebuilds_the_status_without_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    original = case_in("counselling_accepted")
    STEPS["report_to_child_welfare"](original, later(original))
    events = original.collect_events()

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("replay ran the machine")

    monkeypatch.setattr(PreventionLifecycle, "__init__", refuse)
    replayed: Any = None
    for event in events:
        replayed = event.mutate(replayed)
    assert replayed.status is PreventionStatus.COUNSELLING_ACCEPTED
    assert replayed.steps == original.steps


def test_steps_stored_before_the_lifecycle_was_strict_still_replay_to_where_they_lead() -> None:
    case = register()
    at = later(case)
    for event_class in (
        PreventionCase.CounsellingOffered,  # never a conversation first
        PreventionCase.CounsellingAccepted,
        PreventionCase.CounsellingAccepted,  # accepted twice
        PreventionCase.CounsellingDeclined,  # then declined
    ):
        fields = {
            "note": "x",
            **({"person": case.person} if event_class is PreventionCase.CounsellingAccepted else {}),
        }
        case.trigger_event(event_class, timestamp=at, actor="police-1", actor_agency=POLICE.agency, **fields)
        at += timedelta(hours=1)
    replayed: Any = None
    for event in case.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.status is PreventionStatus.COUNSELLING_DECLINED, "the last answer stands"
    assert (
        status_of({"ConcernRegistered", "CounsellingOffered", "CounsellingAccepted"})
        == "counselling_accepted"
    )


# --- who the track is for: 12 to 17 at registration, a charged buyer from 15 ---


def born(years: int, shift_days: int = 0, day: date = T0.date()) -> date:
    return date(day.year - years, day.month, day.day) + timedelta(days=shift_days)


@pytest.mark.parametrize(
    ("birth", "source", "accepted"),
    [
        (born(12, 1), ConcernSource.SCHOOL, False),  # 11 years 364 days
        (born(12), ConcernSource.SCHOOL, True),
        (born(18, 1), ConcernSource.PARENTS, True),  # 17 years 364 days
        (born(18), ConcernSource.POLICE, False),
        (born(15, 1), ConcernSource.CHARGED_BUYER, False),  # 14 years 364 days
        (born(15), ConcernSource.CHARGED_BUYER, True),
        (born(40), ConcernSource.CHARGED_BUYER, True),  # the Danish model has no upper age
        (date(2020, 1, 1), ConcernSource.HEALTH, False),
        (born(-1), ConcernSource.OTHER, False),  # born after the registration
    ],
    ids=["11y364d", "12", "17y364d", "18", "buyer-14y364d", "buyer-15", "buyer-40", "born-2020", "unborn"],
)
def test_a_concern_is_registered_for_12_to_17_year_olds_or_charged_buyers_from_15(
    birth: date, source: ConcernSource, accepted: bool
) -> None:
    if accepted:
        assert register(birth, source).status is PreventionStatus.REGISTERED
    else:
        with pytest.raises(PreventionAgeOutOfRangeError):
            register(birth, source)


def test_a_concern_without_a_birth_date_is_refused() -> None:
    with pytest.raises(PreventionAgeOutOfRangeError, match="birth date"):
        register(None)


def test_the_age_at_registration_is_counted_in_norwegian_days() -> None:
    birth = date(2014, 9, 10)  # 12 from Oslo midnight on 2026-09-10
    with pytest.raises(PreventionAgeOutOfRangeError):
        register(birth, at=datetime(2026, 9, 9, 21, 30, tzinfo=UTC))
    assert register(birth, at=datetime(2026, 9, 9, 22, 30, tzinfo=UTC)).person.birth_date == birth


def test_the_prevention_ages_are_configuration() -> None:
    rules = replace(DEFAULT_RULES, prevention_min_age=13)
    with pytest.raises(PreventionAgeOutOfRangeError):
        PreventionCase.register_concern(
            case_id=uuid4(),
            person=Person("Per", "15011050260", born(12)),
            source=ConcernSource.SCHOOL,
            municipality="5001",
            summary="",
            actor=POLICE,
            at=T0,
            rules=rules,
        )


def test_the_prevention_diagram_is_generated_from_the_class() -> None:
    assert (ROOT / "docs" / "lifecycle.prevention.dot").read_text() == prevention_lifecycle_dot()


def test_a_conversation_held_later_than_it_is_recorded_is_refused_beyond_the_clock_skew() -> None:
    """docs/domain.md: "any recorded time later than now" is refused; a device clock a few
    minutes ahead (`CLOCK_SKEW`) is not a conversation in the future."""
    case = register()
    at = later(case)
    case.offer_conversation("letter sent", POLICE, at)
    with pytest.raises(ConversationHeldInFutureError):
        case.hold_conversation(at + CLOCK_SKEW + timedelta(seconds=1), "talked", POLICE, at)
    assert case.status is PreventionStatus.CONVERSATION_OFFERED, "nothing recorded"
    case.hold_conversation(at + CLOCK_SKEW, "talked", POLICE, at)
    assert case.status is PreventionStatus.CONVERSATION_HELD


def test_a_conversation_in_the_future_on_a_case_that_cannot_take_it_is_refused_by_its_status() -> None:
    """The status is judged first: a closed case answers that the step is not allowed."""
    case = register()
    case.close("done", POLICE, later(case))
    with pytest.raises(ActionNotAllowedError):
        case.hold_conversation(later(case) + timedelta(days=1), "talked", POLICE, later(case))
