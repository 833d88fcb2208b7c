"""Loading the versioned stage and deadline configuration (`RUSKONTRAKT_RULES_FILE`).

Whatever the file says, the service counts working days in the Norwegian calendar
(`services/calendar.py`): the domain's own default knows weekends only.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import yaml

from domain.rules import DEFAULT_RULES, Deadlines, Rules, StageDefaults
from services.calendar import norwegian_calendar


def load_rules(path: Path | None) -> Rules:
    """The rules in the YAML file at `path` (the defaults without one), on the Norwegian calendar."""
    if path is None:
        return replace(DEFAULT_RULES, calendar=norwegian_calendar())
    data = yaml.safe_load(path.read_text())
    stages = {
        int(trinn): StageDefaults(trinn=int(trinn), **values) for trinn, values in data["stages"].items()
    }
    return Rules(
        version=str(data["version"]),
        stages=stages,
        deadlines=Deadlines(**data.get("deadlines", {})),
        calendar=norwegian_calendar(),
        **{
            k: data[k]
            for k in ("step_down_after_negative_tests", "max_plan_months", "min_age", "max_age")
            if k in data
        },
    )
