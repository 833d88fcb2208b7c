"""The deadline scheduler: every missed deadline recorded once, through the use cases.

A pass reads the auditor's worklist rows whose next deadline has passed (a projection:
the rows are indexed by their next deadline), and for each deadline past its day asks
the contracts application to record what follows (docs/domain.md §11): the offer lapses
(`lapse`, as the Conflict Council may do by hand), any other deadline is recorded as
missed (`record_missed_deadline`) and, after the grace, escalated to the unit's lead
(`escalate`). The scheduler acts for the case's Conflict Council office, as a system
user, through the same permission and need-to-know checks as a person would.

Each deadline is recorded once because the aggregate says so, not the scheduler: a
contract refuses a second record of the same rule and due day, and a deadline that is no
longer open (the case moved on), and the event store lets only one of two concurrent
saves of a case through. So two schedulers at once, a scheduler restarted in the middle
of a pass, or a pass over read models a moment behind are all safe: the worst they do is
ask again and be refused.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from domain.calendar import local_day
from domain.deadlines import RULES, WhenMissed
from domain.errors import DomainError
from domain.municipalities import MunicipalityRegister
from domain.policy import Track
from domain.rules import Rules
from domain.values import Agency
from services.context import Context
from services.contracts import ContractsApplication
from services.errors import AccessDeniedError, CaseErasedError, CaseNotFoundError, CommandRefusedError
from services.queries import Page, ReadModelReader

log = logging.getLogger("ruskontrakt.deadlines")
SYSTEM_USER = "system:deadlines"
PAGE = 500


@dataclass
class Pass:
    """What one pass did: (case, rule, due, what) per deadline recorded."""

    fired: list[tuple[str, str, str, str]] = field(default_factory=list)
    refused: int = 0  # asked and refused (recorded already, or moved on): nothing happened

    def __len__(self) -> int:
        return len(self.fired)


class DeadlineScheduler:
    def __init__(
        self,
        contracts: ContractsApplication,
        read_models: ReadModelReader,
        rules: Rules,
        register: MunicipalityRegister,
        clock: Callable[[], datetime],
        catch_up: Callable[[], object] | None = None,
        recompute: Callable[[], object] | None = None,
    ) -> None:
        """`catch_up`: brings the read models up to date first (embedded mode); `recompute`:
        computes the stored deadlines again when the rules changed (services/deadline_rules.py)."""
        self.contracts = contracts
        self.read_models = read_models
        self.rules = rules
        self.register = register
        self.clock = clock
        self.catch_up = catch_up
        self.recompute = recompute

    def run_once(self) -> Pass:
        """One pass over every case with a deadline before today (Norwegian day)."""
        if self.catch_up is not None:
            self.catch_up()
        if self.recompute is not None:
            self.recompute()  # never fire on a day computed under rules no longer in force
        at = self.clock()
        today = local_day(at)
        done = Pass()
        after: tuple[str, str] | None = None
        while True:
            page = Page(due_before=today.isoformat(), after=after, limit=PAGE)
            rows = self.read_models.rows(AUDITOR_KEY, Track.CONTRACT.value, page)
            for row in rows:
                self._case(row, at, today, done)
            if len(rows) < PAGE:
                return done
            after = rows[-1]["_cursor"]

    def run(self, stop: threading.Event, interval: float) -> None:
        """Pass after pass until `stop` (a failed pass is logged and the next one tries again)."""
        while not stop.is_set():
            try:
                done = self.run_once()
                if done.fired:
                    log.info("deadlines: recorded %d (%d asked again and refused)", len(done), done.refused)
            except Exception:
                log.exception("deadlines: the pass failed; the next one starts in %s s", interval)
            stop.wait(interval)

    def _case(self, row: dict[str, Any], at: datetime, today: date, done: Pass) -> None:
        ctx = Context(
            SYSTEM_USER,
            Agency.KONFLIKTRAD,
            at,
            self.rules,
            self.register,
            unit=row.get("office"),
            shows_view=False,
        )
        case_id = UUID(row["id"])
        grace = timedelta(days=self.rules.deadlines.escalate_after_days)
        for deadline in row.get("deadlines", []):
            rule, due = RULES.get(deadline["rule"]), date.fromisoformat(deadline["due"])
            if rule is None or due >= today:
                continue
            if rule.when_missed is WhenMissed.LAPSE:
                self._ask(done, (row["id"], rule.name, due, "lapsed"), self.contracts.lapse, case_id, ctx)
                continue
            if rule.name not in row.get("missed", []):
                record = self.contracts.record_missed_deadline
                self._ask(done, (row["id"], rule.name, due, "missed"), record, case_id, rule.name, due, ctx)
            if rule.escalates and today > due + grace and rule.name not in row.get("escalated_rules", []):
                escalate = self.contracts.escalate
                self._ask(
                    done, (row["id"], rule.name, due, "escalated"), escalate, case_id, rule.name, due, ctx
                )

    def _ask(
        self, done: Pass, what: tuple[str, str, date, str], use_case: Callable[..., object], *arguments: Any
    ) -> None:
        case, rule, due, happened = what
        try:
            use_case(*arguments)
        except (CommandRefusedError, DomainError):
            done.refused += 1  # recorded already by another pass, or the case moved on
            return
        except (CaseNotFoundError, CaseErasedError, AccessDeniedError) as error:
            log.warning("deadlines: %s of %s not recorded: %s", rule, case, type(error).__name__)
            return
        done.fired.append((case, rule, due.isoformat(), happened))


AUDITOR_KEY = Agency.AUDITOR.value  # the auditor's rows show every deadline of every case
