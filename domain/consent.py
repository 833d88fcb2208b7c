"""Who has consented to what, and when (docs/domain.md §4).

A register of consent intervals, built only from events, so the aggregate, the access
policy, the projections and the auditor's time travel all answer "was this covered at
time T?" the same way. The contract consent itself is the interval with `item=None`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property

from domain.calendar import OSLO
from domain.values import Agency, Category, ScopeItem

YOUTH = "youth"
ADULT_AGE = 18


@functools.cache
def _guardians(count: int) -> tuple[str, ...]:
    return tuple(f"guardian:{i}" for i in range(count))


def _key(signatory: str, item: ScopeItem | None) -> tuple[str, Agency | None, Category | None]:
    return (signatory, None, None) if item is None else (signatory, item.agency, item.category)


@dataclass
class ConsentInterval:
    signatory: str
    item: ScopeItem | None  # None: the consent to the contract itself
    consent_id: str
    booklet_version: str
    start: datetime
    end: datetime | None = None

    def active_at(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass
class ConsentRegister:
    birth_date: date
    guardian_count: int  # the guardians registered with the offer
    intervals: list[ConsentInterval] = field(default_factory=list)
    guardians_added: list[datetime] = field(default_factory=list)  # each later guardian: from when
    # The intervals by (signatory, item), for `_active`: the policy asks it for every
    # signatory of every consent cell of every event it judges, and a case holds dozens of
    # intervals. Keyed by the item's members, which hash and compare by identity, not by the
    # item (a dataclass: its hash and equality are Python code). Rebuilt whenever `intervals`
    # has changed length (only `give` appends).
    _index: dict[tuple[str, Agency | None, Category | None], list[ConsentInterval]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _indexed: int = field(default=0, init=False, repr=False, compare=False)

    def signatories(self) -> list[str]:
        return [YOUTH] + [f"guardian:{i}" for i in range(self.guardian_count + len(self.guardians_added))]

    def guardians_at(self, at: datetime) -> list[str]:
        """The guardians registered at `at`: a guardian added later is no signatory before."""
        count = self.guardian_count + sum(1 for since in self.guardians_added if since <= at)
        return list(_guardians(count))  # added in order: the first `count`

    def required_signatories(self, at: datetime) -> list[str]:
        """Youth and every guardian registered at `at` under 18; the youth alone from the
        18th birthday."""
        if at >= self._adult_from:
            return [YOUTH]
        return [YOUTH, *self.guardians_at(at)]

    @cached_property
    def _adult_from(self) -> datetime:
        """Midnight in Norway on the 18th birthday (1 March for one born on 29 February):
        the instant the youth's `Person.age_on(local_day(at))` reaches 18. Asked for every
        field and agency of every event the policy judges, so computed once, not per instant."""
        year = self.birth_date.year + ADULT_AGE
        try:
            birthday = self.birth_date.replace(year=year)
        except ValueError:
            birthday = date(year, 3, 1)
        return datetime.combine(birthday, time.min, tzinfo=OSLO)

    def is_signatory(self, signatory: str) -> bool:
        return signatory in self.signatories()

    def _active(self, signatory: str, item: ScopeItem | None, at: datetime) -> ConsentInterval | None:
        if self._indexed != len(self.intervals):
            index: dict[tuple[str, Agency | None, Category | None], list[ConsentInterval]] = {}
            for interval in self.intervals:
                index.setdefault(_key(interval.signatory, interval.item), []).append(interval)
            self._index, self._indexed = index, len(self.intervals)  # the index first
        for interval in self._index.get(_key(signatory, item), ()):
            if interval.active_at(at):
                return interval
        return None

    def contract_consent_of(self, signatory: str, at: datetime) -> bool:
        return self._active(signatory, None, at) is not None

    def contract_consented(self, at: datetime) -> bool:
        return all(self._active(s, None, at) for s in self.required_signatories(at))

    def missing_signatories(self, at: datetime) -> list[str]:
        return [s for s in self.required_signatories(at) if not self._active(s, None, at)]

    def basis(self, agency: Agency, category: Category, at: datetime) -> str | None:
        """The consent ids that cover sharing (agency, category) at `at`, or None."""
        item = ScopeItem(agency, category)
        found = [self._active(s, item, at) for s in self.required_signatories(at)]
        if not found or any(f is None for f in found):
            return None
        return "consent:" + ",".join(sorted({f.consent_id for f in found if f is not None}))

    def active_scope(self, signatory: str, at: datetime) -> list[ScopeItem]:
        return [
            i.item
            for i in self.intervals
            if i.signatory == signatory and i.item is not None and i.active_at(at)
        ]

    # -- mutations, called only when applying ConsentGiven / ConsentWithdrawn / GuardianAdded --

    def add_guardian(self, at: datetime) -> str:
        """A guardian registered after the offer, a signatory from `at` on; their signatory."""
        self.guardians_added.append(at)
        return f"guardian:{self.guardian_count + len(self.guardians_added) - 1}"

    def give(
        self,
        signatory: str,
        scope: Iterable[ScopeItem],
        consent_id: str,
        booklet_version: str,
        at: datetime,
    ) -> None:
        for item in [None, *scope]:
            if self._active(signatory, item, at) is None:
                self.intervals.append(ConsentInterval(signatory, item, consent_id, booklet_version, at))

    def withdraw(self, signatory: str, scope: Iterable[ScopeItem] | None, at: datetime) -> None:
        """No scope: the contract consent and every sharing consent of that signatory end."""
        items = None if scope is None else set(scope)
        for interval in self.intervals:
            if interval.signatory != signatory or interval.end is not None:
                continue
            if items is None or interval.item in items:
                interval.end = at
