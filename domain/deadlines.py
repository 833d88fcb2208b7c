"""The deadline rules: when a case must next be acted on, and whether that is overdue.

Every deadline (docs/domain.md §11) is computed here from the rules and their calendar, so the
aggregate, the worklist and any scheduler agree on the day. Counting in working days or
calendar days is the rules' choice (`rules.deadlines.working_days`) and applies to every
deadline alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from domain.calendar import local_day
from domain.rules import Rules


def offer_answer_deadline(offered_on: date, rules: Rules) -> date:
    """The last day for the youth and guardians to answer an offer made on `offered_on`."""
    deadlines = rules.deadlines
    return rules.calendar.add_days(offered_on, deadlines.offer_answer_days, deadlines.working_days)


def startup_deadline(consented_on: date, rules: Rules) -> date:
    """The day by which the startup meeting must be held after the last required consent."""
    deadlines = rules.deadlines
    return rules.calendar.add_days(
        consented_on, deadlines.startup_within_days_of_consent, deadlines.working_days
    )


def next_deadline(case: Mapping[str, Any], rules: Rules) -> date | None:
    """The next day someone must act on a case, read from its case view (a plain mapping
    with `status`, `status_since`, `offer_deadline`, `startup_meeting` and `plan`).

    Instants in the view are aware ISO timestamps; their day is the Norwegian day.
    """
    status = case.get("status")
    if status == "offered" and "offer_deadline" in case:
        return date.fromisoformat(case["offer_deadline"])
    if status == "consented" and "status_since" in case:
        return startup_deadline(local_day(datetime.fromisoformat(case["status_since"])), rules)
    if status == "startup_scheduled" and "meeting_at" in case.get("startup_meeting", {}):
        return local_day(datetime.fromisoformat(case["startup_meeting"]["meeting_at"]))
    if status == "active" and "plan" in case:
        return date.fromisoformat(case["plan"]["end_date"])
    return None


def is_overdue(deadline: date | None, status: str | None, today: date) -> bool:
    """A deadline before today is overdue, except an active contract's end date: a goal, not a chase."""
    return bool(deadline and deadline < today and status != "active")
