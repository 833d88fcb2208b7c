"""What each agency gets over HTTP is what the policy and the consents allow."""

from __future__ import annotations

from tests.conftest import Api
from tests.integration.flows import activate, offer, ok, rapid_test

PREVENTION_ROUTES = [
    "conversation-offered",
    "conversation-held",
    "conversation-declined",
    "counselling-offered",
    "counselling-accepted",
    "counselling-declined",
    "reported-to-child-welfare",
    "close",
]


def test_the_school_sees_only_the_outcome_it_was_given_consent_for(api: Api) -> None:
    case_id = offer(api)
    activate(
        api,
        case_id,
        scope=[
            {"agency": "school", "category": "outcome"},
            {"agency": "school", "category": "identity"},
        ],
    )
    rapid_test(api, case_id, [])
    school = ok(api.get("school", f"/contracts/{case_id}"))
    assert school["youth"]["name"] == "Ola Nordmann"
    assert not {"offence", "plan", "tests", "meetings", "trinn"} & set(school)
    assert set(school["categories"]) == {"identity"}
    assert school["allowed_actions"] == []


def test_notes_reach_health_and_the_coordinator_but_never_the_prosecutor_or_police(
    api: Api,
) -> None:
    case_id = offer(api)
    activate(api, case_id)
    ok(
        api.post(
            "municipal_health",
            f"/contracts/{case_id}/meetings",
            {
                "kind": "conversation",
                "held_at": "2026-09-10T10:00:00+02:00",
                "attended": True,
                "notes": "private conversation content",
            },
        )
    )
    for agency in ("konfliktrad", "municipal_health"):
        assert ok(api.get(agency, f"/contracts/{case_id}"))["meetings"][0]["notes"]
    for agency in ("prosecution", "police"):
        view = ok(api.get(agency, f"/contracts/{case_id}"))
        assert "meetings" not in view and "private conversation" not in str(view)


def test_the_prosecution_gets_403_on_every_prevention_route(api: Api) -> None:
    case = ok(
        api.post(
            "police",
            "/prevention-cases",
            {
                "person": {"name": "Per Hansen", "national_id": "15011050260", "birth_date": "2010-01-15"},
                "municipality": "5001",
                "source": "charged_buyer",
            },
        ),
        201,
    )
    path = f"/prevention-cases/{case['id']}"
    assert api.get("prosecution", "/prevention-cases").status_code == 403
    assert api.get("prosecution", path).status_code == 403
    assert api.post("prosecution", "/prevention-cases", {}).status_code == 403
    for route in PREVENTION_ROUTES:
        assert api.post("prosecution", f"{path}/{route}", {}).status_code == 403, route


def test_health_sees_a_prevention_case_only_from_accepted_counselling_on(api: Api) -> None:
    case = ok(
        api.post(
            "police",
            "/prevention-cases",
            {
                "person": {"name": "Per Hansen", "national_id": "15011050260", "birth_date": "2010-01-15"},
                "municipality": "5001",
                "summary": "seen buying",
            },
        ),
        201,
    )
    path = f"/prevention-cases/{case['id']}"
    ok(api.post("police", f"{path}/conversation-offered", {"note": "letter sent"}))
    ok(
        api.post(
            "police",
            f"{path}/conversation-held",
            {"held_at": "2026-09-10T09:30:00+02:00", "notes": "police talk"},
        )
    )
    assert api.get("municipal_health", path).status_code == 404
    ok(api.post("police", f"{path}/counselling-offered"))
    ok(api.post("police", f"{path}/counselling-accepted"))
    health = ok(api.get("municipal_health", path))
    assert health["person"]["name"] == "Per Hansen"
    assert [s["type"] for s in health["steps"]] == ["CounsellingAccepted"]
    assert "police talk" not in str(health) and "seen buying" not in str(health)
    police = ok(api.get("police", path))
    assert len(police["steps"]) == 4 and police["summary"] == "seen buying"


def test_a_prevention_case_follows_its_lifecycle_and_its_allowed_actions_narrow(api: Api) -> None:
    case = ok(
        api.post(
            "police",
            "/prevention-cases",
            {
                "person": {"name": "Per Hansen", "national_id": "15011050260", "birth_date": "2010-01-15"},
                "municipality": "5001",
            },
        ),
        201,
    )
    path = f"/prevention-cases/{case['id']}"
    assert case["status"] == "registered"
    assert case["allowed_actions"] == ["offer_conversation", "report_to_child_welfare", "close"]
    early = api.post("police", f"{path}/counselling-offered")
    assert early.status_code == 409 and early.json()["allowed_actions"] == case["allowed_actions"]
    ok(api.post("police", f"{path}/conversation-offered"))
    held = ok(api.post("police", f"{path}/conversation-held", {"held_at": "2026-09-10T09:00:00+02:00"}))
    assert held["status"] == "conversation_held"
    assert api.post("police", f"{path}/conversation-declined").status_code == 409
    ok(api.post("police", f"{path}/counselling-offered"))
    accepted = ok(api.post("police", f"{path}/counselling-accepted"))
    assert accepted["status"] == "counselling_accepted"
    assert accepted["allowed_actions"] == ["report_to_child_welfare", "close"]
    for again in ("counselling-accepted", "counselling-declined"):
        assert api.post("police", f"{path}/{again}").status_code == 409, again
    closed = ok(api.post("police", f"{path}/close", {"reason": "counselling under way"}))
    assert (closed["status"], closed["allowed_actions"]) == ("closed", [])
    assert {row["id"]: row["status"] for row in ok(api.get("police", "/prevention-cases"))}[
        case["id"]
    ] == "closed"  # type: ignore[index, union-attr]


def test_a_prevention_case_needs_a_birth_date_and_the_age_its_source_allows(api: Api) -> None:
    person = {"name": "Per Hansen", "national_id": "15011050260"}
    body = {"person": person, "municipality": "5001"}
    assert api.post("police", "/prevention-cases", body).status_code == 422
    adult = {**body, "person": {**person, "birth_date": "2000-01-01"}}
    problem = api.post("police", "/prevention-cases", adult)
    assert problem.status_code == 422 and problem.json()["rule"] == "prevention-age-out-of-range"
    assert ok(api.post("police", "/prevention-cases", {**adult, "source": "charged_buyer"}), 201)["id"]
