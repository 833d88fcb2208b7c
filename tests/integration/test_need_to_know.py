"""Need to know (docs/domain.md §9, quality.md reliability 10): a unit sees only the cases
it is related to, judged at each event's time, and an unrelated unit learns nothing —
not even that a case exists. Two municipalities, two GPs, two schools, two police
districts and both police roles; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.values import Agency
from tests.conftest import Api
from tests.integration.flows import OFFER, activate, fnr, offer, ok, rapid_test
from tests.units import GP_HPR, SCHOOL

OSLO_YOUTH = {"name": "Siri Oslo", "national_id": fnr(date(2010, 5, 5)), "birth_date": "2010-05-05"}
OTHER_GP = "7654321"
OTHER_SCHOOL = "923609016"  # a valid organisation number
PERSON = {"name": "Per Hansen", "national_id": "03041050100", "birth_date": "2010-04-03"}


def _oslo_case(api: Api) -> str:
    """A contract offered by the Oslo prosecutor for a youth living in Oslo (0301)."""
    body = {
        **OFFER,
        "youth": OSLO_YOUTH,
        "residence_municipality": "0301",
        "registered_municipality": "0301",
        "gp": OTHER_GP,
        "school": OTHER_SCHOOL,
    }
    response = api.client.post("/contracts", json=body, headers=api.unit("prosecution", "oslo"))
    return str(ok(response, 201)["id"])


def _not_found(response: Any) -> dict[str, Any]:
    assert response.status_code == 404, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_municipality_sees_only_the_cases_of_its_residents(api: Api) -> None:
    trondheim, oslo = offer(api), _oslo_case(api)
    rows = ok(api.get("municipal_health", "/contracts"))["items"]
    assert [r["id"] for r in rows] == [trondheim]
    oslo_rows = ok(api.client.get("/contracts", headers=api.unit("municipal_health", "0301")))["items"]
    assert [r["id"] for r in oslo_rows] == [oslo]
    unknown = _not_found(api.get("municipal_health", f"/contracts/{oslo}"))
    never = _not_found(api.get("municipal_health", "/contracts/00000000-0000-4000-8000-000000000000"))
    assert unknown == never, "an unrelated case answers exactly like one that does not exist"
    # The Oslo prosecutor and Conflict Council office do not see Trondheim's case either.
    assert [
        r["id"] for r in ok(api.client.get("/contracts", headers=api.unit("konfliktrad", "kr-oslo")))["items"]
    ] == [oslo]
    _not_found(api.client.get(f"/contracts/{trondheim}", headers=api.unit("prosecution", "oslo")))


def test_consent_to_gp_and_school_covers_the_registered_ones_only(api: Api) -> None:
    case_id = offer(api)
    activate(
        api,
        case_id,
        scope=[{"agency": "gp", "category": "identity"}, {"agency": "school", "category": "identity"}],
    )
    assert ok(api.client.get(f"/contracts/{case_id}", headers=api.unit("gp", GP_HPR)))["youth"]["name"]
    assert ok(api.client.get(f"/contracts/{case_id}", headers=api.unit("school", SCHOOL)))["youth"]["name"]
    _not_found(api.client.get(f"/contracts/{case_id}", headers=api.unit("gp", OTHER_GP)))
    _not_found(api.client.get(f"/contracts/{case_id}", headers=api.unit("school", OTHER_SCHOOL)))
    assert ok(api.client.get("/contracts", headers=api.unit("gp", OTHER_GP)))["items"] == []


def test_a_new_gp_sees_the_case_from_its_registration_and_the_former_one_nothing_new(api: Api) -> None:
    case_id = offer(api)
    activate(
        api, case_id, scope=[{"agency": "gp", "category": c} for c in ("identity", "terms", "rapid_test")]
    )
    before = ok(api.client.get(f"/contracts/{case_id}", headers=api.unit("gp", GP_HPR)))
    ok(api.post("konfliktrad", f"/contracts/{case_id}/gp", {"hpr": OTHER_GP}))
    rapid_test(api, case_id, ["THC"])
    former = ok(api.client.get(f"/contracts/{case_id}", headers=api.unit("gp", GP_HPR)))
    assert "tests" not in former, "the former GP sees nothing recorded from the change on"
    assert former["version"] == before["version"], "not even that something was recorded"
    new = ok(api.client.get(f"/contracts/{case_id}", headers=api.unit("gp", OTHER_GP)))
    assert new["youth"]["name"] == "Ola Nordmann", "the offer is handed over to the new GP"
    assert new["plan"]["trinn"] == 2, "and the plan in force"
    assert new["tests"][0]["positives"] == ["THC"]


def test_after_a_move_the_former_municipality_keeps_what_it_saw_and_sees_nothing_new(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    before = ok(api.get("municipal_health", f"/contracts/{case_id}"))
    # The Trondheim office hands the case over: its answer is the last it sees of it.
    moved = ok(api.post("konfliktrad", f"/contracts/{case_id}/residence", {"municipality": "4601"}))
    assert moved["residence_municipality"] == "5001" and moved["version"] == before["version"]
    bergen_office = api.unit("konfliktrad", "kr-vest")
    taken_over = ok(api.client.get(f"/contracts/{case_id}", headers=bergen_office))
    assert taken_over["residence_municipality"] == "4601" and taken_over["plan"]["trinn"] == 2
    bergen = api.unit("municipal_health", "4601")
    test = {"kind": "rapid", "purpose": "follow_up", "scheduled_for": "2026-10-20", "random": True}
    ok(api.client.post(f"/contracts/{case_id}/tests", json=test, headers=bergen), 201)
    refused = api.post("municipal_health", f"/contracts/{case_id}/tests", test)
    assert refused.status_code == 403, "the former municipality may no longer act on it"
    former = ok(api.get("municipal_health", f"/contracts/{case_id}"))
    assert former == before, "the former municipality keeps what it saw and sees nothing new"
    assert ok(api.get("municipal_health", "/contracts"))["items"][0]["version"] == before["version"]
    assert ok(api.client.get(f"/contracts/{case_id}", headers=bergen))["tests"], (
        "the new one sees what follows"
    )
    assert [r["id"] for r in ok(api.client.get("/contracts", headers=bergen))["items"]] == [case_id]
    handed_over = api.post("konfliktrad", f"/contracts/{case_id}/gp", {"hpr": OTHER_GP})
    assert handed_over.status_code == 403 and "no longer related" in handed_over.text


def test_a_move_that_ends_the_contract_terminates_it_as_moved_away(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    unknown = api.post("konfliktrad", f"/contracts/{case_id}/residence", {"municipality": "9999"})
    assert unknown.status_code == 422 and "9999" in unknown.text
    move = {"municipality": "5501", "moved_away": True}
    ok(api.post("konfliktrad", f"/contracts/{case_id}/residence", move))
    ended = ok(api.client.get(f"/contracts/{case_id}", headers=api.unit("konfliktrad", "kr-troms")))
    assert ended["status"] == "terminated" and ended["outcome"]["reason"] == "moved_away"
    assert "return_to_prosecution" in ended["allowed_actions"]


def test_an_unknown_municipality_is_refused_at_the_offer(api: Api) -> None:
    response = api.post("prosecution", "/contracts", {**OFFER, "residence_municipality": "9999"})
    assert response.status_code == 422 and "9999" in response.text


def test_police_of_another_district_may_not_act_on_a_case_unless_on_its_team(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    test_id = rapid_test(api, case_id, ["THC"])
    breach = {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"}
    oslo_police = api.unit("police", "oslo", "investigation")
    _not_found(api.client.post(f"/contracts/{case_id}/breaches", json=breach, headers=oslo_police))
    team = ok(api.post("konfliktrad", f"/contracts/{case_id}/team", {"agency": "police", "unit": "oslo"}))
    [member] = [m for m, v in team["team"].items() if v["unit"] == "oslo"]
    ok(api.client.post(f"/contracts/{case_id}/breaches", json=breach, headers=oslo_police), 201)
    ok(api.client.delete(f"/contracts/{case_id}/team/{member}", headers=api.headers("konfliktrad")))
    after = ok(api.client.get(f"/contracts/{case_id}", headers=oslo_police))
    assert after["status"] == "breach_review", "a former member keeps what it saw"


def test_only_the_prevention_role_of_the_police_knows_the_preventive_track(api: Api) -> None:
    created = ok(api.post("police", "/prevention-cases", {"person": PERSON, "municipality": "5001"}), 201)
    path = f"/prevention-cases/{created['id']}"
    assert ok(api.get("police", path))["id"] == created["id"]
    investigator = api.unit("police", "trondelag", "investigation")
    _not_found(api.client.get(path, headers=investigator))
    assert ok(api.client.get("/prevention-cases", headers=investigator)) == []
    _not_found(api.client.get(path, headers=api.unit("police", "oslo", "prevention")))
    assert api.get("prosecution", path).status_code == 403


def test_the_school_never_learns_of_a_breach_through_status_or_version(api: Api) -> None:
    case_id = offer(api)
    activate(
        api, case_id, scope=[{"agency": "school", "category": c} for c in ("identity", "terms", "outcome")]
    )
    test_id = rapid_test(api, case_id, ["THC"])  # its schedule is terms: the school sees that
    before = ok(api.get("school", f"/contracts/{case_id}"))
    ok(
        api.post(
            "konfliktrad",
            f"/contracts/{case_id}/breaches",
            {"kind": "positive_test", "test_id": test_id, "evidence": "rapid THC"},
        ),
        201,
    )
    after = ok(api.get("school", f"/contracts/{case_id}"))
    assert after["status"] == "active" and after["version"] == before["version"]
    [row] = ok(api.get("school", "/contracts"))["items"]
    assert row["status"] == "active" and row["version"] == before["version"]
    assert ok(api.get("konfliktrad", f"/contracts/{case_id}"))["status"] == "breach_review"


def test_an_export_shows_a_unit_only_its_own_cases_and_unknown_ids_like_unrelated_ones(api: Api) -> None:
    case_id = offer(api)
    youth = OFFER["youth"]["national_id"]  # type: ignore[index]
    mine = ok(api.get("konfliktrad", f"/subjects/{youth}/export"))
    assert [c["id"] for c in mine["contracts"]] == [case_id] and "access_log" not in mine
    assert mine["redacted_for"] == "konfliktrad:kr-trondelag"
    elsewhere = _not_found(
        api.client.get(f"/subjects/{youth}/export", headers=api.unit("konfliktrad", "kr-oslo"))
    )
    nobody = _not_found(api.get("konfliktrad", f"/subjects/{fnr(date(2011, 1, 1))}/export"))
    assert elsewhere == nobody
    assert ok(api.get("auditor", f"/subjects/{youth}/export"))["access_log"], "the auditor's is whole"
    page = api.get("konfliktrad", f"/subjects/{youth}/export?format=html")
    assert page.status_code == 200 and "Ola Nordmann" in page.text and "Hvem har sett" not in page.text


def test_exports_have_a_rate_of_their_own(api: Api) -> None:
    offer(api)
    youth = OFFER["youth"]["national_id"]  # type: ignore[index]
    answers = [api.get("konfliktrad", f"/subjects/{youth}/export").status_code for _ in range(31)]
    assert answers[:30] == [200] * 30 and answers[30] == 429


def test_explicit_access_is_time_limited_logged_and_listed_for_the_auditor(api: Api) -> None:
    case_id = offer(api)
    oslo_health = api.unit("municipal_health", "0301", sub="nurse-oslo")
    _not_found(api.client.get(f"/contracts/{case_id}", headers=oslo_health))
    short = api.client.post(
        f"/contracts/{case_id}/access-requests", json={"reason": "x"}, headers=oslo_health
    )
    assert short.status_code == 422
    reason = {"reason": "the youth turned up at the Oslo emergency ward"}
    grant = ok(
        api.client.post(f"/contracts/{case_id}/access-requests", json=reason, headers=oslo_health), 201
    )
    seen = ok(api.client.get(f"/contracts/{case_id}", headers=oslo_health))
    assert seen["youth"]["name"] == "Ola Nordmann" and seen["basis"]["access"] == ["explicit"]
    # The grant is the asking user's, not their unit's.
    _not_found(
        api.client.get(f"/contracts/{case_id}", headers=api.unit("municipal_health", "0301", sub="other"))
    )
    [listed] = ok(api.get("auditor", "/access-requests"))
    assert listed["reason"] == reason["reason"] and listed["until"] == grant["until"]
    assert api.get("konfliktrad", "/access-requests").status_code == 403
    logged = api.container.access_log.query(agency="municipal_health")
    assert any(e["action"] == "access_request" and e["basis"]["access"] == "explicit" for e in logged)
    api.clock.advance(hours=25)
    _not_found(api.client.get(f"/contracts/{case_id}", headers=oslo_health))


def test_explicit_access_never_opens_the_preventive_track(api: Api) -> None:
    created = ok(api.post("police", "/prevention-cases", {"person": PERSON, "municipality": "5001"}), 201)
    reason = {"reason": "looking for the youth's other cases"}
    for agency, role in (("prosecution", None), ("police", "investigation")):
        headers = api.unit(agency, "trondelag", role)
        response = api.client.post(
            f"/contracts/{created['id']}/access-requests", json=reason, headers=headers
        )
        assert response.status_code == 404, (agency, response.text)


def test_a_token_without_a_unit_is_refused_but_the_auditors(api: Api) -> None:
    tokens = api.container.tokens
    for agency in (Agency.KONFLIKTRAD, Agency.MUNICIPAL_HEALTH, Agency.GP, Agency.SCHOOL, Agency.COUNTY):
        token = tokens.issue(agency, "u")
        response = api.client.get("/contracts", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401 and "unit" in response.text, agency
    police = tokens.issue(Agency.POLICE, "p", "trondelag")  # without its role
    assert api.client.get("/contracts", headers={"Authorization": f"Bearer {police}"}).status_code == 401
    auditor = tokens.issue(Agency.AUDITOR, "a")
    assert api.client.get("/contracts", headers={"Authorization": f"Bearer {auditor}"}).status_code == 200


def test_a_unit_streams_only_the_cases_it_is_related_to(api: Api) -> None:
    trondheim = offer(api)
    _oslo_case(api)
    events = api.client.get(
        "/streams/municipal_health?limit=50&timeout=2", headers=api.headers("municipal_health")
    )
    assert events.status_code == 200
    assert trondheim in events.text and OSLO_YOUTH["name"] not in events.text
    oslo = api.client.get(
        "/streams/municipal_health?limit=50&timeout=2", headers=api.unit("municipal_health", "0301")
    )
    assert trondheim not in oslo.text and OSLO_YOUTH["name"] in oslo.text
