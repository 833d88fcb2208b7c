"""Request bodies and small walks through the API, shared by the API tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from stdnum.no import fodselsnummer

from tests.conftest import Api
from tests.units import GP_HPR, SCHOOL


def intake(serial: int = 7, **fields: Any) -> dict[str, Any]:
    """A `POST /intake` body: a 16-year-old of Trondheim (born 5 May 2010) fined for an
    offence of 24 July 2026; `fields` replace or add to it."""
    return {
        "national_id": fnr(date(2010, 5, 5), serial),
        "municipality": "5001",
        "offence_date": "2026-07-24",
        "age_band": "16",
        "decision": "fine",
        **fields,
    }


def fnr(birth: date, serial: int = 0, d_number: bool = False) -> str:
    """The `serial`-th valid fødselsnummer (or D-number: day + 40) of someone born on
    `birth`: the individual number in the birth century's range (000-499 for 1900-1999,
    500-999 for 2000-2039), skipping those whose check digits would be 10."""
    if not 1900 <= birth.year <= 2039:
        raise ValueError(f"no individual numbers for {birth.year} here")
    day = birth.day + 40 if d_number else birth.day
    first = 500 if birth.year >= 2000 else 0
    found = -1
    for individual in range(first, first + 500):
        digits = f"{day:02d}{birth:%m%y}{individual:03d}"
        check1 = fodselsnummer.calc_check_digit1(digits)
        check2 = fodselsnummer.calc_check_digit2(digits + check1)
        if len(check1 + check2) == 2:
            found += 1
            if found == serial:
                return digits + check1 + check2
    raise ValueError(f"fewer than {serial + 1} valid numbers for {birth}")


OFFER = {
    "youth": {"name": "Ola Nordmann", "national_id": fnr(date(2009, 12, 1)), "birth_date": "2009-12-01"},
    "guardians": [{"name": "Kari Nordmann", "national_id": fnr(date(1975, 3, 2))}],
    "offence": {
        "code": "NARK-BRUK",
        "substance": "cannabis",
        "date": "2026-09-01",
        "summary": "Caught with 2 g cannabis",
    },
    "trinn": 2,
    "residence_municipality": "5001",
    "registered_municipality": "5001",
    "offer_deadline": "2026-10-01",
    "legal_basis": "strpl_71a",
    "replaces": {"kind": "fine", "amount": 3000, "description": "forelegg for use of cannabis"},
    "gp": GP_HPR,
    "school": SCHOOL,
}

PLAN = {
    "trinn": 2,
    "start_date": "2026-10-10",
    "end_date": "2027-04-10",
    "test_regime": {"kind": "rapid", "per_month": 4},
    "meeting_frequency_days": 30,
    "team": ["konfliktrad", "municipal_health", "police"],
    "conditions": ["no drug use", "attend conversations"],
}

# Trinn 1 by its defaults (domain/rules.py): 3 months, 2 tests a month, a meeting every 14 days.
PLAN_TRINN_1 = {
    **PLAN,
    "trinn": 1,
    "end_date": "2027-01-10",
    "test_regime": {"kind": "rapid", "per_month": 2},
    "meeting_frequency_days": 14,
}

FACTORS = {
    "seriousness": "low",
    "fault": "admits use",
    "condition_kind": "drug-free",
    "motivation": "good",
    "completed_share": 0.3,
    "repetition": 1,
}


def ok(response: Any, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def offer(api: Api, **changes: Any) -> str:
    return str(ok(api.post("prosecution", "/contracts", {**OFFER, **changes}), 201)["id"])


SIGNATORIES = ("youth", "guardian:0")


def consent_all(
    api: Api,
    case_id: str,
    scope: list[dict[str, str]] | None = None,
    signatories: tuple[str, ...] = SIGNATORIES,
) -> dict[str, Any]:
    for signatory in signatories:
        view = ok(
            api.post(
                "konfliktrad",
                f"/contracts/{case_id}/consents",
                {"signatory": signatory, "scope": scope or [], "booklet_version": "2026-1"},
            )
        )
    return view


def activate(
    api: Api,
    case_id: str,
    scope: list[dict[str, str]] | None = None,
    signatories: tuple[str, ...] = SIGNATORIES,
    plan: dict[str, Any] = PLAN,
) -> dict[str, Any]:
    consent_all(api, case_id, scope, signatories)
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/startup-meeting",
            {
                "at": "2026-09-10T10:00:00+02:00",  # the test clock's start: it may be held now
                "participants": ["konfliktrad", "municipal_health", "police"],
            },
        )
    )
    return ok(api.post("konfliktrad", f"/contracts/{case_id}/startup-meeting/held", {"plan": plan}))


def rapid_test(api: Api, case_id: str, positives: list[str]) -> str:
    test_id = str(
        ok(
            api.post(
                "municipal_health",
                f"/contracts/{case_id}/tests",
                {
                    "kind": "rapid",
                    "purpose": "follow_up",
                    "scheduled_for": "2026-10-20",
                    "random": True,
                },
            ),
            201,
        )["test_id"]
    )
    ok(
        api.post(
            "municipal_health",
            f"/contracts/{case_id}/tests/{test_id}/result",
            {"positives": positives, "collected_at": "2026-09-10T09:00:00+02:00"},  # before now
        )
    )
    return test_id


def lab_confirmation(api: Api, case_id: str, rapid_test_id: str, positives: list[str]) -> str:
    """The GP requisitions a lab test of a rapid test's sample and records its result:
    positive confirms the rapid positive, negative refutes it."""
    test_id = str(
        ok(
            api.post(
                "gp",
                f"/contracts/{case_id}/tests",
                {
                    "kind": "lab",
                    "purpose": "follow_up",
                    "scheduled_for": "2026-10-21",
                    "confirms_test_id": rapid_test_id,
                },
            ),
            201,
        )["test_id"]
    )
    ok(
        api.post(
            "gp",
            f"/contracts/{case_id}/tests/{test_id}/result",
            {
                "positives": positives,
                "collected_at": "2026-09-10T09:00:00+02:00",
                "requisition_code": "LAB-77",
                "interpretation": "confirmed" if positives else "not confirmed",
            },
        )
    )
    return test_id
