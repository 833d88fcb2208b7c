"""The deadline rules: when a case must next be acted on, and whether that is overdue.

Every deadline of docs/domain.md §11 is a named rule here (what starts it, how long it runs,
who acts, what happens when it is missed, where it comes from); how long each runs is the
versioned configuration (`domain/rules.py` `Deadlines`). They are computed from a case view
(the plain mapping a unit's read model folds), so a unit is only ever told of the deadlines
of what it may see, and the scheduler (which reads the auditor's view) and every worklist
agree on the day.

A deadline that falls on a Saturday, Sunday or public holiday moves to the next working
day (domstolloven § 149), and says from which day and why (`moved_from`, `moved_because`).
Counting only working days instead is the rules' choice (`working_days`).
"""

from __future__ import annotations

import functools
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from domain.calendar import local_day
from domain.rules import Deadlines, Rules
from domain.values import Agency

Case = Mapping[str, Any]  # a case view, as `projections/case_view.py` folds it


class WhenMissed(Enum):
    LAPSE = "lapse"  # the offer lapses (OfferLapsed), recorded by the scheduler
    OVERDUE = "overdue"  # DeadlineMissed, then CaseEscalated after the grace


@dataclass(frozen=True)
class DeadlineRule:
    name: str
    starts: str  # the event (or date) that starts it, in words
    who: Agency  # who must act
    when_missed: WhenMissed
    source: str
    days: Callable[[Deadlines], int] | None = None  # None: the plan says how often
    escalates: bool = True


RULES: dict[str, DeadlineRule] = {
    r.name: r
    for r in (
        DeadlineRule(
            "offer_answer",
            "ContractOffered",
            Agency.KONFLIKTRAD,
            WhenMissed.LAPSE,
            "docs/domain.md §11 (seed 004: the youth and guardians answer within 14 days)",
            lambda d: d.offer_answer_days,
            escalates=False,
        ),
        DeadlineRule(
            "startup_meeting",
            "the last required ConsentGiven",
            Agency.KONFLIKTRAD,
            WhenMissed.OVERDUE,
            "docs/domain.md §11, §8 (seed 004: the startup meeting within 30 days of consent)",
            lambda d: d.startup_within_days_of_consent,
        ),
        DeadlineRule(
            "next_meeting",
            "the plan's start, then each MeetingHeld or NoShowRecorded",
            Agency.KONFLIKTRAD,
            WhenMissed.OVERDUE,
            "the plan's meeting frequency (docs/domain.md §5, §11)",
            escalates=False,
        ),
        DeadlineRule(
            "next_test",
            "the plan's start, then each test scheduled",
            Agency.MUNICIPAL_HEALTH,
            WhenMissed.OVERDUE,
            "the plan's tests per month (docs/domain.md §5, §11)",
            escalates=False,
        ),
        DeadlineRule(
            "breach_decision",
            "BreachRegistered",
            Agency.KONFLIKTRAD,
            WhenMissed.OVERDUE,
            "docs/domain.md §11 (a breach is decided within 14 days)",
            lambda d: d.breach_decision_days,
        ),
        DeadlineRule(
            "return_to_prosecution",
            "ContractTerminated",
            Agency.KONFLIKTRAD,
            WhenMissed.OVERDUE,
            "docs/domain.md §11 (a terminated contract goes back to the prosecutor within 7 days)",
            lambda d: d.return_to_prosecution_days,
        ),
        DeadlineRule(
            "completion",
            "the plan's end date",
            Agency.KONFLIKTRAD,
            WhenMissed.OVERDUE,
            "docs/domain.md §11 (completion recorded within 14 days of the plan's end)",
            lambda d: d.completion_days_after_end,
            escalates=False,
        ),
        # The prosecutor's decision on a youth drug case: six weeks from the offence. The
        # intake register learns of a case only when it is decided, so this deadline is
        # judged when the decision is recorded (met or late), never fired by the scheduler.
        DeadlineRule(
            "u18_decision",
            "the offence date (the intake register's)",
            Agency.PROSECUTION,
            WhenMissed.OVERDUE,
            "docs/domain.md §11 (the prosecution's six weeks from offence to decision for under-18s)",
            lambda d: d.u18_decision_days,
            escalates=False,
        ),
    )
}


@dataclass(frozen=True)
class Deadline:
    rule: str
    due: date
    who: Agency
    source: str
    moved_from: date | None = None
    moved_because: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "rule": self.rule,
            "due": self.due.isoformat(),
            "who": self.who.value,
            "source": self.source,
        }
        if self.moved_from is not None:
            out["moved_from"] = self.moved_from.isoformat()
            out["moved_because"] = list(self.moved_because)
        return out


def due_after(start: date, days: int, rules: Rules) -> tuple[date, date | None, tuple[str, ...]]:
    """`days` after `start` (in working days when the rules say so), moved to the next
    working day when it falls on none; (due, the day it moved from or None, why)."""
    counted = rules.calendar.add_days(start, days, rules.deadlines.working_days)
    due, reasons = rules.calendar.next_working_day(counted)
    return due, (counted if reasons else None), reasons


def offer_answer_deadline(offered_on: date, rules: Rules) -> date:
    """The last day for the youth and guardians to answer an offer made on `offered_on`."""
    return due_after(offered_on, rules.deadlines.offer_answer_days, rules)[0]


def startup_deadline(consented_on: date, rules: Rules) -> date:
    """The day by which the startup meeting must be held after the last required consent."""
    return due_after(consented_on, rules.deadlines.startup_within_days_of_consent, rules)[0]


