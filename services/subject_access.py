"""A person's right of access: everything stored about them, without other people's data."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from services.audit import record_dict
from services.keys import SubjectKeys
from services.store import SealedApplication

OTHER_PERSON = {"name": "[annen person]", "national_id": "[skjult]", "birth_date": None}


def _without_others(payload: dict[str, Any], national_id: str) -> dict[str, Any]:
    out = dict(payload)
    if "guardians" in out:
        out["guardians"] = [
            g if g.get("national_id") == national_id else OTHER_PERSON for g in out["guardians"]
        ]
    return out


def _own_cases(app: SealedApplication, keys: SubjectKeys, national_id: str) -> list[dict[str, Any]]:
    cases = []
    for case_id in keys.cases_of(national_id):
        try:
            records = app.records(UUID(case_id))
        except Exception as error:
            if type(error).__name__ == "CaseNotFoundError":
                continue  # the id belongs to the other track
            raise
        events = [
            {**record_dict(r), "payload": _without_others(dict(r.payload), national_id)} for r in records
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
    cases = []
    for case_id, role in keys.cases_mentioning(national_id):
        records = app.records(UUID(case_id))
        offered = records[0].payload
        own = [g for g in offered.get("guardians", []) if g.get("national_id") == national_id]
        cases.append(
            {
                "id": case_id,
                "role": role,
                "status": records[-1].status,
                "registered_as": own,
                "erased": bool(offered.get("erased")),
            }
        )
    return cases


def subject_export(
    national_id: str,
    contracts: SealedApplication,
    prevention: SealedApplication,
    keys: SubjectKeys,
    access_log: list[dict[str, Any]],
    now: datetime,
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
        "access_log": access_log,
    }
