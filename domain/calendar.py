"""Date arithmetic in Norwegian days: the instant-to-day rule and month arithmetic.

Ages and deadlines are counted in the calendar days of Norway, whatever the server's
time zone, so every instant becomes a day through `local_day` and nowhere else.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")


def local_day(at: datetime) -> date:
    """The calendar day in Norway at an instant: ages and deadlines are Norwegian days."""
    return at.astimezone(OSLO).date()
