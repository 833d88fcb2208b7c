"""Versioned configuration of stages (trinn) and deadlines (docs/domain.md §5, §11).

These are defaults a county or municipality can change without code changes: the service
loads a `Rules` from a YAML file (`RUSKONTRAKT_RULES_FILE`) and every case records the
rules version it was offered under, so a later change never rewrites an old case's terms.
The calendar (which days are public holidays) travels with the rules so that every
deadline is computed from the same data; the service loads the Norwegian one
(`infra/rules_file.py`), while the domain's default knows weekends only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property

from domain.booklets import BOOKLETS
from domain.calendar import WEEKENDS_ONLY, Calendar


@dataclass(frozen=True)
class StageDefaults:
    trinn: int
    typical_case: str
    min_months: int
    max_months: int
    tests_per_month: int
    meeting_frequency_days: int


@dataclass(frozen=True)
class Deadlines:
    """How long each deadline of docs/domain.md §11 runs (`domain/deadlines.py` names them)."""

    offer_answer_days: int = 14
    startup_within_days_of_consent: int = 30
    breach_decision_days: int = 14
    return_to_prosecution_days: int = 7
    completion_days_after_end: int = 14
    u18_decision_days: int = 42  # six weeks from the offence (the intake register's)
    escalate_after_days: int = 7  # the grace after a missed deadline before the unit's lead is told
    working_days: bool = False  # count calendar days; True: only the calendar's working days


@dataclass(frozen=True)
class Rules:
    version: str
    stages: dict[int, StageDefaults]
    deadlines: Deadlines = field(default_factory=Deadlines)
    step_down_after_negative_tests: int = 4
    max_plan_months: int = 12
    min_age: int = 15  # the contract: age on the offence date
    max_age: int = 17
    prevention_min_age: int = 12  # the concern conversation: age at registration
    prevention_max_age: int = 17
    charged_buyer_min_age: int = 15  # the Danish model's offer to charged buyers (seed 003)
    calendar: Calendar = WEEKENDS_ONLY
    booklets: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(BOOKLETS))

    def stage(self, trinn: int) -> StageDefaults:
        return self.stages[trinn]

    @cached_property
    def deadline_fingerprint(self) -> str:
        """What every computed deadline depends on: the rules version, the deadlines'
        lengths and the calendar's holidays. Deadlines stored under another fingerprint are
        computed again (`services/deadline_rules.py`), also when the calendar changed but
        the version was not bumped."""
        basis = {
            "version": self.version,
            "deadlines": asdict(self.deadlines),
            "holidays": sorted(day.isoformat() for day in self.calendar.holidays),
        }
        return hashlib.sha256(json.dumps(basis, sort_keys=True).encode()).hexdigest()[:16]


DEFAULT_RULES = Rules(
    version="2026-1",
    stages={
        1: StageDefaults(1, "first time, minor", 3, 3, 2, 14),
        2: StageDefaults(2, "standard contract", 6, 6, 4, 30),
        3: StageDefaults(3, "full youth follow-up", 6, 12, 4, 14),
    },
)
