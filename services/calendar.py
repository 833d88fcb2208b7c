"""Deadlines in calendar or Norwegian working days (public holidays from `holidays`)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=32)
def _norwegian_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("NO", years=year)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _norwegian_holidays(day.year)


def add_days(start: date, days: int, working_days: bool) -> date:
    if not working_days:
        return start + timedelta(days=days)
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        left -= is_working_day(day)
    return day
