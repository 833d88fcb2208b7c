"""Loading the versioned stage and deadline configuration (`RUSKONTRAKT_RULES_FILE`).

Whatever the file says, the service counts working days in the Norwegian calendar
(`services/calendar.py`): the domain's own default knows weekends only.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from domain.rules import DEFAULT_RULES, Deadlines, Rules, StageDefaults
from infra.settings import ConfigurationError
from services.calendar import norwegian_calendar


def load_rules(path: Path | None) -> Rules:
    """The rules in the YAML file at `path` (the defaults without one), on the Norwegian
    calendar with the file's extra closed days. A file that cannot be read as rules stops
    the service with one line naming the file and what is wrong."""
    if path is None:
        return replace(DEFAULT_RULES, calendar=norwegian_calendar())
    try:
        data = yaml.safe_load(path.read_text())
        stages = {
            int(trinn): StageDefaults(trinn=int(trinn), **values) for trinn, values in data["stages"].items()
        }
        return Rules(
            version=str(data["version"]),
            stages=stages,
            deadlines=Deadlines(**data.get("deadlines", {})),
            calendar=norwegian_calendar(_extra_days(data.get("calendar") or {})),
            **{
                k: data[k]
                for k in ("step_down_after_negative_tests", "max_plan_months", "min_age", "max_age")
                if k in data
            },
        )
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as error:
        what = f"missing {error}" if isinstance(error, KeyError) else str(error).splitlines()[0]
        raise ConfigurationError(f"RUSKONTRAKT_RULES_FILE {path}: not valid rules ({what})") from error


def _extra_days(calendar: dict[str, Any]) -> dict[date, str]:
    """`calendar: {extra_days: {2026-12-24: "Julaften, kontorene er stengt"}}`: closed days
    besides the public holidays (YAML reads an unquoted date as a date)."""
    days = calendar.get("extra_days") or {}
    return {
        day if isinstance(day, date) else date.fromisoformat(str(day)): str(reason or "stengt")
        for day, reason in days.items()
    }
