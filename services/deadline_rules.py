"""Deadlines computed again when the rules or the calendar change (docs/domain.md §11).

A worklist row stores the deadlines of its case as they were computed when the case was
last projected. A new rules file (a deadline's length, working days, extra closed days)
or a new calendar would leave those rows on the old days until each case next moves; so
whoever keeps the deadlines (the scheduler, before its pass) compares the rules'
fingerprint with the one the read models were last brought to and, when they differ,
renders the cases whose rows were computed under other rules (each row names its rules'
fingerprint) again from the event store under today's rules (the projector's `refresh`,
which any process may do while the others go on). A case's
terms are not touched: the offer's answer deadline was fixed in the offer itself.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Protocol

from domain.policy import Track
from domain.rules import Rules

log = logging.getLogger("ruskontrakt.deadlines")
KEY = "deadline_rules"
CHUNK = 200  # cases per transaction: a refresh replays each case from the store


class DeadlineRulesStore(Protocol):
    def stale_deadlines(self, track: str, fingerprint: str) -> list[str]: ...
    def meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...


class RecomputeDeadlines:
    def __init__(
        self, store: DeadlineRulesStore, refresh: Callable[[Sequence[str]], None], rules: Rules
    ) -> None:
        self.store, self.refresh, self.rules = store, refresh, rules

    def __call__(self) -> int:
        """Bring every stored deadline to today's rules; how many cases were rendered again."""
        stored = self.store.meta(KEY)
        current = self.rules.deadline_fingerprint
        if stored == current:
            return 0
        cases = self.store.stale_deadlines(Track.CONTRACT.value, current)
        if cases:
            log.info(
                "deadlines: the rules or the calendar changed (rules %s): computing the deadlines "
                "of %d case(s) again",
                self.rules.version,
                len(cases),
            )
        for start in range(0, len(cases), CHUNK):
            self.refresh(cases[start : start + CHUNK])
        self.store.set_meta(KEY, current)
        return len(cases)
