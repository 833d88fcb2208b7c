"""401/403/404/409/412/422 as docs/api.md defines them, always as problem documents."""

from __future__ import annotations

import time
import uuid
from typing import Any

import jwt

from domain.values import Agency
from tests.conftest import Api
from tests.integration.flows import OFFER, PLAN, consent_all, offer, ok


def _is_problem(response, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


def test_requests_without_a_valid_token_get_401(api: Api) -> None:
    _is_problem(api.client.get("/contracts"), 401)
    _is_problem(api.client.get("/contracts", headers={"Authorization": "Bearer nonsense"}), 401)
    expired = api.container.tokens.issue(Agency.POLICE, "p", ttl=-10)
    _is_problem(api.client.get("/contracts", headers={"Authorization": f"Bearer {expired}"}), 401)
    forged = jwt.encode(
        {"sub": "x", "agency": "auditor", "exp": int(time.time()) + 60},
        "wrong-secret-wrong-secret-wrong-secret",
    )
    _is_problem(api.client.get("/contracts", headers={"Authorization": f"Bearer {forged}"}), 401)
    unknown_agency = jwt.encode(
        {"sub": "x", "agency": "journalist", "exp": int(time.time()) + 60},
        "test-secret-that-is-long-enough-for-hs256",
    )
    _is_problem(api.client.get("/contracts", headers={"Authorization": f"Bearer {unknown_agency}"}), 401)


def test_an_agency_outside_the_who_column_gets_403_and_nothing_is_recorded(api: Api) -> None:
    _is_problem(api.post("school", "/contracts", OFFER), 403)
    case_id = offer(api)
    _is_problem(
        api.post(
            "police",
            f"/contracts/{case_id}/consents",
            {"signatory": "youth", "scope": [], "booklet_version": "2026-1"},
        ),
        403,
    )
    assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["version"] == 1
    _is_problem(api.get("county", "/contracts"), 403)


def test_a_case_the_agency_may_not_know_is_404_like_an_unknown_case(api: Api) -> None:
    _is_problem(api.get("police", f"/contracts/{uuid.uuid4()}"), 404)
    case_id = offer(api)
    _is_problem(api.get("school", f"/contracts/{case_id}"), 404)
    _is_problem(
        api.post(
            "gp",
            f"/contracts/{case_id}/tests",
            {"kind": "lab", "purpose": "follow_up", "scheduled_for": "2026-10-01"},
        ),
        404,
    )
    assert all(row["id"] != case_id for row in ok(api.get("school", "/contracts"))["items"])  # type: ignore[union-attr]


def test_an_action_the_lifecycle_does_not_allow_is_409_with_the_allowed_actions(api: Api) -> None:
    case_id = offer(api)
    body = _is_problem(api.post("konfliktrad", f"/contracts/{case_id}/complete"), 409)
    assert body["allowed_actions"] == [
        "give_consent",
        "add_guardian",
        "register_gp",
        "register_school",
        "add_team_member",
        "remove_team_member",
        "change_residence",
        "withdraw_consent",
    ]  # not `lapse`: the answer deadline has not passed (its rule is in the view's blocked_actions)
    assert "complete" in body["detail"] and "offered" in body["detail"]


def test_a_stale_if_match_is_412_and_changes_nothing(api: Api) -> None:
    case_id = offer(api)
    response = api.get("konfliktrad", f"/contracts/{case_id}")
    assert response.headers["etag"] == '"1"'
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/consents",
            {"signatory": "youth", "scope": [], "booklet_version": "2026-1"},
            **{"If-Match": '"1"'},
        )
    )
    stale = api.post(
        "konfliktrad",
        f"/contracts/{case_id}/consents",
        {"signatory": "guardian:0", "scope": [], "booklet_version": "2026-1"},
        **{"If-Match": '"1"'},
    )
    assert _is_problem(stale, 412)["current_version"] == 2
    assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["status"] == "offered"


def test_invalid_input_is_422_with_the_offending_fields(api: Api) -> None:
    bad = {**OFFER, "youth": {**OFFER["youth"], "national_id": "123"}, "trinn": "two"}  # type: ignore[dict-item]
    body = _is_problem(api.post("prosecution", "/contracts", bad), 422)
    locations = {tuple(e["loc"]) for e in body["errors"]}
    assert ("body", "youth", "national_id") in locations and ("body", "trinn") in locations
    _is_problem(
        api.client.post(
            "/contracts",
            content=b"{not json",
            headers={**api.headers("prosecution"), "content-type": "application/json"},
        ),
        422,
    )


def _offer_born(api: Api, birth_date: str, **changes: Any) -> Any:
    return api.post(
        "prosecution",
        "/contracts",
        {**OFFER, "youth": {**OFFER["youth"], "birth_date": birth_date}, **changes},
    )


def test_age_is_checked_at_its_boundaries_on_the_offence_date(api: Api) -> None:
    # The offence was on 2026-09-01, the offer is made on 2026-09-10 (the clock).
    assert _offer_born(api, "2011-09-01").status_code == 201  # 15 on the offence date
    assert _offer_born(api, "2008-09-02").status_code == 201  # 17 at the offence, 18 at the offer
    too_young = _offer_born(api, "2011-09-02")  # 14 years 364 days at the offence, 15 at the offer
    assert _is_problem(too_young, 422)["rule"] == "age-out-of-range"
    adult = _offer_born(api, "2008-09-01")  # 18 on the offence date
    assert _is_problem(adult, 422)["rule"] == "age-out-of-range"
    future = {**OFFER["offence"], "date": "2026-09-11"}  # type: ignore[dict-item]
    assert (
        _is_problem(_offer_born(api, "2010-01-01", offence=future), 422)["rule"] == "offence-date-in-future"
    )


