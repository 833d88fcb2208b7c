"""Whole cases through the HTTP API, each step as the agency that does it (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.flows import FACTORS, activate, offer, ok, rapid_test


def test_a_contract_walks_from_offer_to_completion_through_a_warning(api: Api) -> None:
    case_id = offer(api)
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

    active = activate(api, case_id, signatories=("guardian:0",))
    assert active["status"] == "active" and active["trinn"] == 2

    ok(
        api.post(
            "municipal_health",
            f"/contracts/{case_id}/meetings",
            {
                "kind": "conversation",
                "held_at": "2026-10-25T14:00:00+02:00",
                "attended": True,
                "notes": "Talked about cannabis use",
            },
        )
    )
    test_id = rapid_test(api, case_id, ["THC"])
    breach = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/breaches",
            {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"},
        ),
        201,
    )
    assert breach["status"] == "breach_review" and breach["breach_id"]

    decided = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/breaches/{breach['breach_id']}/decision",
            {"response": "warning", "reason": "first positive", "factors": FACTORS},
        )
    )
    assert decided["status"] == "active"

    refused = api.post("konfliktrad", f"/contracts/{case_id}/complete")
    assert refused.status_code == 409
    assert refused.json()["rule"] == "end-date-not-reached"

    api.clock.advance(days=230)  # past the plan's end date 2027-04-10
    completed = ok(api.post("konfliktrad", f"/contracts/{case_id}/complete"))
    assert completed["status"] == "completed"
    assert completed["outcome"]["completion_date"] == api.clock().date().isoformat()
    assert ok(api.get("prosecution", f"/contracts/{case_id}"))["status"] == "completed"


def test_a_confirmed_lab_positive_terminates_and_returns_the_case_to_the_prosecutor(
    api: Api,
) -> None:
    case_id = offer(api)
    activate(api, case_id, scope=[{"agency": "gp", "category": "identity"}])
    lab = ok(
        api.post(
            "gp",
            f"/contracts/{case_id}/tests",
            {"kind": "lab", "purpose": "follow_up", "scheduled_for": "2026-10-20"},
        ),
        201,
    )
    ok(
        api.post(
            "gp",
            f"/contracts/{case_id}/tests/{lab['test_id']}/result",
            {
                "positives": ["THC"],
                "collected_at": "2026-10-20T09:00:00+02:00",
                "requisition_code": "LAB-77",
                "interpretation": "confirmed cannabis use",
            },
        )
    )
    breach = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/breaches",
            {"kind": "positive_test", "test_id": lab["test_id"], "evidence": "lab"},
        ),
        201,
    )
    terminated = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/breaches/{breach['breach_id']}/decision",
            {"response": "terminate", "reason": "confirmed use", "factors": FACTORS},
        )
    )
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


def test_termination_on_an_unconfirmed_rapid_test_is_refused_with_the_rule(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    test_id = rapid_test(api, case_id, ["THC"])
    breach = ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/breaches",
            {"kind": "positive_test", "test_id": test_id, "evidence": "rapid"},
        ),
        201,
    )
    refused = api.post(
        "konfliktrad",
        f"/contracts/{case_id}/breaches/{breach['breach_id']}/decision",
        {"response": "terminate", "reason": "x", "factors": FACTORS},
    )
    assert refused.status_code == 409
    problem = refused.json()
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert problem["rule"] == "rapid-test-not-confirmed"
    assert "rapid" in problem["title"]
    assert "decide_breach" in problem["allowed_actions"]
