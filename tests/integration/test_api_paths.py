"""Whole cases through the HTTP API, each step as the agency that does it (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.conftest import Api
from tests.integration.flows import (
    FACTORS,
    PLAN_TRINN_1,
    activate,
    consent_all,
    fnr,
    lab_confirmation,
    offer,
    ok,
    rapid_test,
)


def _breach_on(api: Api, case_id: str, test_id: str) -> str:
    breach = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/breaches",
            {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"},
        ),
        201,
    )
    assert breach["status"] == "breach_review" and breach["breach_id"]
    return str(breach["breach_id"])


def _decide(api: Api, case_id: str, breach_id: str, response: str, reason: str = "proportionate") -> Any:
    return api.post(
        "konfliktrad",
        f"/contracts/{case_id}/breaches/{breach_id}/decision",
        {"response": response, "reason": reason, "factors": FACTORS},
    )


def test_a_trinn_1_contract_walks_from_offer_to_completion_through_a_breach_talk(api: Api) -> None:
    case_id = offer(api, trinn=1)
    view = ok(api.get("konfliktrad", f"/contracts/{case_id}"))
    assert view["status"] == "offered" and view["version"] == 1
    assert "give_consent" in view["allowed_actions"]

    after_youth = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/consents",
            {"signatory": "youth", "scope": [], "booklet_version": "2026-1"},
        )
    )
    assert after_youth["status"] == "offered", "one guardian has not consented yet"

    active = activate(api, case_id, signatories=("guardian:0",), plan=PLAN_TRINN_1)
    assert active["status"] == "active" and active["trinn"] == 1

    ok(
        api.post(
            "municipal_health",
            f"/contracts/{case_id}/meetings",
            {
                "kind": "conversation",
                "held_at": "2026-09-10T10:00:00+02:00",
                "attended": True,
                "notes": "Talked about cannabis use",
            },
        )
    )
    breach_id = _breach_on(api, case_id, rapid_test(api, case_id, ["THC"]))

    tightened = _decide(api, case_id, breach_id, "tightened_conditions")
    assert tightened.status_code == 409
    assert tightened.json()["rule"] == "stage-one-single-breach"

    decided = ok(_decide(api, case_id, breach_id, "conversation", "first positive: a breach talk"))
    assert decided["status"] == "active"
    assert decided["breaches"][0]["response"] == "conversation"

    refused = api.post("konfliktrad", f"/contracts/{case_id}/complete")
    assert refused.status_code == 409
    assert refused.json()["rule"] == "end-date-not-reached"

    api.clock.advance(days=125)  # past the plan's end date 2027-01-10
    completed = ok(api.post("konfliktrad", f"/contracts/{case_id}/complete"))
    assert completed["status"] == "completed"
    assert completed["outcome"]["completion_date"] == api.clock().date().isoformat()
    assert ok(api.get("prosecution", f"/contracts/{case_id}"))["status"] == "completed"


def test_a_lab_confirmed_rapid_positive_terminates_and_returns_the_case_to_the_prosecutor(
    api: Api,
) -> None:
    case_id = offer(api)
    activate(api, case_id, scope=[{"agency": "gp", "category": "identity"}])
    rapid_id = rapid_test(api, case_id, ["THC"])
    breach_id = _breach_on(api, case_id, rapid_id)

    unconfirmed = _decide(api, case_id, breach_id, "terminate")
    assert unconfirmed.status_code == 409
    assert unconfirmed.json()["rule"] == "rapid-test-not-confirmed"

    lab_id = lab_confirmation(api, case_id, rapid_id, ["THC"])
    gp = ok(api.get("gp", f"/contracts/{case_id}"))
    lab = next(t for t in gp["tests"] if t["test_id"] == lab_id)
    assert lab["confirms_test_id"] == rapid_id and lab["positives"] == ["THC"]

    terminated = ok(_decide(api, case_id, breach_id, "terminate", "confirmed use"))
    assert terminated["status"] == "terminated"
    assert terminated["outcome"]["reason"] == "repeated_breaches"
    assert terminated["allowed_actions"] == ["return_to_prosecution", "submit_evaluation"]

    returned = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/return-to-prosecution",
            {"note": "for a new decision"},
        )
    )
    assert returned["status"] == "returned"
    prosecutor = ok(api.get("prosecution", f"/contracts/{case_id}"))
    assert prosecutor["outcome"]["note"] == "for a new decision"
    assert all("positives" not in t for t in prosecutor.get("tests", [])), "follow-up lab is not theirs"


def test_a_rapid_positive_the_lab_refutes_is_dismissed(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id, scope=[{"agency": "gp", "category": "identity"}])  # the GP knows the case
    rapid_id = rapid_test(api, case_id, ["THC"])
    breach_id = _breach_on(api, case_id, rapid_id)
    not_refuted = _decide(api, case_id, breach_id, "dismissed")
    assert not_refuted.status_code == 409 and not_refuted.json()["rule"] == "breach-not-refuted"

    lab_confirmation(api, case_id, rapid_id, [])
    dismissed = ok(_decide(api, case_id, breach_id, "dismissed", "the lab did not confirm the rapid test"))
    assert dismissed["status"] == "active"
    assert dismissed["breaches"][0]["response"] == "dismissed"


def test_termination_on_an_unconfirmed_rapid_test_is_refused_with_the_rule(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    breach_id = _breach_on(api, case_id, rapid_test(api, case_id, ["THC"]))
    refused = _decide(api, case_id, breach_id, "terminate", "x")
    assert refused.status_code == 409
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["rule"] == "rapid-test-not-confirmed"
    assert "rapid" in problem["title"]
    assert "decide_breach" in problem["allowed_actions"]


def test_a_guardian_added_after_the_offer_must_consent_too(api: Api) -> None:
    case_id = offer(api)
    guardian = {"name": "Nils Nordmann", "national_id": fnr(date(1980, 6, 5))}
    added = ok(api.post("konfliktrad", f"/contracts/{case_id}/guardians", guardian))
    assert [g["name"] for g in added["guardians"]] == ["Kari Nordmann", "Nils Nordmann"]
    assert api.post("konfliktrad", f"/contracts/{case_id}/guardians", guardian).status_code == 422
    consented = consent_all(api, case_id)  # the youth and guardian:0
    assert consented["status"] == "offered"
    unknown = api.post(
        "konfliktrad",
        f"/contracts/{case_id}/consents",
        {"signatory": "guardian:1", "scope": [], "booklet_version": "2019-draft"},
    )
    assert unknown.status_code == 422 and unknown.json()["rule"] == "booklet-unknown"
    last = consent_all(api, case_id, signatories=("guardian:1",))
    assert last["status"] == "consented"
    assert api.post("police", f"/contracts/{case_id}/guardians", guardian).status_code == 403
