"""Erasing a person everywhere the service writes, and the retention periods that do it.

Erasure is crypto-shredding: the person's data key is deleted, so every sealed copy of
their data (events, read models, stored responses, topics) becomes unreadable at once;
the plaintext this process holds in memory is dropped by the `on_erased` hooks.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.case_index import case_ids_of
from services.keys import SubjectKeys
from services.sealed_application import SealedApplication

log = logging.getLogger("ruskontrakt.erasure")


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
        on_erased: Sequence[Callable[[list[str]], None]],
        compact: Callable[[], None],
    ) -> None:
        """`on_erased(case_ids)`: each holder of plaintext copies drops them;
        `compact()`: the stores rewrite their files so no deleted key survives in them."""
        self.keys = keys
        self.retention_days = list(retention_days)
        self.on_erased = list(on_erased)
        self.compact = compact

    def erase_person(self, national_id: str) -> list[str]:
        """Crypto-shred the person's key; drop every plaintext copy of their cases' data."""
        return self.erase_subject_ref(self.keys.subject_ref(national_id))

    def erase_subject_ref(self, subject_ref: str) -> list[str]:
        cases = self.keys.erase_ref(subject_ref)
        for hook in self.on_erased:
            hook(cases)
        self.compact()
        log.info("erased a person: %d case(s) shredded", len(cases))  # never the national id
        return cases

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
        return out

    def subjects_due(self, now: datetime) -> dict[str, list[str]]:
        """Persons (by key-store reference) all of whose cases are past retention."""
        expired = {e.case_id for e in self.expired_cases(now)}
        due: dict[str, list[str]] = {}
        for case_id in expired:
            ref = self.keys.store.subject_of_case(case_id)
            if ref is not None:
                due.setdefault(ref, []).append(case_id)
        return {ref: cases for ref, cases in due.items() if set(self.keys.store.cases_of(ref)) <= expired}
