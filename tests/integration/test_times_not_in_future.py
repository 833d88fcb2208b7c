"""A meeting or conversation is recorded once it was held: a `held_at` later than the
command's time is refused with a 422 naming the rule, beyond a small clock skew
(`domain/calendar.py CLOCK_SKEW`, 5 minutes; issue 14, finding 6 — both were accepted
before)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from domain.calendar import CLOCK_SKEW
from tests.conftest import Api
from tests.integration.flows import activate, offer, ok
from tests.integration.test_input_validation import PERSON


def _refused(response: Any, rule: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["rule"] == rule, problem
    assert "held at" in problem["detail"], problem


def _conversation(api: Api, held_at: str) -> Any:
    concern = {"person": PERSON, "municipality": "5001"}
    case_id = ok(api.post("police", "/prevention-cases", concern), 201)["id"]
    ok(api.post("police", f"/prevention-cases/{case_id}/conversation-offered"))
    return api.post("police", f"/prevention-cases/{case_id}/conversation-held", {"held_at": held_at})


def test_a_conversation_held_in_the_future_is_refused(api: Api) -> None:
    too_late = api.clock.now + CLOCK_SKEW + timedelta(seconds=1)
    _refused(_conversation(api, too_late.isoformat()), "conversation-held-in-future")


def test_a_conversation_held_within_the_clock_skew_or_before_is_taken(api: Api) -> None:
    for held_at in (api.clock.now + CLOCK_SKEW, api.clock.now - timedelta(days=3)):
        ok(_conversation(api, held_at.isoformat()))


def _meeting(api: Api, case_id: str, held_at: str) -> Any:
    body = {"kind": "conversation", "held_at": held_at, "attended": True, "notes": ""}
    return api.post("municipal_health", f"/contracts/{case_id}/meetings", body)


def test_a_contract_meeting_held_in_the_future_is_refused(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    too_late = api.clock.now + CLOCK_SKEW + timedelta(seconds=1)
    _refused(_meeting(api, case_id, too_late.isoformat()), "held-in-future")


def test_a_contract_meeting_held_within_the_clock_skew_or_before_is_taken(api: Api) -> None:
    case_id = offer(api)
    activate(api, case_id)
    for held_at in (api.clock.now + CLOCK_SKEW, api.clock.now - timedelta(days=3)):
        ok(_meeting(api, case_id, held_at.isoformat()))
