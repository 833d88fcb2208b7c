"""Erasing a person everywhere the service writes, and the retention periods that do it.

Erasure is crypto-shredding: the person's data key is deleted, so every sealed copy of
their data (events, read models, stored responses, topics) becomes unreadable at once.
Plaintext held in memory goes by the key store's erasure notices (`SubjectKeys.on_erased`):
in the erasing process at once, in every other process sharing the key store within
`RUSKONTRAKT_ERASURE_POLL_SECONDS` (`ErasureWatch`; on PostgreSQL a NOTIFY wakes it).

A guardian is named in the child's case, sealed under the child's key: erasing the
guardian marks their mentions erased, and every view that is rendered again shows them as
a placeholder (`SubjectKeys.scrub`); the cases naming them get their stored responses
purged and their read models rendered again (`on_mentions_erased`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from services.case_index import case_ids_of
from services.keys import SubjectKeys
from services.sealed_application import SealedApplication

log = logging.getLogger("ruskontrakt.erasure")
CaseHook = Callable[[list[str]], None]


@dataclass(frozen=True)
class Expired:
    case_id: str
    track: str
    last_event: datetime


class Erasure:
    def __init__(
        self,
        keys: SubjectKeys,
        retention_days: Sequence[tuple[SealedApplication, int]],
        on_erased: Sequence[CaseHook],
        compact: Callable[[], None],
        on_mentions_erased: Sequence[CaseHook] = (),
        also_expired: Sequence[Callable[[datetime], list[Expired]]] = (),
    ) -> None:
        """`on_erased(case_ids)`: the stores drop what they hold of the person's cases;
        `on_mentions_erased(case_ids)`: of the cases that name the person (as guardian),
        the stores drop or render again what shows them; `compact()`: the stores rewrite
        their files so no deleted key survives in them. (Memory: `SubjectKeys.on_erased`.)"""
        self.keys = keys
        self.retention_days = list(retention_days)
        self.on_erased = list(on_erased)
        self.on_mentions_erased = list(on_mentions_erased)
        self.compact = compact
        # Records kept beside the applications' cases that retention covers too (the intake
        # register, services/statistics.py): their expired ones.
        self.also_expired = list(also_expired)

    def erase_person(self, national_id: str) -> list[str]:
        """Crypto-shred the person's key; drop every plaintext copy of their cases' data."""
        return self.erase_subject_ref(self.keys.subject_ref(national_id))

    def erase_subject_ref(self, subject_ref: str) -> list[str]:
        """The person's own cases are shredded, the cases naming them show them no more;
        the ids of both, own cases first."""
        named = sorted({case_id for case_id, _ in self.keys.store.cases_mentioning(subject_ref)})
        cases = self.keys.erase_ref(subject_ref)
        for hook in self.on_erased:
            hook(cases)
        if named:
            for hook in self.on_mentions_erased:
                hook(named)
        self.compact()
        # never the national id
        log.info("erased a person: %d case(s) shredded, named in %d other(s)", len(cases), len(named))
        return cases + [c for c in named if c not in cases]

    def expired_cases(self, now: datetime) -> list[Expired]:
        """Cases whose last event is older than their track's retention period."""
        out = []
        for app, days in self.retention_days:
            for case_id in case_ids_of(app):
                last = app.recorder.select_events(case_id, desc=True, limit=1)[0]
                record = app.record_or_placeholder(last)
                if record.payload.get("erased"):
                    continue
                if record.at < now - timedelta(days=days):
                    out.append(Expired(str(case_id), app.track.value, record.at))
        for expired in self.also_expired:
            out += expired(now)
        return out

    def subjects_due(self, now: datetime) -> dict[str, list[str]]:
        """Persons (by key-store reference) all of whose cases are past retention."""
        expired = {e.case_id for e in self.expired_cases(now)}
        due: dict[str, list[str]] = {}
        for case_id in expired:
            ref = self.keys.store.subject_of_case(case_id)
            if ref is not None:
                due.setdefault(ref, []).append(case_id)
        # Cases erased before (a person erased, then seen again) count as expired.
        return {
            ref: cases
            for ref, cases in due.items()
            if {c for c in self.keys.store.cases_of(ref) if self.keys.key_for_case(c) is not None} <= expired
        }


class ErasureSignal(Protocol):
    """Wakes the watch when another process erased (PostgreSQL: LISTEN); else it polls."""

    def wait(self, timeout: float) -> bool: ...

    def close(self) -> None: ...


class ErasureWatch:
    """Each process's ear for erasures made elsewhere: every `every` seconds at most (at
    once when `signal` wakes it) it applies the key store's new erasure notices, so the
    keys and plaintext copies of erased cases are gone from this process too."""

    def __init__(self, keys: SubjectKeys, every: float, signal: ErasureSignal | None = None) -> None:
        self.keys = keys
        self.every = every
        self.signal = signal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="erasure-watch", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if self.signal is None:
                    self._stop.wait(self.every)
                else:
                    self.signal.wait(self.every)
                if self._stop.is_set():
                    break
                try:
                    self.keys.apply_erasures()
                except Exception:  # the key store away for a moment: try again next round
                    log.warning("could not read the erasure notices", exc_info=True)
        finally:
            if self.signal is not None:
                self.signal.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
