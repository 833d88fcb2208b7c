"""`LatestDays` reads a grown list only from where it last read it (a case view's fold only
appends): it must answer as a full read of the list would, across appends, odd values and
other lists, and read a list again when it is not the one it remembers."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta, timezone
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from domain.calendar import local_day
from domain.deadlines import LatestDays

T0 = datetime(2026, 9, 10, 23, 30, tzinfo=timezone(timedelta(hours=2)))
values = st.one_of(
    st.integers(-400, 400).map(lambda h: (T0 + timedelta(hours=h)).isoformat()),
    st.sampled_from(["", "not a time", None, 17]),
)


def _full(items: list[dict[str, Any]]) -> date | None:
    days = []
    for item in items:
        v = item.get("held_at")
        if isinstance(v, str) and v:
            with contextlib.suppress(ValueError):
                days.append(local_day(datetime.fromisoformat(v)))
    return max(days, default=None)


@given(st.lists(st.lists(values, max_size=12), max_size=8))
def test_a_growing_list_answers_as_a_full_read(appends: list[list[Any]]) -> None:
    latest = LatestDays(remembered=2, worth_it=3)
    items: list[dict[str, Any]] = []
    other: list[dict[str, Any]] = []
    for batch in appends:
        items.extend({"held_at": v} for v in batch)
        other = [{"held_at": v} for v in reversed(batch)] * 2
        assert latest.day(items, "held_at") == _full(items)
        assert latest.day(other, "held_at") == _full(other)  # pushes the first list out (remembered=2)
        assert latest.day(items, "held_at") == _full(items)


def test_a_list_replaced_under_the_same_length_is_read_again() -> None:
    latest = LatestDays(worth_it=2)
    items = [{"held_at": T0.isoformat()}, {"held_at": T0.isoformat()}]
    assert latest.day(items, "held_at") == date(2026, 9, 10)
    items[-1] = {"held_at": (T0 + timedelta(days=3)).isoformat()}  # not the item it read to
    assert latest.day(items, "held_at") == date(2026, 9, 13)
    assert latest.day("not a list", "held_at") is None
