"""Erasing a person everywhere the service writes: keys, stored responses, read models."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from infra.bootstrap import Container
from services.case_index import case_ids_of
from services.store import SealedApplication

log = logging.getLogger("ruskontrakt.erasure")


def erase_person(container: Container, national_id: str) -> list[str]:
    """Crypto-shred the person's key; drop every plaintext copy of their cases' data."""
    return erase_subject_ref(container, container.keys.subject_ref(national_id))


def erase_subject_ref(container: Container, subject_ref: str) -> list[str]:
    cases = container.keys.erase_ref(subject_ref)
    container.idempotency.purge_cases(cases)
    for hook in container.erasure_hooks:
        hook(cases)
    container.database.compact(["subject_keys", "idempotency_keys"])
    log.info("erased a person: %d case(s) shredded", len(cases))  # never the national id
    return cases


@dataclass(frozen=True)
class Expired:
    case_id: str
    track: str
    last_event: datetime


def expired_cases(container: Container, now: datetime) -> list[Expired]:
    """Cases whose last event is older than their track's retention period."""
    settings = container.settings
    out = []
    tracks: list[tuple[str, SealedApplication, int]] = [
        ("contract", container.contracts, settings.retention_contract_days),
        ("prevention", container.prevention, settings.retention_prevention_days),
    ]
    for track, app, days in tracks:
        for case_id in case_ids_of(app):
            last = app.recorder.select_events(case_id, desc=True, limit=1)[0]
            record = app.record_or_placeholder(last)
            if record.payload.get("erased"):
                continue
            if record.at < now - timedelta(days=days):
                out.append(Expired(str(case_id), track, record.at))
    return out


def subjects_due(container: Container, now: datetime) -> dict[str, list[str]]:
    """Persons (by key-store reference) all of whose cases are past retention."""
    expired = {e.case_id for e in expired_cases(container, now)}
    due: dict[str, list[str]] = {}
    for case_id in expired:
        ref = container.keys.store.subject_of_case(case_id)
        if ref is not None:
            due.setdefault(ref, []).append(case_id)
    return {ref: cases for ref, cases in due.items() if set(container.keys.store.cases_of(ref)) <= expired}
