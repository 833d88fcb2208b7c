"""The Norwegian calendar the service counts working days in: the `holidays` package's Norway.

The domain takes its holidays as data (`domain.calendar.Calendar`); this is the one place
that builds that data, once per process, for a range of years wide enough for any case
the service will hold (offences, plans and deadlines from 2000 to 2060).
"""

from __future__ import annotations

from functools import cache

import holidays

from domain.calendar import Calendar

YEARS = range(2000, 2061)


@cache
def norwegian_calendar() -> Calendar:
    """Weekends (the calendar's own rule) and the Norwegian public holidays."""
    days = holidays.country_holidays("NO", years=YEARS, language="no")
    return Calendar(holidays=frozenset(days), names=tuple(sorted(days.items())))
