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
                "held_at": "2026-10-25T14:00:00+02:00",
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
                "person": {"name": "Per Hansen", "national_id": "15011012345"},
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
                "person": {"name": "Per Hansen", "national_id": "15011012345"},
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
            {"held_at": "2026-09-12T10:00:00+02:00", "notes": "police talk"},
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
