"""A person's right of access and erasure: everything stored about them, without other
people's data; and the crypto-shredding of it (`services/erasure.py`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from domain.need_to_know import Viewer
from domain.permissions import SUBJECT_QUERIES
from domain.policy import Track
from domain.values import Agency
from projections.access import redacted_events
from services.access import AccessRecorder, by_role
from services.audit import record_dict
from services.context import Context
from services.erasure import Erasure, Expired
from services.errors import CaseNotFoundError, SubjectNotFoundError
from services.keys import ERASED_PERSON, SubjectKeys
from services.sealed_application import SealedApplication, require

MASKED_NAME = "[annen person]"
OTHER_PERSON = {"name": MASKED_NAME, "national_id": "[skjult]", "birth_date": None}


def _without_others(payload: dict[str, Any], national_id: str, others: Masks = ()) -> dict[str, Any]:
    out = dict(payload)
    if "guardians" in out:
        out["guardians"] = [
            g if g.get("national_id") == national_id else OTHER_PERSON for g in out["guardians"]
        ]
    guardian = out.get("guardian")  # GuardianAdded: one guardian registered after the offer
    if isinstance(guardian, dict) and guardian.get("national_id") != national_id:
        out["guardian"] = OTHER_PERSON
    masked: dict[str, Any] = _masked(out, others) if others else out
    return masked


# Free text (notes, evidence, reasons, summaries) may name the persons the export masks:
# every known name of another person of the case (its guardians, with the offer or added
# later) is replaced in every text of the export by OTHER_PERSON's name. The full name is
# matched in any case; each given or family name on its own only as written (capitalised,
# as a name is), and never a name the person themselves carries ("Nordmann" stays in
# "Ola Nordmann"'s export when his mother is "Kari Nordmann"; "Kari" does not).
Masks = tuple[re.Pattern[str], ...]


def _masks(records: list[Any], national_id: str) -> Masks:
    first = records[0].payload if records else {}
    own = first.get("youth") or first.get("person") or {}
    own_parts = set(str(own.get("name", "")).split()) if own.get("national_id") == national_id else set()
    people = [*first.get("guardians", [])]
    people += [r.payload["guardian"] for r in records if isinstance(r.payload.get("guardian"), dict)]
    full: set[str] = set()
    parts: set[str] = set()
    for person in people:
        name = person.get("name") if isinstance(person, dict) else None
        if not isinstance(name, str) or person.get("national_id") == national_id or not name.strip():
            continue
        full.add(name.strip())
        parts |= {p for p in name.split() if len(p) >= 2 and p not in own_parts}
    longest_first = sorted(full, key=len, reverse=True)
    patterns = [re.compile(rf"(?<!\w){re.escape(n)}(?!\w)", re.IGNORECASE) for n in longest_first]
    patterns += [re.compile(rf"(?<!\w){re.escape(p)}(?!\w)") for p in sorted(parts, key=len, reverse=True)]
    return tuple(patterns)


def _masked(value: Any, masks: Masks) -> Any:
    if isinstance(value, str):
        for pattern in masks:
            value = pattern.sub(MASKED_NAME, value)
        return value
    if isinstance(value, dict):
        return {k: _masked(v, masks) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, masks) for v in value]
    return value


def _own_cases(app: SealedApplication, keys: SubjectKeys, national_id: str) -> list[dict[str, Any]]:
    cases = []
    for case_id in keys.cases_of(national_id):
        try:
            records = app.records(UUID(case_id))
        except CaseNotFoundError:
            continue  # the id belongs to the other track
        masks = _masks(records, national_id)
        events = [
            {**record_dict(r), "payload": _without_others(dict(r.payload), national_id, masks)}
            for r in records
        ]
        erased = any(r.payload.get("erased") for r in records)
        cases.append(
            {
                "id": case_id,
                "role": "subject",
                "status": records[-1].status,
                "erased": erased,
                "events": events,
            }
        )
    return cases


def _as_guardian(app: SealedApplication, keys: SubjectKeys, national_id: str) -> list[dict[str, Any]]:
    """The cases that name the person (as guardian), with only their own registration; none
    of it once they were erased (or the child was: the registration is shredded with it)."""
    ref = keys.subject_ref(national_id)
    cases = []
    for case_id, role in keys.cases_mentioning(national_id):
        records = app.records(UUID(case_id))
        offered = records[0].payload
        erased = bool(offered.get("erased")) or ref in keys.store.erased_mentions(case_id)
        named = [*offered.get("guardians", [])]  # with the offer, or registered later:
        named += [r.payload["guardian"] for r in records if isinstance(r.payload.get("guardian"), dict)]
        own = [g for g in named if g.get("national_id") == national_id]
        cases.append(
            {
                "id": case_id,
                "role": role,
                "status": records[-1].status,
                "registered_as": [ERASED_PERSON] * len(own) if erased else own,
                "erased": erased,
            }
        )
    return cases


IntakeExport = Callable[[str], list[dict[str, Any]]]


def _intake_records(
    intake: IntakeExport, contracts: SealedApplication, keys: SubjectKeys, national_id: str
) -> list[dict[str, Any]]:
    """The youth's own intake records (services/statistics.py `IntakeRegister.export`): what
    the prosecutor decided and why. The reason is free text and may name another person of
    the youth's contracts: it is masked as their events are. An erased record shows that it
    existed and was erased, nothing more."""
    masks: list[re.Pattern[str]] = []
    for case_id in keys.cases_of(national_id):
        try:
            masks += _masks(contracts.records(UUID(case_id)), national_id)
        except CaseNotFoundError:
            continue  # an intake record's id, or a case of the other track
    out = []
    for found in intake(national_id):
        record = found.get("record")
        out.append({**found, "record": _masked(record, tuple(masks)) if record is not None else None})
    return out


def subject_export(
    national_id: str,
    contracts: SealedApplication,
    prevention: SealedApplication,
    keys: SubjectKeys,
    access_log: list[dict[str, Any]],
    now: datetime,
    intake: IntakeExport | None = None,
) -> dict[str, Any]:
    own_contracts = _own_cases(contracts, keys, national_id)
    own_prevention = _own_cases(prevention, keys, national_id)
    name = next(
        (
            e["payload"]["youth"]["name"]
            for c in own_contracts
            for e in c["events"]
            if "youth" in e["payload"]
        ),
        None,
    )
    name = name or next(
        (
            e["payload"]["person"]["name"]
            for c in own_prevention
            for e in c["events"]
            if "person" in e["payload"]
        ),
        None,
    )
    return {
        "subject": {"national_id": national_id, "name": name},
        "generated_at": now.isoformat(),
        "contracts": own_contracts,
        "contracts_as_guardian": _as_guardian(contracts, keys, national_id),
        "prevention_cases": own_prevention,
        "intake_records": _intake_records(intake, contracts, keys, national_id) if intake else [],
        "access_log": access_log,
    }


def _visible_cases(
    app: SealedApplication, keys: SubjectKeys, national_id: str, viewer: Viewer
) -> list[dict[str, Any]]:
    """The person's cases (as youth or guardian) that `viewer` is related to, each with
    only what it saw of them, through the same redaction as its case views."""
    cases = []
    ids = dict.fromkeys([*keys.cases_of(national_id), *(c for c, _ in keys.cases_mentioning(national_id))])
    for case_id in ids:
        try:
            records = app.records(UUID(case_id))
        except CaseNotFoundError:
            continue  # the id belongs to the other track
        views = list(redacted_events(records, viewer))
        if not views:
            continue
        masks = _masks(records, national_id)
        cases.append(
            {
                "id": case_id,
                "status": next((v.status for v in reversed(views) if v.status), None),
                "version": views[-1].version,
                "events": [  # shaped like the auditor's export: the same renderer reads both
                    {
                        "version": v.version,
                        "type": v.type,
                        "at": v.at.isoformat(),
                        "actor_agency": v.actor_agency.value,
                        "status": v.status,
                        "payload": _without_others(dict(v.fields), national_id, masks),
                        "basis": v.basis,
                    }
                    for v in views
                ],
            }
        )
    return cases


class SubjectAccess:
    """The use cases about a person rather than a case: export, erasure, retention."""

    def __init__(
        self,
        contracts: SealedApplication,
        prevention: SealedApplication,
        keys: SubjectKeys,
        access: AccessRecorder,
        erasure: Erasure,
        intake: IntakeExport | None = None,
    ) -> None:
        self.contracts = contracts
        self.intake = intake  # the intake register's records of a person (the auditor's export)
        self.prevention = prevention
        self.keys = keys
        self.access = access
        self.erasure = erasure

    def export(self, national_id: str, ctx: Context) -> dict[str, Any]:
        """Everything stored about the person (subject-access request); the read is logged.

        The auditor gets everything of both tracks and the person's intake records. Anyone
        else only the contracts their unit is related to, as their unit saw them (docs/domain.md
        §9), and 404 when there is none: the same answer as for a person with no case at all."""
        require(ctx, "subject_export", SUBJECT_QUERIES)
        if ctx.agency is not Agency.AUDITOR:
            return self._export_for_unit(national_id, ctx)
        ref = self.keys.subject_ref(national_id)
        log = self.access.query(subject_ref=ref, named_in=dict(self.keys.cases_mentioning(national_id)))
        export = subject_export(
            national_id, self.contracts, self.prevention, self.keys, log, ctx.at, self.intake
        )
        self.access.record([self.access.entry(ctx, "subject_export", None, ["all"], by_role(ctx), ref)])
        return export

    def _export_for_unit(self, national_id: str, ctx: Context) -> dict[str, Any]:
        viewer = ctx.viewer(Track.CONTRACT)
        assert viewer is not None
        cases = _visible_cases(self.contracts, self.keys, national_id, viewer)
        if not cases:
            raise SubjectNotFoundError("no case of this person is known to your unit")
        export = {
            "subject": {"national_id": national_id},
            "generated_at": ctx.at.isoformat(),
            "redacted_for": viewer.key,
            "contracts": cases,
        }
        categories = sorted({c for case in cases for e in case["events"] for c in e["basis"]})
        basis = {c: g for case in cases for e in case["events"] for c, g in e["basis"].items()}
        ref = self.keys.subject_ref(national_id)
        self.access.record([self.access.entry(ctx, "subject_export", None, categories, basis, ref)])
        return export

    def erase(self, national_id: str, ctx: Context) -> list[str]:
        """Crypto-shred the person's personal data; the history stays verifiable."""
        require(ctx, "erase", SUBJECT_QUERIES)
        ref = self.keys.subject_ref(national_id)
        cases = self.erasure.erase_subject_ref(ref)
        self.access.record([self.access.entry(ctx, "erase", None, [], by_role(ctx), ref)])
        return cases

    def expired_cases(self, ctx: Context) -> list[Expired]:
        """Cases whose last event is older than their track's retention period."""
        require(ctx, "retention", SUBJECT_QUERIES)
        return self.erasure.expired_cases(ctx.at)

    def retention_due(self, ctx: Context) -> dict[str, list[str]]:
        """Persons (by reference) all of whose cases have passed their track's retention period."""
        require(ctx, "retention", SUBJECT_QUERIES)
        return self.erasure.subjects_due(ctx.at)

    def erase_expired(self, subject_ref: str, ctx: Context) -> list[str]:
        """Erase one person `retention_due` named (by reference: the national id is not kept)."""
        require(ctx, "retention", SUBJECT_QUERIES)
        cases = self.erasure.erase_subject_ref(subject_ref)
        self.access.record([self.access.entry(ctx, "erase:retention", None, [], by_role(ctx), subject_ref)])
        return cases
