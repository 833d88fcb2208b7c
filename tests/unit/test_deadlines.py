"""Every deadline is computed by `domain/deadlines.py` from the rules and their calendar
(docs/domain.md §11): calendar days by default, working days when the rules say so, with the
calendar's holidays handed in as data."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from domain.calendar import Calendar
from domain.deadlines import is_overdue, next_deadline, offer_answer_deadline, startup_deadline
from domain.rules import DEFAULT_RULES, Deadlines
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
    assert next_deadline(consented, DEFAULT_RULES) == date(2026, 10, 11)


def test_the_next_deadline_of_each_status_is_read_from_the_case_view() -> None:
    offered = {"status": "offered", "offer_deadline": "2026-09-24"}
    assert next_deadline(offered, DEFAULT_RULES) == date(2026, 9, 24)
    scheduled = {
        "status": "startup_scheduled",
        "startup_meeting": {"meeting_at": "2026-09-15T10:00:00+02:00"},
    }
    assert next_deadline(scheduled, DEFAULT_RULES) == date(2026, 9, 15)
    active = {"status": "active", "plan": {"end_date": "2027-03-15"}}
    assert next_deadline(active, DEFAULT_RULES) == date(2027, 3, 15)
    assert next_deadline({"status": "completed"}, DEFAULT_RULES) is None


def test_a_deadline_before_today_is_overdue_but_an_active_contracts_end_date_is_not() -> None:
    today = date(2026, 10, 1)
    assert is_overdue(date(2026, 9, 30), "consented", today)
    assert not is_overdue(date(2026, 10, 1), "consented", today)
    assert not is_overdue(date(2026, 9, 30), "active", today)
    assert not is_overdue(None, "offered", today)
