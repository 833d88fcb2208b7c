"""Date arithmetic in Norwegian days: instants to days, months, and working days.

Ages and deadlines are counted in the calendar days of Norway, whatever the server's
time zone, so every instant becomes a day through `local_day` and nowhere else. Which
days are public holidays is data handed in (`Calendar`), so the domain needs no holiday
package and a test can name its own holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")
SATURDAY = 5
# How far past the command's time a reported instant (a meeting held, a sample collected)
# may lie: the clock of the device it was typed on may run a little ahead of the server's.
CLOCK_SKEW = timedelta(minutes=5)


def local_day(at: datetime) -> date:
    """The calendar day in Norway at an instant: ages and deadlines are Norwegian days."""
    return at.astimezone(OSLO).date()


def in_future(instant: datetime, at: datetime) -> bool:
    """Whether `instant` is later than the command's time `at`, beyond `CLOCK_SKEW`: what
    has happened (a meeting held, a sample collected) cannot be reported before it did."""
    return instant > at + CLOCK_SKEW


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day if it is shorter
    (31 January + 1 month is 28 or 29 February): how a plan's length is read."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last_day in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last_day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


WEEKDAY_NAMES = ("mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag", "søndag")


@dataclass(frozen=True)
class Calendar:
    """Which days are working days: Monday to Friday, except the public holidays given.

    The empty calendar (no holidays) counts weekends only; the service builds the
    Norwegian one in `services/calendar.py`, with the holidays' names (`names`), so a
    deadline that moved can say why.
    """

    holidays: frozenset[date] = frozenset()
    names: tuple[tuple[date, str], ...] = ()

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < SATURDAY and day not in self.holidays

    @cached_property
    def _names(self) -> dict[date, str]:
        return dict(self.names)

    def why_not_working(self, day: date) -> str | None:
        """Why `day` is no working day ("lørdag", "1. påskedag"), or None when it is one."""
        if day in self.holidays:
            return self._names.get(day, "helligdag")
        return WEEKDAY_NAMES[day.weekday()] if day.weekday() >= SATURDAY else None

    def next_working_day(self, day: date) -> tuple[date, tuple[str, ...]]:
        """`day`, or the first working day after it when it is none (domstolloven § 149: a
        deadline ending on a Saturday, Sunday or public holiday ends on the next working
        day), and the reasons it moved."""
        reasons: list[str] = []
        while (reason := self.why_not_working(day)) is not None:
            reasons.append(f"{day.isoformat()} {reason}")
            day += timedelta(days=1)
        return day, tuple(reasons)

    def add_days(self, start: date, days: int, working_days: bool) -> date:
        """`days` after `start`, counting every day or only working days (the day a
        deadline starts never counts, so `add_days(d, 0, ...)` is `d`)."""
        if not working_days:
            return start + timedelta(days=days)
        day, left = start, days
        while left > 0:
            day += timedelta(days=1)
            left -= self.is_working_day(day)
        return day


WEEKENDS_ONLY = Calendar()
