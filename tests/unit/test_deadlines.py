"""Every deadline is computed by `domain/deadlines.py` from the rules and their calendar
(docs/domain.md §11): calendar days by default, working days when the rules say so, with the
calendar's holidays handed in as data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.calendar import Calendar
from domain.deadlines import (
    RULES,
    due_after,
    is_overdue,
    next_deadline,
    offer_answer_deadline,
    open_deadlines,
    startup_deadline,
    u18_decision,
)
from domain.rules import DEFAULT_RULES, Deadlines
from services.calendar import norwegian_calendar
from tests.unit.contract_factory import OFFER_DAY, offer

WORKING_DAYS = replace(DEFAULT_RULES, deadlines=Deadlines(working_days=True))


def test_the_offer_deadline_counts_calendar_days_by_default() -> None:
    assert offer().offer_deadline == date(2026, 9, 24)  # 14 days after Thursday 10 September


def test_the_offer_deadline_counts_working_days_when_the_rules_say_so() -> None:
    # 14 working days after Thursday 10 September 2026: three weekends are skipped.
    assert offer(rules=WORKING_DAYS).offer_deadline == date(2026, 9, 30)


def test_the_offer_deadline_skips_the_holidays_of_the_rules_calendar() -> None:
    rules = replace(WORKING_DAYS, calendar=Calendar(frozenset({date(2026, 9, 14)})))
    assert offer(rules=rules).offer_deadline == date(2026, 10, 1)
    assert offer_answer_deadline(OFFER_DAY, rules) == date(2026, 10, 1)


def test_a_deadline_given_with_the_offer_is_kept_whatever_the_rules_count() -> None:
    assert offer(rules=WORKING_DAYS, offer_deadline=date(2026, 9, 20)).offer_deadline == date(2026, 9, 20)


def test_the_startup_deadline_counts_working_days_past_weekends_and_holidays() -> None:
    christmas = Calendar(frozenset({date(2026, 12, 25), date(2026, 12, 26)}))
    rules = replace(
        DEFAULT_RULES,
        deadlines=Deadlines(startup_within_days_of_consent=5, working_days=True),
        calendar=christmas,
    )
    assert startup_deadline(date(2026, 12, 21), rules) == date(2026, 12, 29)


def test_the_startup_deadline_counts_calendar_days_by_default() -> None:
    assert startup_deadline(date(2026, 12, 21), DEFAULT_RULES) == date(2027, 1, 20)


def test_a_consent_just_after_midnight_in_norway_starts_the_startup_deadline_on_that_norwegian_day() -> None:
    consented = {"status": "consented", "status_since": "2026-09-10T22:30:00+00:00"}  # 00:30 on the 11th
    found = next_deadline(consented, DEFAULT_RULES)
    assert found is not None and (found.rule, found.due) == ("startup_meeting", date(2026, 10, 12))
    assert found.moved_from == date(2026, 10, 11), "the 11th is a Sunday"


def test_the_startup_deadline_runs_from_consent_even_when_a_meeting_is_booked_later() -> None:
    booked = {
        "status": "startup_scheduled",
        "entered": {"consented": "2026-09-10T10:00:00+02:00"},
        "startup_meeting": {"meeting_at": "2026-11-19T10:00:00+01:00"},  # 70 days on
    }
    [startup] = open_deadlines(booked, DEFAULT_RULES)
    assert (startup.rule, startup.due) == ("startup_meeting", date(2026, 10, 12))


def test_an_active_contract_has_its_meeting_test_and_completion_deadlines() -> None:
    active = {
        "status": "active",
        "plan": {
            "start_date": "2026-10-10",
            "end_date": "2027-03-15",
            "meeting_frequency_days": 14,
            "test_regime": {"kind": "rapid", "per_month": 4},
        },
        "meetings": [{"held_at": "2026-10-20T10:00:00+02:00"}],
        "tests": [{"scheduled_for": "2026-10-22"}],
    }
    found = {d.rule: d.due for d in open_deadlines(active, DEFAULT_RULES)}
    assert found == {
        "next_meeting": date(2026, 11, 3),
        "next_test": date(2026, 10, 30),  # every ceil(30 / 4) = 8 days
        "completion": date(2027, 3, 29),
    }
    assert next_deadline({"status": "completed"}, DEFAULT_RULES) is None


def test_a_breach_waits_14_days_for_its_decision_and_a_termination_7_for_the_return() -> None:
    review = {"status": "breach_review", "entered": {"breach_review": "2026-10-01T12:00:00+02:00"}}
    assert [(d.rule, d.due) for d in open_deadlines(review, DEFAULT_RULES)] == [
        ("breach_decision", date(2026, 10, 15))
    ]
    ended = {"status": "terminated", "status_since": "2026-10-01T12:00:00+02:00"}
    assert [(d.rule, d.due) for d in open_deadlines(ended, DEFAULT_RULES)] == [
        ("return_to_prosecution", date(2026, 10, 8))
    ]


NORWAY = replace(DEFAULT_RULES, calendar=norwegian_calendar())


def _due(start: date, days: int) -> tuple[date, date | None, tuple[str, ...]]:
    return due_after(start, days, NORWAY)


def test_a_deadline_in_easter_moves_past_maundy_thursday_to_easter_monday() -> None:
    due, moved_from, why = _due(date(2026, 3, 19), 14)  # 2 April 2026: Maundy Thursday
    assert (due, moved_from) == (date(2026, 4, 7), date(2026, 4, 2))
    assert [w.split(" ", 1)[1] for w in why] == [
        "Skjærtorsdag",
        "Langfredag",
        "lørdag",
        "Første påskedag",
        "Andre påskedag",
    ]


def test_a_deadline_on_17_may_christmas_or_a_saturday_moves_to_the_next_working_day() -> None:
    assert _due(date(2026, 5, 3), 14)[:2] == (date(2026, 5, 18), date(2026, 5, 17))  # a Sunday too
    assert _due(date(2027, 5, 3), 14)[:2] == (date(2027, 5, 18), date(2027, 5, 17))  # a Monday
    assert _due(date(2026, 12, 11), 14)[:2] == (date(2026, 12, 28), date(2026, 12, 25))
    assert _due(date(2026, 9, 5), 14)[:2] == (date(2026, 9, 21), date(2026, 9, 19))  # a Saturday
    assert _due(date(2026, 9, 10), 14) == (date(2026, 9, 24), None, ()), "a working day stays"


def test_the_day_a_deadline_starts_is_the_norwegian_day_across_dst_changes() -> None:
    # 25 October 2026: summer time ends at 03:00; 23:30 UTC on the 24th is 01:30 on the 25th.
    review = {"status": "breach_review", "entered": {"breach_review": "2026-10-24T23:30:00+00:00"}}
    [decision] = open_deadlines(review, NORWAY)
    assert decision.due == date(2026, 11, 9)  # from the 25th, not the 24th (the 8th is a Sunday)
    # 29 March 2026: summer time starts; 22:30 UTC on the 28th is 23:30 on the 28th in Oslo.
    spring = {"status": "terminated", "status_since": "2026-03-28T22:30:00+00:00"}
    [back] = open_deadlines(spring, NORWAY)
    assert back.due == date(2026, 4, 7)  # 4 April (Easter Saturday) moves past Easter Monday


def test_a_deadline_is_overdue_from_the_day_after_it() -> None:
    today = date(2026, 10, 1)
    assert is_overdue(date(2026, 9, 30), today)
    assert not is_overdue(date(2026, 10, 1), today)
    assert not is_overdue(None, today)


def test_a_moved_deadline_says_from_which_day_and_why() -> None:
    ended = {"status": "terminated", "status_since": "2026-12-18T12:00:00+01:00"}
    [back] = open_deadlines(ended, NORWAY)
    assert back.as_dict() == {
        "rule": "return_to_prosecution",
        "due": "2026-12-28",
        "who": "konfliktrad",
        "source": back.source,
        "moved_from": "2026-12-25",
        "moved_because": ["2026-12-25 Første juledag", "2026-12-26 Andre juledag", "2026-12-27 søndag"],
    }


def test_the_u18_decision_is_due_six_weeks_after_the_offence_and_moves_past_easter() -> None:
    rules = NORWAY
    # 20 February 2026 + 42 days is Good Friday, 3 April: due the Tuesday after Easter Monday.
    late = u18_decision(date(2026, 2, 20), date(2026, 4, 8), rules)
    assert (late["rule"], late["due"], late["moved_from"], late["who"]) == (
        "u18_decision",
        "2026-04-07",
        "2026-04-03",
        "prosecution",
    )
    assert late["met"] is False
    assert u18_decision(date(2026, 2, 20), date(2026, 4, 7), rules)["met"] is True
    # The length is the rules' (versioned configuration), not a constant.
    shorter = replace(rules, deadlines=Deadlines(u18_decision_days=28))
    assert u18_decision(date(2026, 2, 20), date(2026, 3, 20), shorter) == {
        "rule": "u18_decision",
        "due": "2026-03-20",
        "who": "prosecution",
        "source": RULES["u18_decision"].source,
        "met": True,
    }


def test_odd_stored_meeting_times_are_passed_over_and_the_next_meeting_runs_from_the_last_real_one() -> None:
    # Stored values are kept for ever: a view whose meetings hold a dict, a number or
    # nonsense must still show its deadlines (their days are remembered by instant text,
    # so nothing unhashable may reach that memory).
    plan = {"start_date": "2026-10-01", "meeting_frequency_days": 14, "end_date": "2027-04-01"}
    doc = {
        "status": "active",
        "plan": plan,
        "meetings": [
            {"held_at": {"not": "a time"}},
            {"held_at": 20261020},
            {"held_at": "yesterday"},
            {"held_at": "2026-10-20T23:30:00+00:00"},  # already 21 October in Norway
            {"held_at": None},
        ],
    }
    for _ in range(2):  # the second time from the remembered days
        deadlines = {d.rule: d.due for d in open_deadlines(doc, DEFAULT_RULES)}
        assert deadlines["next_meeting"] == date(2026, 11, 4)
