"""The Norwegian calendar the service counts working days in: the `holidays` package's Norway.

The domain takes its holidays as data (`domain.calendar.Calendar`); this is the one place
that builds that data, once per process, for a range of years wide enough for any case
the service will hold (offences, plans and deadlines from 2000 to 2060).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import cache

import holidays

from domain.calendar import Calendar

YEARS = range(2000, 2061)


@cache
def _public_holidays() -> dict[date, str]:
    return dict(holidays.country_holidays("NO", years=YEARS, language="no"))


def norwegian_calendar(extra_days: Mapping[date, str] | None = None) -> Calendar:
    """Weekends (the calendar's own rule), the Norwegian public holidays, and the days the
    rules file closes besides (`calendar.extra_days`, each with the reason a moved deadline
    gives, e.g. a Christmas Eve the offices are closed)."""
    days = {**_public_holidays(), **(extra_days or {})}
    return Calendar(holidays=frozenset(days), names=tuple(sorted(days.items())))
