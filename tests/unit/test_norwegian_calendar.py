"""The service counts working days in the Norwegian calendar: the rules it loads carry the
public holidays of the `holidays` package (`services/calendar.py`), with or without a file."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from domain.calendar import WEEKENDS_ONLY
from domain.rules import Deadlines
from infra.rules_file import load_rules
from projections.worklist import worklist_row

EXAMPLE = Path(__file__).parents[2] / "docs" / "rules.example.yaml"


@pytest.mark.parametrize("path", [None, EXAMPLE], ids=["defaults", "example-file"])
def test_the_service_rules_know_the_norwegian_public_holidays(path: Path | None) -> None:
    calendar = load_rules(path).calendar
    assert not calendar.is_working_day(date(2026, 5, 17))  # Constitution Day, a Sunday anyway
    assert not calendar.is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not calendar.is_working_day(date(2026, 5, 14))  # Ascension Day, a Thursday
    assert calendar.is_working_day(date(2026, 4, 7))
    assert WEEKENDS_ONLY.is_working_day(date(2026, 4, 6))


def test_the_worklist_counts_the_startup_deadline_past_easter_in_working_days() -> None:
    rules = replace(
        load_rules(None), deadlines=Deadlines(startup_within_days_of_consent=5, working_days=True)
    )
    doc = {"id": "c1", "status": "consented", "status_since": "2026-04-01T10:00:00+02:00"}
    # Maundy Thursday, Good Friday, the weekend and Easter Monday are not working days.
    assert worklist_row(doc, rules)["next_deadline"] == "2026-04-13"