def deadline_from(name: str, start: date, rules: Rules, days: int | None = None) -> Deadline:
    """The deadline of rule `name` started on `start`, running `days` (default: the
    rule's own length, for a rule with one)."""
    rule = RULES[name]
    length = days if days is not None else rule.days(rules.deadlines) if rule.days else None
    assert length is not None, f"{name} runs as the plan says: give its days"
    due, moved_from, why = due_after(start, length, rules)
    return Deadline(name, due, rule.who, rule.source, moved_from, why)


def u18_decision(offence_date: date, decided_on: date, rules: Rules) -> dict[str, Any]:
    """The U18 deadline of a decided case: when it fell due and whether the decision met it."""
    deadline = deadline_from("u18_decision", offence_date, rules)
    return {**deadline.as_dict(), "met": decided_on <= deadline.due}


def open_deadlines(case: Case, rules: Rules) -> list[Deadline]:
    """Every deadline open on the case as the view shows it, soonest first."""
    status = case.get("status")
    found: list[Deadline] = []

    def add(name: str, start: date | None, days: int | None = None) -> None:
        if start is None or (days is None and RULES[name].days is None):
            return  # nothing started it, or the plan sets no frequency
        found.append(deadline_from(name, start, rules, days))

    raw_plan = case.get("plan")
    plan: Mapping[str, Any] = raw_plan if isinstance(raw_plan, dict) else {}
    offer_due = _date(case.get("offer_deadline"))  # set at the offer (or by the prosecutor)
    if status == "offered" and offer_due is not None:
        rule = RULES["offer_answer"]
        found.append(Deadline(rule.name, offer_due, rule.who, rule.source))
    if status in ("consented", "startup_scheduled"):
        add("startup_meeting", _day(_entered(case, "consented")))
    if status in ("active", "breach_review") and plan:
        meetings = _LATEST.day(case.get("meetings", []), "held_at")
        no_shows = _LATEST.day(case.get("no_shows", []), "recorded_at")
        last = max([_date(plan.get("start_date")), meetings, no_shows], key=_order)
        frequency = plan.get("meeting_frequency_days")
        add("next_meeting", last, frequency if isinstance(frequency, int) and frequency > 0 else None)
        regime = plan.get("test_regime")
        per_month = regime.get("per_month") if isinstance(regime, dict) else None
        tested = [_date(t.get("scheduled_for")) for t in case.get("tests", [])]
        if isinstance(per_month, int) and per_month > 0:
            last_test = max([_date(plan.get("start_date")), *tested], key=_order)
            add("next_test", last_test, math.ceil(30 / per_month))
    if status == "breach_review":
        add("breach_decision", _day(_entered(case, "breach_review")))
    if status == "terminated":
        add("return_to_prosecution", _day(_entered(case, "terminated")))
    if status in ("active", "breach_review"):
        add("completion", _date(plan.get("end_date")))
    return sorted(found, key=lambda d: (d.due, d.rule))


def next_deadline(case: Case, rules: Rules) -> Deadline | None:
    """The soonest open deadline of the case, or None."""
    found = open_deadlines(case, rules)
    return found[0] if found else None


def is_overdue(due: date | None, today: date) -> bool:
    """A deadline is overdue from the day after its due day (Norwegian days)."""
    return due is not None and due < today


class LatestDays:
    """The latest Norwegian day of a field over a case's meetings or no-shows, remembered
    per list so that a list grown since is read only from where it was last read.

    Every command's answer and every read shows the case's deadlines; on a case of 1,000
    meetings reading every meeting's day was half the command's CPU (issue 20). A case
    view's fold only ever appends to these lists (`projections/case_view.py` `_append`),
    so a list that is the same object, at least as long, and still holds the same item
    where it was last read to, keeps its first part. Short lists are read whole; long ones
    are held (and so kept alive) until `remembered` others have been asked since."""

    def __init__(self, remembered: int = 256, worth_it: int = 64) -> None:
        self.remembered, self.worth_it = remembered, worth_it
        self._held: OrderedDict[tuple[int, str], tuple[list[Any], int, Any, date | None]] = OrderedDict()
        self._lock = threading.Lock()

    def day(self, items: Any, field: str) -> date | None:
        if not isinstance(items, list):
            return None
        count, start, latest = len(items), 0, None
        key = (id(items), field)
        if count >= self.worth_it:
            with self._lock:
                held = self._held.get(key)
            if held is not None and held[0] is items and held[1] <= count and items[held[1] - 1] is held[2]:
                start, latest = held[1], held[3]
        for index in range(start, count):
            item = items[index]
            day = _day(item.get(field)) if isinstance(item, dict) else None
            if day is not None and (latest is None or day > latest):
                latest = day
        if count >= self.worth_it:
            with self._lock:
                self._held[key] = (items, count, items[-1], latest)
                self._held.move_to_end(key)
                while len(self._held) > self.remembered:
                    self._held.popitem(last=False)
        return latest


_LATEST = LatestDays()


def _entered(case: Case, status: str) -> str | None:
    """When the case last entered `status` (the view records it; older views only the
    status it is in now)."""
    entered = case.get("entered", {}).get(status)
    if entered is None and case.get("status") == status:
        entered = case.get("status_since")
    return entered if isinstance(entered, str) else None


def _day(instant: Any) -> date | None:
    """The Norwegian day of an ISO instant; None for anything else (a stored value is kept
    for ever, so an odd one must not stop a case's deadlines from being read)."""
    return _day_of(instant) if isinstance(instant, str) and instant else None


@functools.lru_cache(maxsize=32_768)
def _day_of(instant: str) -> date | None:
    # Remembered: every command and read of a case shows its deadlines, which look at the
    # day of every meeting and no-show it holds (parsing them again was most of the cost of
    # the answer's view, and grew with the case, issue 20).
    try:
        return local_day(datetime.fromisoformat(instant))
    except ValueError:
        return None


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except (TypeError, ValueError):
        return None


def _order(day: date | None) -> date:
    return day or date.min