def test_a_retried_command_with_the_same_idempotency_key_records_nothing_new(api: Api) -> None:
    key = {"Idempotency-Key": "offer-123"}
    first = api.post("prosecution", "/contracts", OFFER, **key)
    second = api.post("prosecution", "/contracts", OFFER, **key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json() and first.headers["location"] == second.headers["location"]
    assert len(ok(api.get("prosecution", "/contracts"))["items"]) == 1  # type: ignore[arg-type]
    changed = api.post("prosecution", "/contracts", {**OFFER, "trinn": 3}, **key)
    _is_problem(changed, 422)


def test_plan_without_team_is_422_and_the_case_stays_scheduled(api: Api) -> None:
    case_id = offer(api)
    activate_body = {"signatory": "youth", "scope": [], "booklet_version": "2026-1"}
    ok(api.post("konfliktrad", f"/contracts/{case_id}/consents", activate_body))
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/consents",
            {**activate_body, "signatory": "guardian:0"},
        )
    )
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/startup-meeting",
            {"at": "2026-09-10T10:00:00+02:00"},
        )
    )
    plan = {
        "trinn": 2,
        "start_date": "2026-10-10",
        "end_date": "2027-10-11",
        "test_regime": {"kind": "rapid", "per_month": 4},
        "meeting_frequency_days": 30,
        "team": ["konfliktrad"],
    }
    too_long = api.post("konfliktrad", f"/contracts/{case_id}/startup-meeting/held", {"plan": plan})
    assert _is_problem(too_long, 422)["rule"] == "plan-too-long"
    assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["status"] == "startup_scheduled"


def test_an_if_match_that_is_not_a_version_is_422_and_never_a_500(api: Api) -> None:
    # "²" is a digit to str.isdigit() but not to int(): it once reached int() and was a 500.
    case_id = offer(api)
    for value in ("²".encode("latin-1"), b'"3a"', b"*"):
        response = api.client.post(
            f"/contracts/{case_id}/consents",
            json={"signatory": "youth", "scope": [], "booklet_version": "2026-1"},
            headers={**api.headers("konfliktrad"), "If-Match": value},  # type: ignore[dict-item]
        )
        _is_problem(response, 422)
    assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["version"] == 1


def test_a_body_that_is_not_text_is_422_like_one_that_is_not_json(api: Api) -> None:
    response = api.client.post(
        "/contracts",
        content=b"\xf3\x33\xfe\x50",
        headers={**api.headers("prosecution"), "content-type": "application/json"},
    )
    assert _is_problem(response, 422)["errors"][0]["loc"] == ["body"]


def test_an_offer_without_its_legal_basis_or_the_reaction_it_replaces_is_422(api: Api) -> None:
    for missing in ("legal_basis", "replaces"):
        body = {k: v for k, v in OFFER.items() if k != missing}
        problem = _is_problem(api.post("prosecution", "/contracts", body), 422)
        assert ("body", missing) in {tuple(e["loc"]) for e in problem["errors"]}
    unknown = _is_problem(api.post("prosecution", "/contracts", {**OFFER, "legal_basis": "strpl_70"}), 422)
    assert ("body", "legal_basis") in {tuple(e["loc"]) for e in unknown["errors"]}
    undescribed = _is_problem(
        api.post("prosecution", "/contracts", {**OFFER, "replaces": {"kind": "other"}}), 422
    )
    assert undescribed["rule"] == "replaced-reaction-invalid"
    case_id = offer(api)
    view = ok(api.get("prosecution", f"/contracts/{case_id}"))
    assert view["legal_basis"] == "strpl_71a" and view["replaces"]["amount"] == 3000
    assert "legal_basis" not in ok(api.get("municipal_health", f"/contracts/{case_id}")), (
        "offence: consent only"
    )


def test_a_plan_departing_from_its_trinns_defaults_needs_a_reason_and_records_it(api: Api) -> None:
    case_id = offer(api, trinn=1)
    consent_all(api, case_id)
    ok(api.post("konfliktrad", f"/contracts/{case_id}/startup-meeting", {"at": "2026-09-10T10:00:00+02:00"}))
    plan = {**PLAN, "trinn": 1}  # six months, four tests a month, monthly meetings: not trinn 1's
    held = f"/contracts/{case_id}/startup-meeting/held"
    refused = _is_problem(api.post("konfliktrad", held, {"plan": plan}), 422)
    assert refused["rule"] == "plan-deviation-reason-required"
    assert "duration, tests_per_month, meeting_frequency_days" in refused["detail"]
    reason = "daily use: the team wants the longer contract"
    view = ok(api.post("konfliktrad", held, {"plan": {**plan, "deviation_reason": reason}}))
    assert view["status"] == "active"
    assert view["plan_deviations"] == ["duration", "tests_per_month", "meeting_frequency_days"]
    assert view["plan_deviation_reason"] == reason
    prosecutor = ok(api.get("prosecution", f"/contracts/{case_id}"))
    assert prosecutor["plan_deviations"] and "plan_deviation_reason" not in prosecutor, "the reason is notes"
